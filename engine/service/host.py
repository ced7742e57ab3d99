"""Start and drive the fork server from the app (or a test, or any torch-free process).

    host = ForkServer()
    host.start()                          # returns at once; the server imports torch meanwhile
    req, channel = host.fork("worker")    # returns at once; the child runs when the server is ready
    ...                                   # read host.control for "ready"/"forked"/"exited"
    host.shutdown()

Nothing here blocks on a child unless asked to (the ``wait_*`` helpers, for tests and
scripts); the app watches ``host.control`` and each child's channel with socket notifiers and
calls ``host.handle`` with what it reads. No torch: this module is imported by the GUI.
"""
from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from engine.service.channel import Channel, ChannelClosed
from engine.service.wire import encode

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the engine package


class ForkServerError(Exception):
    """The fork server could not be started or has gone away."""


class ForkServer:
    def __init__(self, *, python: str | None = None, env: dict[str, str] | None = None) -> None:
        self.python = python or sys.executable
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.control: Channel | None = None
        self.ready = False
        self.ready_info: dict[str, Any] = {}
        self.pids: dict[int, int] = {}  # fork request -> child pid
        self.exits: dict[int, int] = {}  # child pid -> return code (negative: signal)
        self.fork_errors: dict[int, str] = {}
        self.children: set[int] = set()  # pids forked and not yet reported exited
        self._req = itertools.count(1)
        # observers (called from whoever calls ``handle``: the GUI thread in the app)
        self.on_ready: list[Callable[[dict], None]] = []
        self.on_forked: list[Callable[[int, int], None]] = []
        self.on_exit: list[Callable[[int, int], None]] = []
        self.on_fork_failed: list[Callable[[int, str], None]] = []
        self.on_lost: list[Callable[[], None]] = []

    # -- life cycle -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.control is not None \
            and not self.control.closed

    def start(self) -> None:
        """Launch the server process (non-blocking). A second call while it runs does nothing."""
        if self.running:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        try:
            self.proc = subprocess.Popen([self.python, "-m", "engine.service.zygote", str(theirs.fileno())],
                                         pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                                         cwd=str(ROOT), close_fds=True)
        except OSError as e:
            ours.close()
            raise ForkServerError(f"cannot start the engine: {e}") from None
        finally:
            theirs.close()
        self.control = Channel(ours)
        self.ready = False

    def fork(self, role: str) -> tuple[int, Channel]:
        """Ask for a child ("service" or "worker"). Returns the request id and our channel to it.

        The request is queued in the socket if the server is still importing torch; the pid
        arrives later as a "forked" message (see ``handle``)."""
        if not self.running:
            raise ForkServerError("the engine is not running")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        req = next(self._req)
        try:
            with self.control._send_lock:
                self.control.sock.sendall(encode({"op": "fork", "req": req, "role": role, "fd": True}))
                socket.send_fds(self.control.sock, [b"F"], [theirs.fileno()])
        except OSError as e:
            ours.close()
            raise ForkServerError(f"the engine is not answering: {e}") from None
        finally:
            theirs.close()  # the child's end lives on in the server (in flight) and then the child
        return req, Channel(ours)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the server and every child: services at once, workers after their checkpoint,
        bounded by ``timeout`` (then the server and what is left of its children are killed).
        Safe to call twice."""
        if self.proc is None:
            return
        if self.control is not None and not self.control.closed:
            self.control.try_send({"op": "shutdown"})
        try:
            self.proc.wait(timeout)  # a clean exit: the server has reaped all its children
        except subprocess.TimeoutExpired:
            # children not reported exited are still the (hung) server's, alive or zombies:
            # their pids cannot have been reused yet
            for pid in list(self.children):
                _kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
        if self.control is not None:
            if not self.control.closed:
                for msg in self.control.read_available():  # the last exit reports
                    self.handle(msg)
            self.control.close()
        self.children.clear()
        self.proc = None
        self.ready = False

    # -- messages from the server ------------------------------------------------------------
    def read_available(self) -> list[dict]:
        """Handle whatever the server sent (non-blocking); notices a lost server."""
        if self.control is None:
            return []
        msgs = self.control.read_available()
        for m in msgs:
            self.handle(m)
        if self.control.closed:
            self._lost()
        return msgs

    def handle(self, msg: dict) -> None:
        op = msg.get("op")
        if op == "ready":
            self.ready, self.ready_info = True, msg
            for cb in list(self.on_ready):
                cb(msg)
        elif op == "forked":
            self.pids[msg["req"]] = msg["pid"]
            self.children.add(msg["pid"])
            for cb in list(self.on_forked):
                cb(msg["req"], msg["pid"])
        elif op == "fork_failed":
            self.fork_errors[msg["req"]] = msg.get("message", "")
            for cb in list(self.on_fork_failed):
                cb(msg["req"], msg.get("message", ""))
        elif op == "exited":
            self.exits[msg["pid"]] = msg["returncode"]
            self.children.discard(msg["pid"])
            for cb in list(self.on_exit):
                cb(msg["pid"], msg["returncode"])

    def _lost(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        for cb in list(self.on_lost):
            cb()
        self.on_lost.clear()

    # -- blocking helpers (tests, scripts; never the GUI thread) -------------------------------
    def _pump(self, until: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            try:
                msg = self.control.recv(timeout=left)
            except TimeoutError:
                continue
            if msg is None:
                raise ForkServerError(f"the engine went away while waiting for {what}")
            self.handle(msg)

    def wait_ready(self, timeout: float = 60.0) -> dict:
        self._pump(lambda: self.ready, timeout, "the engine to start")
        return self.ready_info

    def wait_pid(self, req: int, timeout: float = 30.0) -> int:
        self._pump(lambda: req in self.pids or req in self.fork_errors, timeout, "a new process")
        if req in self.fork_errors:
            raise ForkServerError(self.fork_errors[req])
        return self.pids[req]

    def wait_exit(self, pid: int, timeout: float = 30.0) -> int:
        self._pump(lambda: pid in self.exits, timeout, f"process {pid} to exit")
        return self.exits[pid]


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


__all__ = ["ChannelClosed", "ForkServer", "ForkServerError"]
