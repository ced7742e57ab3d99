"""``ServiceCall``: one request to the engine service as a panel sees it.

The engine service answers every request by id on shared signals (``reply``, ``failed``,
``progress``); a call object listens for its own id only and turns the answer into
``done(result)`` / ``failed(message, details)`` / ``progress(done, total)``, always followed
by ``finished``. ``cancel()`` asks the service to stop and drops whatever arrives after, so a
cancelled call never shows a late result. Nothing here waits.
"""
from __future__ import annotations

import time
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

NOT_RUNNING = "the engine service is not running (Help → Restart Engine)"


class ServiceCall(QObject):
    done = Signal(object)        # the reply's result dict
    failed = Signal(str, str)    # message, technical details
    progress = Signal(int, int)  # work done, total
    cancelled = Signal()
    finished = Signal()          # after done, failed or cancelled

    def __init__(self, engine: Any, kind: str, payload: dict, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.kind = kind
        self.payload = payload
        self.id: int | None = None
        self.active = False
        self.started = 0.0
        self.seconds: float | None = None  # from start to the answer

    def start(self) -> "ServiceCall":
        self.active = True
        self.started = time.perf_counter()
        engine = self.engine
        if engine is None:
            QTimer.singleShot(0, lambda: self._failed(None, {"message": NOT_RUNNING}))
            return self
        engine.reply.connect(self._reply)
        engine.failed.connect(self._failed)
        progress = getattr(engine, "progress", None)
        if progress is not None:
            progress.connect(self._progress)
        self.id = engine.request(self.kind, self.payload)
        return self

    def cancel(self) -> None:
        """Stop the request: the service is told, and any late answer is ignored."""
        if not self.active:
            return
        cancel = getattr(self.engine, "cancel", None)
        if cancel is not None and self.id is not None:
            cancel(self.id)
        self._end()
        self.cancelled.emit()
        self.finished.emit()

    # -- the service's answers ------------------------------------------------------------
    def _reply(self, rid: int, result: Any) -> None:
        if self.active and rid == self.id:
            self._end()
            self.done.emit(result if isinstance(result, dict) else {"result": result})
            self.finished.emit()

    def _failed(self, rid: int | None, error: Any) -> None:
        if self.active and rid == self.id:
            self._end()
            error = error if isinstance(error, dict) else {"message": str(error)}
            message = str(error.get("message") or "the request failed")
            self.failed.emit(message[0].upper() + message[1:], str(error.get("details") or ""))
            self.finished.emit()

    def _progress(self, rid: int, info: Any) -> None:
        if self.active and rid == self.id and isinstance(info, dict):
            self.progress.emit(int(info.get("done") or 0), int(info.get("total") or 0))

    def _end(self) -> None:
        self.active = False
        self.seconds = time.perf_counter() - self.started
        engine = self.engine
        if engine is None or not shiboken6.isValid(engine):
            return
        for signal, slot in ((engine.reply, self._reply), (engine.failed, self._failed),
                             (getattr(engine, "progress", None), self._progress)):
            if signal is not None:
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass


def call(studio: Any, kind: str, payload: dict, parent: QObject | None = None) -> ServiceCall:
    """Start ``kind`` on the app's engine service (a failed call when there is none)."""
    return ServiceCall(getattr(studio, "engine", None), kind, payload, parent).start()
