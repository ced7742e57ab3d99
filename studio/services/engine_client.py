"""``EngineService``: the app's handle on the engine (the fork server and the long-lived
engine service forked from it). ``start`` returns at once; ``ready`` fires when the service
has answered its first request (the device list), typically a few seconds later, while the
window is already in use."""
from __future__ import annotations

import itertools
import signal
import subprocess
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.service.host import ForkServer, ForkServerError
from studio.services.host_client import HostClient
from studio.services.watch import ChannelWatcher

EXIT_WAIT_MS = 1000  # how long to wait for a dead child's exit status before reporting without it


def describe_exit(code: int | None) -> str:
    if code is None:
        return "stopped unexpectedly"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


class EngineService(QObject):
    ready = Signal()
    devices_changed = Signal(list)  # [{"id": "cpu"|"cuda:0", "name", "memory": int|None, "kind"}]
    died = Signal(str)
    reply = Signal(int, object)  # request id, result dict
    failed = Signal(int, object)  # request id, {"message", "details", ...; "cancelled": True after cancel()}
    progress = Signal(int, object)  # request id, {"done", "total"}: long requests, before their answer

    def __init__(self, parent: QObject | None = None, *, server: ForkServer | None = None) -> None:
        super().__init__(parent)
        self.host = HostClient(self, server=server)
        self.host.exited.connect(self._exited)
        self.host.forked.connect(self._forked)
        self.host.lost.connect(self._host_lost)
        self.devices: list[dict] = []
        self.is_ready = False
        self._ids = itertools.count(1)
        self._internal: set[int] = set()  # requests made by this client itself (devices at start)
        self._pending: set[int] = set()
        self._watcher: ChannelWatcher | None = None
        self._req: int | None = None  # fork request of the service process
        self.pid: int | None = None
        self._dying = False  # the service closed: waiting for its exit status
        self._reported = False  # its death was reported (once per start)
        self._shut = False

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine in the background (non-blocking). Restarts a service that died."""
        if self._watcher is not None and self._watcher.active:
            return
        self._shut = False
        self._dying = False
        self._reported = False
        self.is_ready = False
        self.pid = None
        try:
            self._req, channel = self.host.fork("service")
        except ForkServerError as e:
            message = f"the engine could not start: {e}"  # `e` is unbound once the except block ends
            self._reported = True
            QTimer.singleShot(0, lambda: self.died.emit(message))
            return
        self._watcher = ChannelWatcher(channel, self)
        self._watcher.messages.connect(self._on_messages)
        self._watcher.closed.connect(self._on_closed)
        self._request("devices", {}, internal=True)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the service, the fork server and any worker left (after ``timeout``). Idempotent."""
        self._shut = True
        if self._watcher is not None:
            self._watcher.channel.try_send({"op": "shutdown"})
            self._watcher.stop()
            self._watcher = None
        self.host.shutdown(timeout)
        for rid in sorted(self._pending):
            if rid not in self._internal:
                self.failed.emit(rid, {"message": "the engine was shut down", "details": ""})
        self._pending.clear()

    # -- requests -----------------------------------------------------------------------------
    def request(self, kind: str, payload: dict | None = None) -> int:
        """Send a request; the answer comes as ``reply(id, result)`` or ``failed(id, error)``."""
        return self._request(kind, payload or {}, internal=False)

    def cancel(self, request_id: int) -> None:
        """Ask the service to stop a long request (or to skip it, if it has not started). Its
        answer still comes, as ``failed(id, {"message": "cancelled", "cancelled": True})``,
        unless it had already finished."""
        if request_id in self._pending and self._watcher is not None and self._watcher.active:
            self._watcher.channel.try_send({"op": "cancel", "id": request_id})

    def refresh_devices(self) -> int:
        return self._request("devices", {}, internal=True)

    def _request(self, kind: str, payload: dict, *, internal: bool) -> int:
        rid = next(self._ids)
        if internal:
            self._internal.add(rid)
        if self._watcher is None or not self._watcher.active:
            QTimer.singleShot(0, lambda: self._fail(rid, "the engine service is not running"))
            return rid
        self._pending.add(rid)
        # queued in the socket even while the service is still starting
        if not self._watcher.channel.try_send({"id": rid, "kind": kind, "payload": payload}):
            self._pending.discard(rid)
            QTimer.singleShot(0, lambda: self._fail(rid, "the engine service is not running"))
        return rid

    def _fail(self, rid: int, message: str) -> None:
        if rid not in self._internal:
            self.failed.emit(rid, {"message": message, "details": ""})

    # -- messages -----------------------------------------------------------------------------
    def _forked(self, req: int, pid: int) -> None:
        if req == self._req:
            self.pid = pid

    def _on_messages(self, msgs: list) -> None:
        for m in msgs:
            rid = m.get("id")
            if "progress" in m:  # not an answer: the request goes on
                if rid in self._pending and rid not in self._internal:
                    self.progress.emit(rid, m["progress"])
                continue
            self._pending.discard(rid)
            internal = rid in self._internal
            self._internal.discard(rid)
            if m.get("ok"):
                result = m.get("result") or {}
                if "devices" in result and internal:
                    self.devices = list(result["devices"])
                if not self.is_ready:
                    self.is_ready = True
                    self.ready.emit()
                if internal:
                    self.devices_changed.emit(list(self.devices))
                else:
                    self.reply.emit(rid, result)
            elif not internal:
                self.failed.emit(rid, m.get("error") or {"message": "unknown error", "details": ""})

    def _on_closed(self) -> None:
        self._watcher = None
        if self._shut or self._reported:
            return
        for rid in sorted(self._pending):
            self._fail(rid, "the engine service stopped")
        self._pending.clear()
        self.is_ready = False
        self._dying = True
        code = self.host.exit_code(self.pid) if self.pid else None
        if code is not None:
            self._report_death(code)
        else:  # its exit status arrives through the fork server, usually within milliseconds
            QTimer.singleShot(EXIT_WAIT_MS, lambda: self._report_death(None))

    def _host_lost(self) -> None:
        """The fork server itself ended. Before it was ready that is the engine failing to start
        (a broken installation): say so with its exit status. Once ready, the service process
        lives on by itself and only its own end matters."""
        if self._shut or self.is_ready:
            return
        if self._reported:
            return
        proc = self.host.server.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(0.2)  # it closed its socket because it is exiting: a moment at most
            except subprocess.TimeoutExpired:
                pass
        self._dying = True
        self._report_death(code, "the engine could not start: its process {}")

    def _exited(self, pid: int, code: int) -> None:
        if pid == self.pid and self._dying:
            self._report_death(code)

    def _report_death(self, code: int | None, template: str = "the engine service {}") -> None:
        if not self._dying or self._shut:
            return
        self._dying = False
        self._reported = True
        self.died.emit(template.format(describe_exit(code)))

    # -- for callers that hold state about the engine -----------------------------------------
    @property
    def running(self) -> bool:
        return self._watcher is not None and self._watcher.active

    def info(self) -> dict[str, Any]:
        return {"ready": self.is_ready, "pid": self.pid, "devices": list(self.devices)}
