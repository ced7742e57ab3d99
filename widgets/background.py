"""Run a function on the thread pool and get its result back on the GUI thread.

The GUI thread never waits on disk or on a long computation: a ``Task`` runs the function
in ``QThreadPool`` and emits ``done(result)`` / ``failed(exception)`` / ``progress(fraction,
text)`` through queued signals. A cancelled task (or one superseded by a newer one, see
``Latest``) delivers nothing, so stale results never overwrite fresh ones.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

_alive: set["Task"] = set()  # tasks keep themselves alive until they have reported


class Task(QObject):
    done = Signal(object)
    failed = Signal(object)  # the exception
    progress = Signal(float, str)  # fraction in [0, 1] (or -1: unknown), text
    finished = Signal()  # after done or failed, also when cancelled

    def __init__(self, fn: Callable[["Task"], Any]) -> None:
        super().__init__()
        self._fn = fn
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def report(self, fraction: float, text: str = "") -> None:
        """Called by the function (on its thread) to report progress."""
        if not self.cancelled:
            self.progress.emit(float(fraction), text)

    def _run(self) -> None:
        try:
            result = self._fn(self)
        except BaseException as e:  # delivered to the GUI thread, which shows it
            if not self.cancelled:
                self.failed.emit(e)
        else:
            if not self.cancelled:
                self.done.emit(result)
        finally:
            self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task

    def run(self) -> None:
        self.task._run()


def start(fn: Callable[[Task], Any], *, on_done: Callable[[Any], None] | None = None,
          on_error: Callable[[BaseException], None] | None = None,
          on_progress: Callable[[float, str], None] | None = None,
          pool: QThreadPool | None = None) -> Task:
    """Run ``fn(task)`` in the background; callbacks run on the GUI thread."""
    task = Task(fn)
    if on_done:
        task.done.connect(on_done)
    if on_error:
        task.failed.connect(on_error)
    if on_progress:
        task.progress.connect(on_progress)
    _alive.add(task)
    task.finished.connect(lambda: _alive.discard(task))
    (pool or QThreadPool.globalInstance()).start(_Runnable(task))
    return task


class Latest:
    """At most one live task of a kind: starting a new one cancels the previous one."""

    def __init__(self) -> None:
        self.task: Task | None = None

    def start(self, fn: Callable[[Task], Any], **callbacks: Any) -> Task:
        self.cancel()
        self.task = start(fn, **callbacks)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.cancelled and self.task in _alive
