"""One warm fork server for every engine-process test (starting one imports torch: seconds),
and helpers to drive a training worker over its channel."""
import copy
import json
import os
import time
from pathlib import Path

import pytest

from engine.runs import events as ev
from engine.service.host import ForkServer

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())


def tiny_project(**training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["name"] = "svc"
    doc["dataset"] = {"source": "builtin:shapes", "size": 192, "val_fraction": 0.25, "seed": 0}
    doc["training"] = {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}, **training}
    return doc


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def host():
    h = ForkServer()
    h.start()
    info = h.wait_ready(180)
    assert info["errors"] == [], info["errors"]
    server_pid = h.proc.pid
    yield h
    h.shutdown(15)
    leaked = [p for p in [server_pid, *h.pids.values()] if alive(p)]
    assert not leaked, f"processes left running: {leaked}"


class Worker:
    """A training worker driven like the app drives it, with blocking waits (tests only)."""

    def __init__(self, host: ForkServer, request: dict) -> None:
        self.host = host
        self.t0 = time.monotonic()
        self.req, self.channel = host.fork("worker")
        self.channel.send({"cmd": "start", "request": request})
        self.events: list = []
        self.closed_at: float | None = None

    @property
    def pid(self) -> int:
        return self.host.wait_pid(self.req)

    def next(self, timeout: float = 60.0):
        msg = self.channel.recv(timeout)
        if msg is None:
            if self.closed_at is None:
                self.closed_at = time.monotonic()
            return None
        e = ev.event_from_dict(msg["event"])
        self.events.append(e)
        return e

    def until(self, pred, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while True:
            e = self.next(max(0.01, deadline - time.monotonic()))
            if e is None or pred(e):
                return e

    def finish(self, timeout: float = 120.0) -> ev.Finished:
        e = self.until(lambda e: isinstance(e, ev.Finished), timeout)
        assert isinstance(e, ev.Finished), self.events[-3:]
        return e

    def send(self, cmd: str) -> None:
        self.channel.send({"cmd": cmd})

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]

    def exit_code(self, timeout: float = 30.0) -> int:
        return self.host.wait_exit(self.pid, timeout)


@pytest.fixture
def worker(host):
    made = []

    def start(**request):
        w = Worker(host, request)
        made.append(w)
        return w
    yield start
    for w in made:  # never leave a worker running after its test
        pid = host.pids.get(w.req)
        if pid and pid not in host.exits:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            host.wait_exit(pid, 10)
        w.channel.close()
