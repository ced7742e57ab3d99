"""The fork server as seen by the GUI: started on demand, watched by a socket notifier, shared
by the engine service and every training run."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.service.channel import Channel
from engine.service.host import ForkServer, ForkServerError
from studio.services.watch import ChannelWatcher


class HostClient(QObject):
    ready = Signal(dict)
    forked = Signal(int, int)  # request, pid
    fork_failed = Signal(int, str)
    exited = Signal(int, int)  # pid, return code (negative: killed by that signal)
    lost = Signal()  # the fork server itself went away

    def __init__(self, parent: QObject | None = None, *, server: ForkServer | None = None) -> None:
        super().__init__(parent)
        self.server = server or ForkServer()
        self._watcher: ChannelWatcher | None = None
        s = self.server
        s.on_ready.append(lambda info: self.ready.emit(dict(info)))
        s.on_forked.append(lambda req, pid: self.forked.emit(req, pid))
        s.on_fork_failed.append(lambda req, msg: self.fork_failed.emit(req, msg))
        s.on_exit.append(lambda pid, code: self.exited.emit(pid, code))

    @property
    def is_ready(self) -> bool:
        return self.server.ready and self.server.running

    def ensure_started(self) -> None:
        """Start the fork server if it is not running (returns at once)."""
        if self.server.running:
            return
        if self._watcher is not None:
            self._watcher.stop()
        self.server.start()
        self._watcher = ChannelWatcher(self.server.control, self)
        self._watcher.messages.connect(self._on_messages)
        self._watcher.closed.connect(self._on_closed)

    def fork(self, role: str) -> tuple[int, Channel]:
        self.ensure_started()
        return self.server.fork(role)

    def exit_code(self, pid: int) -> int | None:
        return self.server.exits.get(pid)

    def _on_messages(self, msgs: list) -> None:
        for m in msgs:
            self.server.handle(m)

    def _on_closed(self) -> None:
        self.lost.emit()

    def shutdown(self, timeout: float = 5.0) -> None:
        if self._watcher is not None:
            self._watcher.stop(close=False)  # the server's last words are read by shutdown itself
            self._watcher = None
        try:
            self.server.shutdown(timeout)
        except ForkServerError:
            pass
