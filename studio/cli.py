"""The ``layerstudio`` console script.

    layerstudio                       open the app on the built-in sample project
    layerstudio open FILE|RUN_DIR     open a project or a run directory in the app
    layerstudio COMMAND ...           a headless command of engine.cli (check, train, ...)

Nothing here imports Qt or torch until a branch needs it: ``layerstudio check`` stays fast.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

SAMPLE = Path(__file__).resolve().parent.parent / "assets" / "sample.json"
EPILOG = ("without a command, the app opens on the built-in sample project;\n"
          "layerstudio open FILE|RUN_DIR opens a project or a run directory in the app")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return open_app(None)
    if argv[0] == "open":
        if len(argv) != 2 or argv[1].startswith("-"):
            print("layerstudio open: expected one FILE or RUN_DIR (see layerstudio --help)", file=sys.stderr)
            return 2
        target = Path(argv[1])
        if not target.exists():
            print(f"layerstudio open: {target}: no such file or folder", file=sys.stderr)
            return 2
        return open_app(str(target))
    from engine.cli.main import main as engine_main
    return engine_main(argv, extra_epilog=EPILOG)


def open_app(path: str | None) -> int:
    """Start the window (``studio.app.run``); until it exists, show the project's check table."""
    try:
        from studio.app import run
    except ModuleNotFoundError as e:
        if e.name != "studio.app":
            raise
        return _no_window(path)
    return int(run(path) or 0)


def _no_window(path: str | None) -> int:
    from engine.cli.main import main as engine_main
    project = path if path is not None else str(SAMPLE)
    if Path(project).is_dir():
        print(f"layerstudio: {project} is a run directory; the window that follows runs is not available "
              f"yet", file=sys.stderr)
        return 2
    code = engine_main(["check", project])
    print("\nlayerstudio: the window is not available yet; above is what `layerstudio check` reports "
          "for the project.", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
