"""Settings shared by every test: headless Qt, derandomized Hypothesis, per-user dirs in tmp."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Torch in tests uses one thread: two threads on a loaded 2-core machine run many times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
