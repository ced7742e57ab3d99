"""The engine service: one long-lived forked process answering the app's requests that need
torch (device list, build/verify, later classify, attributions, import, export).

    app → service   {"id": N, "kind": "devices", "payload": {...}}   |   {"op": "shutdown"}
    service → app   {"id": N, "ok": true, "result": {...}}
                    {"id": N, "ok": false, "error": {"message", "details", "node", "key"}}

Requests are answered in order. A bad request is an error reply, never the end of the
service; the service ends when the app closes the socket (or dies).
"""
from __future__ import annotations

import traceback
from typing import Any

from engine.errors import LayerStudioError
from engine.service.channel import Channel
from engine.service.requests import resolve


def answer(msg: dict[str, Any]) -> dict[str, Any]:
    rid, kind = msg.get("id"), msg.get("kind")
    handler = resolve(kind) if isinstance(kind, str) else None
    if handler is None:
        return {"id": rid, "ok": False, "error": {"message": f"unknown request {kind!r}", "details": "",
                                                  "node": None, "key": None}}
    try:
        return {"id": rid, "ok": True, "result": handler(msg.get("payload") or {})}
    except LayerStudioError as e:
        return {"id": rid, "ok": False, "error": {"message": str(e), "details": "", "node": e.node, "key": e.key}}
    except Exception as e:
        return {"id": rid, "ok": False, "error": {
            "message": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}".rstrip(": "),
            "details": traceback.format_exc(), "node": None, "key": None}}


def main(fd: int) -> int:
    channel = Channel.from_fd(fd)
    while True:
        msg = channel.recv()
        if msg is None or msg.get("op") == "shutdown":
            return 0
        if not channel.try_send(answer(msg)):
            return 0
