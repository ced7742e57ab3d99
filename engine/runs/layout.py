"""Where each file of a run directory lives, how a new one is named, and stale-file cleanup."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from engine.errors import RunDirError
from engine.runs.atomic import TMP_SUFFIX

PROJECT = "project.json"
CONFIG = "config.json"
STATUS = "status.json"
METRICS = "metrics.jsonl"
LOG = "log.txt"
CHECKPOINTS = "checkpoints"
PROBES = "probes"

RUNS_FOLDER = "runs"  # default parent, beside the project file


class RunDir:
    """Paths of one run directory. Creating the object touches nothing on disk."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    project = property(lambda self: self.path / PROJECT)
    config = property(lambda self: self.path / CONFIG)
    status = property(lambda self: self.path / STATUS)
    metrics = property(lambda self: self.path / METRICS)
    log = property(lambda self: self.path / LOG)
    checkpoints = property(lambda self: self.path / CHECKPOINTS)
    probes = property(lambda self: self.path / PROBES)

    def create(self) -> "RunDir":
        """Make the folder and its sub-folders; an existing run directory is refused."""
        if self.status.exists():
            raise RunDirError(f"{self.path} already holds a run; use --resume to continue it or choose "
                              "another --run-dir", key="run_dir")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)
            self.probes.mkdir(exist_ok=True)
        except OSError as e:
            raise RunDirError(f"cannot create the run directory {self.path}: {e.strerror or e}",
                              key="run_dir") from None
        return self

    def is_run(self) -> bool:
        return self.status.is_file() or self.config.is_file()

    def read_json(self, which: Path) -> Any:
        try:
            return json.loads(which.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{self.path}: {which.name} is missing", key="run_dir") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunDirError(f"{self.path}: {which.name} cannot be read ({e})", key="run_dir") from None

    def clean_stale_temps(self) -> list[Path]:
        """Remove temp files left by a writer that died mid-write (``.NAME.*.tmp``)."""
        removed = []
        for folder in (self.path, self.checkpoints, self.probes):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX) and p.is_file():
                    try:
                        p.unlink()
                        removed.append(p)
                    except OSError:
                        pass
        return removed


def open_run(path: str | os.PathLike) -> RunDir:
    """An existing run directory, or ``RunDirError``."""
    run = RunDir(path)
    if not run.path.is_dir():
        raise RunDirError(f"{run.path}: no such run directory", key="run_dir")
    if not run.is_run():
        raise RunDirError(f"{run.path} is not a run directory (no {STATUS} or {CONFIG})", key="run_dir")
    return run


def slug(name: str) -> str:
    """A file-name-safe form of a project name ("LeNet-5 on shapes" → "LeNet-5-on-shapes")."""
    s = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-.")
    return s[:80] or "run"


def timestamp(t: float | None = None) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if t is None else t))


def new_run_path(parent: str | os.PathLike, name: str, t: float | None = None) -> Path:
    """``parent/<name>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``… if that exists already."""
    base = Path(parent) / f"{slug(name)}-{timestamp(t)}"
    path, i = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path


def default_runs_parent(project_file: str | os.PathLike | None) -> Path:
    """``runs/`` beside the project file (the current folder for an unsaved project)."""
    return (Path(project_file).resolve().parent if project_file else Path.cwd()) / RUNS_FOLDER
