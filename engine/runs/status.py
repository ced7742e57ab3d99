"""``status.json``: the run's state, its process, a heartbeat, progress, and the error if any.

The trainer rewrites it atomically on every state change and as a heartbeat while it runs.
A reader cannot trust "running" alone (the process may have been killed), so
``effective_state`` turns a "running" whose process is gone, or whose heartbeat stopped, into
"interrupted": the app offers to resume such runs.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from engine.runs.atomic import write_json_atomic

#: every state a run directory can be in (DESIGN.md)
STATES = ("running", "finished", "stopped", "failed", "interrupted")
#: a "running" run on another host is considered interrupted after this long without heartbeat
STALE_AFTER_S = 120.0


def new_status(*, epochs: int, pid: int | None = None) -> dict[str, Any]:
    now = time.time()
    return {"state": "running", "pid": pid if pid is not None else os.getpid(), "host": socket.gethostname(),
            "started": now, "heartbeat": now, "paused": False, "epoch": 0, "epochs": epochs, "step": 0,
            "checkpoint": None, "best": None, "error": None}


def write_status(path: str | os.PathLike, status: dict[str, Any], *, fsync: bool = True) -> None:
    assert status.get("state") in STATES, status.get("state")
    status["heartbeat"] = time.time()
    write_json_atomic(path, status, fsync=fsync)


def read_status(path: str | os.PathLike) -> dict[str, Any] | None:
    """The status dict, or None if the file is missing or unreadable (a run being created)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OSError, OverflowError, TypeError):
        return False
    # a zombie is dead for our purposes (its parent has not reaped it yet)
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


def effective_state(status: dict[str, Any] | None, *, now: float | None = None) -> str | None:
    """The state to show: "running" only if the writer is still alive."""
    if not status:
        return None
    state = status.get("state")
    if state != "running":
        return state if state in STATES else None
    now = time.time() if now is None else now
    pid, host = status.get("pid"), status.get("host")
    if host == socket.gethostname() and isinstance(pid, int):
        return "running" if pid_alive(pid) else "interrupted"
    beat = status.get("heartbeat")
    if not isinstance(beat, (int, float)) or now - beat > STALE_AFTER_S:
        return "interrupted"
    return "running"


def mark_ended(path: str | os.PathLike, state: str, error: dict[str, Any] | None = None) -> bool:
    """Record the end of a run whose process could not (it was killed): only a status that
    still says "running" is changed. Returns whether the file was rewritten."""
    status = read_status(path)
    if not status or status.get("state") != "running":
        return False
    status["state"] = state
    status["paused"] = False
    if error is not None:
        status["error"] = {k: v for k, v in error.items() if k != "details"}
    write_status(path, status)
    return True
