"""Follow a run directory from the GUI: a QTimer asks for an incremental read, which runs on
the thread pool (status.json, the new lines of metrics.jsonl), and the result comes back as
one ``DiskUpdate`` on the GUI thread. One read at a time; polling stops once the run is no
longer running (the run's owner may start it again with ``start``).

Works for any writer: the app's own workers, ``layerstudio train`` in a terminal, or
``torchrun`` on another machine writing to a shared folder (``effective_state`` turns a dead
writer into "interrupted").
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.errors import LayerStudioError
from engine.runs import events as ev
from engine.runs.layout import RunDir
from engine.runs.metrics import MetricsReader
from engine.runs.status import effective_state, read_status
from studio.runs.rows import rows_to_events
from widgets import background

POLL_MS = 500


@dataclass
class DiskUpdate:
    status: dict[str, Any] | None
    state: str | None
    first: bool = False  # the first read: config and project below, every row so far
    reset: bool = False  # metrics.jsonl was rewritten (a resume dropped rows): history starts over
    config: dict[str, Any] | None = None
    project: dict[str, Any] | None = None
    flops: int | None = None
    train: dict[str, np.ndarray] | None = None  # the new training rows as columns
    val: dict[str, np.ndarray] | None = None
    events: list[ev.Event] = field(default_factory=list)


def json_or_none(run: RunDir, which: Path) -> dict[str, Any] | None:
    try:
        data = run.read_json(which)
    except LayerStudioError:
        return None
    return data if isinstance(data, dict) else None


def project_flops(project: dict[str, Any] | None) -> int | None:
    """Forward FLOPs per sample of the run's model (pure-Python inference)."""
    if not project:
        return None
    try:
        from engine.graph.inference import Inference
        from engine.project.io import from_dict
        inf = Inference(from_dict(project).graph)
        try:
            totals = inf.totals()
            return int(totals.flops) if totals.complete else None
        finally:
            inf.close()
    except (LayerStudioError, ValueError, TypeError, KeyError):
        return None


def _columns(rows: list[dict[str, Any]], split: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    sel = [r for r in rows if r.get("split") == split]
    out = {}
    for k in names:
        dtype = np.int64 if k in ("step", "epoch") else np.float64
        if dtype is np.int64:
            out[k] = np.fromiter((int(r.get(k) or 0) for r in sel), dtype, len(sel))
        else:
            out[k] = np.fromiter((np.nan if r.get(k) is None else float(r[k]) for r in sel), dtype, len(sel))
    return out


class _Reader:
    """The state of the incremental read; used by one pool thread at a time."""

    def __init__(self, path: Path) -> None:
        self.run = RunDir(path)
        self.metrics = MetricsReader(self.run.metrics)
        self.inode: int | None = None
        self.first = True

    def read(self) -> DiskUpdate:
        from studio.runs.history import TRAIN, VAL
        status = read_status(self.run.status)
        update = DiskUpdate(status=status, state=effective_state(status), first=self.first)
        if self.first:
            update.config = json_or_none(self.run, self.run.config)
            update.project = json_or_none(self.run, self.run.project)
            update.flops = project_flops(update.project)
        try:
            inode = os.stat(self.run.metrics).st_ino
        except OSError:
            inode = None
        if inode is not None and self.inode is not None and inode != self.inode:
            # rewritten in place by a resume (atomic replace: a new inode): read it all again
            self.metrics = MetricsReader(self.run.metrics)
            update.reset = True
        self.inode = inode
        rows = self.metrics.read_new()
        if rows:
            update.train = _columns(rows, "train", TRAIN)
            update.val = _columns(rows, "val", VAL)
            update.events = rows_to_events(rows, coalesce=self.first or update.reset)
        self.first = False
        return update


class RunFollower(QObject):
    updated = Signal(object)  # DiskUpdate
    failed = Signal(object)  # the exception of a read that went wrong (the folder vanished…)

    def __init__(self, path: str | os.PathLike, interval_ms: int = POLL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = _Reader(Path(path))
        self._task: background.Task | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self.following = False

    def start(self) -> None:
        """Read now, and keep reading while the run is running."""
        self.following = True
        self.poll()

    def stop(self) -> None:
        self.following = False
        self._timer.stop()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    def poll(self) -> None:
        if self._task is not None:
            return  # the previous read is still going: the next tick asks again
        self._task = background.start(lambda task, r=self._reader: r.read(), on_done=self._done,
                                      on_error=self._error)

    def _done(self, update: DiskUpdate) -> None:
        self._task = None
        if not self.following:
            return
        if update.state == "running":
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            self.following = False
        self.updated.emit(update)

    def _error(self, exc: BaseException) -> None:
        self._task = None
        self.stop()
        self.failed.emit(exc)
