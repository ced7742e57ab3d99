"""The fork server: imports torch (and the engine) once, then forks the engine service and the
training workers on request, so a run starts in milliseconds instead of seconds.

    python -m engine.service.zygote FD

FD is a connected Unix stream socket to the app (the control channel). It never touches CUDA
(a forked child of a process that initialised CUDA cannot use it): each child initialises
what it needs itself. Messages (engine.service.wire frames):

    app → zygote   {"op": "fork", "req": N, "role": "service"|"worker"} + one fd (the child's socket)
                   {"op": "shutdown"}
    zygote → app   {"op": "ready", "pid", "preloaded": [...], "errors": [...]}
                   {"op": "forked", "req": N, "pid": P}   {"op": "fork_failed", "req": N, "message"}
                   {"op": "exited", "pid": P, "returncode": R}   (R < 0: killed by signal -R)

When the app goes away (EOF on the control socket) or asks for shutdown, every child gets
SIGTERM: the service ends, training workers checkpoint and end; they get up to
WORKER_GRACE_S for it before the fork server kills what is left and exits.
"""
from __future__ import annotations

import importlib
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback

from engine.service.channel import Channel
from engine.service.wire import decode_body

#: what the children need, imported before any fork
PRELOAD = ("torch", "torch._dynamo", "engine.train.trainer", "engine.service.worker", "engine.service.server")
ROLES = {"service": "engine.service.server", "worker": "engine.service.worker"}
WORKER_GRACE_S = 60.0  # how long workers may take to checkpoint after the app went away
POLL_S = 0.05  # reaping interval: an exit is reported within this


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """Exactly n bytes (never more: the byte after a fork request carries its fd)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_request(sock: socket.socket) -> tuple[dict | None, int | None]:
    head = _recv_exact(sock, 8)
    if head is None:
        return None, None
    length, json_len = struct.unpack("!II", head)
    body = _recv_exact(sock, length - 4)
    if body is None:
        return None, None
    msg = decode_body(body, json_len)
    fd = None
    if msg.get("fd"):
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)
        fd = fds[0] if fds else None
    return msg, fd


def preload() -> tuple[list[str], list[str]]:
    done, errors = [], []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception as e:  # a broken module must not stop the server; its role reports it
            errors.append(f"{name}: {type(e).__name__}: {e}")
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():  # pragma: no cover - a preloaded module misbehaved
        errors.append("CUDA was initialised while preloading; GPU runs will fail in forked workers")
    return done, errors


def _child(role: str, fd: int, control: socket.socket) -> None:
    """In the forked child: become the role; never return into the server loop."""
    code = 1
    try:
        control.close()  # the app's EOF detection on the server must not depend on children
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the app's terminal is the app's business
        module = importlib.import_module(ROLES[role])
        code = int(module.main(fd) or 0)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Server:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.out = Channel(control)
        self.children: dict[int, str] = {}

    def fork(self, role: str, fd: int) -> int:
        pid = os.fork()
        if pid == 0:
            _child(role, fd, self.control)
        os.close(fd)
        self.children[pid] = role
        return pid

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.pop(pid, None)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            self.out.try_send({"op": "exited", "pid": pid, "returncode": code})

    def serve(self) -> None:
        done, errors = preload()
        for e in errors:
            print(f"layerstudio engine: preload failed: {e}", file=sys.stderr)
        self.out.try_send({"op": "ready", "pid": os.getpid(), "preloaded": done, "errors": errors})
        while True:
            r, _, _ = select.select([self.control], [], [], POLL_S)
            self.reap()
            if not r:
                continue
            try:
                msg, fd = read_request(self.control)
            except (OSError, ValueError):
                msg, fd = None, None
            if msg is None or msg.get("op") == "shutdown":
                break
            if msg.get("op") == "fork":
                self._fork_request(msg, fd)
            elif fd is not None:
                os.close(fd)
        self.wind_down()

    def _fork_request(self, msg: dict, fd: int | None) -> None:
        req, role = msg.get("req"), msg.get("role")
        if fd is None or role not in ROLES:
            if fd is not None:
                os.close(fd)
            self.out.try_send({"op": "fork_failed", "req": req, "message": f"bad fork request (role {role!r})"})
            return
        try:
            pid = self.fork(role, fd)
        except OSError as e:
            os.close(fd)
            self.out.try_send({"op": "fork_failed", "req": req, "message": f"cannot start a process: {e}"})
            return
        self.out.try_send({"op": "forked", "req": req, "pid": pid})

    def wind_down(self) -> None:
        """The app is gone or leaving: SIGTERM ends a service at once and makes a worker stop at
        its next step with a checkpoint; wait for them (bounded), then leave."""
        for pid in list(self.children):
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + WORKER_GRACE_S
        while self.children and time.monotonic() < deadline:
            self.reap()
            time.sleep(POLL_S)
        for pid in list(self.children):
            _kill(pid, signal.SIGKILL)
        self.reap()


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=int(argv[0]))
    Server(control).serve()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip the interpreter's slow teardown of torch: nothing is left to clean up


if __name__ == "__main__":
    main()
