"""Read an engine channel from the Qt event loop: a QSocketNotifier wakes us when bytes
arrive, we drain the complete messages without blocking, and EOF (the peer died or left)
becomes ``closed``. Everything runs on the thread that owns the watcher (the GUI thread)."""
from __future__ import annotations

from PySide6.QtCore import QObject, QSocketNotifier, Signal

from engine.service.channel import Channel
from engine.service.wire import ProtocolError


class ChannelWatcher(QObject):
    messages = Signal(list)  # list of message dicts, in order
    closed = Signal()

    def __init__(self, channel: Channel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.channel = channel
        self._done = False
        self._notifier = QSocketNotifier(channel.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)

    def _readable(self, *args) -> None:
        if self._done:
            return
        try:
            msgs = self.channel.read_available()
        except ProtocolError:
            msgs = []
            self.channel.closed = True  # a peer that speaks garbage is as good as gone
        if msgs:
            self.messages.emit(msgs)
        if self.channel.closed and not self._done:
            self.stop()
            self.closed.emit()

    def stop(self, *, close: bool = True) -> None:
        """Stop watching (and close the channel unless told not to). Idempotent."""
        if not self._done:
            self._done = True
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
        if close:
            self.channel.close()

    @property
    def active(self) -> bool:
        return not self._done
