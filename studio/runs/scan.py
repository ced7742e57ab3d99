"""List the run directories of some folders (``runs/`` beside each open project): runs on the
thread pool, returns plain data. What does not change once written (config, the FLOPs of the
project snapshot) is read once per folder and cached by the caller."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from engine.runs.layout import CONFIG, PROJECT, STATUS, RunDir
from engine.runs.status import effective_state, read_status
from studio.runs.follower import project_flops, json_or_none


@dataclass
class Found:
    path: Path
    status: dict[str, Any] | None
    state: str | None
    mtime: float
    config: dict[str, Any] | None = None  # only for a folder not seen before
    project: dict[str, Any] | None = None
    flops: int | None = None


def is_run_dir(path: Path) -> bool:
    return (path / STATUS).is_file() or (path / CONFIG).is_file()


def scan(folders: Iterable[Path], known: set[Path]) -> list[Found]:
    """Every run directory directly under ``folders``; ``known`` ones come without config/project."""
    out = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if not is_run_dir(path):
                continue
            out.append(describe(path, full=path not in known))
    return out


def describe(path: Path, *, full: bool = True) -> Found:
    run = RunDir(path)
    status = read_status(run.status)
    try:
        mtime = (run.status if run.status.exists() else path).stat().st_mtime
    except OSError:
        mtime = 0.0
    found = Found(path, status, effective_state(status) if status else None, mtime)
    if full:
        found.config = json_or_none(run, run.config)
        found.project = json_or_none(run, path / PROJECT)
        found.flops = project_flops(found.project)
    return found
