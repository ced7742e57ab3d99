"""A message channel over a connected Unix stream socket (one per child process).

Blocking use (child processes, tests, the CLI): ``send`` and ``recv(timeout)``.
Event-loop use (the app): watch ``fileno()`` for readability, then ``read_available()``
drains whatever complete messages arrived without ever blocking.
Either way, ``None`` from recv / ``closed`` after a read means the peer is gone (EOF).
"""
from __future__ import annotations

import os
import select
import socket
import threading
import time
from typing import Any

from engine.service.wire import FrameBuffer, encode

_CHUNK = 1 << 16


class ChannelClosed(Exception):
    """The peer closed the connection or died."""


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._frames = FrameBuffer()
        self._ready: list[dict[str, Any]] = []
        self._send_lock = threading.Lock()
        self.closed = False  # the peer hung up (EOF) or we closed

    @classmethod
    def from_fd(cls, fd: int) -> "Channel":
        return cls(socket.socket(family=socket.AF_UNIX, type=socket.SOCK_STREAM, fileno=fd))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, msg: dict[str, Any]) -> None:
        data = encode(msg)
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError as e:  # EPIPE, ECONNRESET, EBADF
                self.closed = True
                raise ChannelClosed(str(e)) from None

    def try_send(self, msg: dict[str, Any]) -> bool:
        try:
            self.send(msg)
            return True
        except ChannelClosed:
            return False

    def _read_once(self, flags: int = 0) -> bool:
        """One recv; False at EOF. Raises BlockingIOError when nothing is there (non-blocking)."""
        try:
            data = self.sock.recv(_CHUNK, flags)
        except (ConnectionResetError, OSError) as e:
            if isinstance(e, BlockingIOError):
                raise
            data = b""
        if not data:
            self.closed = True
            return False
        self._ready.extend(self._frames.feed(data))
        return True

    def read_available(self) -> list[dict[str, Any]]:
        """Every complete message that can be read now, without blocking."""
        while not self.closed:
            try:
                if not self._read_once(socket.MSG_DONTWAIT):
                    break
            except BlockingIOError:
                break
        out, self._ready = self._ready, []
        return out

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message; None at EOF. Raises TimeoutError if ``timeout`` passes first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            if self.closed:
                return None
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError("no message from the peer")
            self._read_once()
        return self._ready.pop(0)

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


def channel_pair() -> tuple[Channel, socket.socket]:
    """Our channel and the socket to hand to a child (inheritable, or to pass as an fd)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return Channel(ours), theirs


def close_fd(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
