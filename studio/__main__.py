"""``python -m studio`` is the ``layerstudio`` console script."""
import sys

from studio.cli import main

sys.exit(main())
