"""Where runs live: ``runs/`` beside the project file; for a project never saved, a ``runs``
folder in the app's data folder (under ``LAYERSTUDIO_HOME`` when set), never the current
directory (which, for an app started from a menu, is anywhere) nor the app's own folder of
samples. Names are reserved up front
so that runs queued in the same second (a sweep) get distinct folders."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import platformdirs

from engine.runs.layout import default_runs_parent, slug, timestamp
from studio.settings import APP

ASSETS = Path(__file__).resolve().parents[2] / "assets"  # the sample and templates ship here (read-only)


def runs_parent(project_path: str | os.PathLike | None) -> Path:
    if project_path and not Path(project_path).resolve().is_relative_to(ASSETS):
        return default_runs_parent(project_path)
    home = os.environ.get("LAYERSTUDIO_HOME")
    return (Path(home) if home else Path(platformdirs.user_data_dir(APP, APP))) / "runs"


def reserve_run_dir(parent: Path, name: str, taken: Iterable[Path] = ()) -> Path:
    """``parent/<name>-<YYYYmmdd-HHMMSS>`` not on disk and not ``taken`` (-2, -3… otherwise)."""
    taken = {Path(p) for p in taken}
    base = parent / f"{slug(name)}-{timestamp()}"
    path, i = base, 2
    while path in taken or path.exists():
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path
