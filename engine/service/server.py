"""The engine service: one long-lived forked process answering the app's requests that need
torch (device list, build/verify, later classify, attributions, import, export).

    app → service   {"id": N, "kind": "devices", "payload": {...}}   |   {"op": "shutdown"}
                    {"op": "cancel", "id": N}
    service → app   {"id": N, "ok": true, "result": {...}}
                    {"id": N, "ok": false, "error": {"message", "details", "node", "key"[, "cancelled"]}}
                    {"id": N, "progress": {"done", "total"}}   (long requests, before their answer)

Requests are answered in order. A bad request is an error reply, never the end of the
service; the service ends when the app closes the socket (or dies). A reader thread takes the
messages off the socket while a request runs, so a cancel reaches it (request_context).
"""
from __future__ import annotations

import inspect
import queue
import threading
import traceback
from typing import Any

from engine.errors import Cancelled, LayerStudioError
from engine.service.channel import Channel
from engine.service.request_context import NULL, RequestContext
from engine.service.requests import resolve


def _takes_context(handler) -> bool:
    try:
        params = [p for p in inspect.signature(handler).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    return len(params) >= 2


def answer(msg: dict[str, Any], ctx: RequestContext = NULL) -> dict[str, Any]:
    rid, kind = msg.get("id"), msg.get("kind")
    handler = resolve(kind) if isinstance(kind, str) else None
    if handler is None:
        return {"id": rid, "ok": False, "error": {"message": f"unknown request {kind!r}", "details": "",
                                                  "node": None, "key": None}}
    try:
        if ctx.cancelled():  # cancelled while it waited for the one before
            raise Cancelled("cancelled")
        payload = msg.get("payload") or {}
        result = handler(payload, ctx) if _takes_context(handler) else handler(payload)
        return {"id": rid, "ok": True, "result": result}
    except Cancelled as e:
        return {"id": rid, "ok": False, "error": {"message": str(e), "details": "", "node": None, "key": None,
                                                  "cancelled": True}}
    except LayerStudioError as e:
        return {"id": rid, "ok": False, "error": {"message": str(e), "details": "", "node": e.node, "key": e.key}}
    except Exception as e:
        return {"id": rid, "ok": False, "error": {
            "message": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}".rstrip(": "),
            "details": traceback.format_exc(), "node": None, "key": None}}


def main(fd: int) -> int:
    channel = Channel.from_fd(fd)
    inbox: queue.Queue = queue.Queue()
    cancelled: set = set()
    lock = threading.Lock()

    def read() -> None:
        while True:
            try:
                msg = channel.recv()
            except Exception:  # a garbled frame: treat the app as gone
                msg = None
            if msg is None or msg.get("op") == "shutdown":
                inbox.put(None)
                return
            if msg.get("op") == "cancel":
                with lock:
                    cancelled.add(msg.get("id"))
            else:
                inbox.put(msg)

    threading.Thread(target=read, name="service-inbox", daemon=True).start()
    while True:
        msg = inbox.get()
        if msg is None:
            return 0
        rid = msg.get("id")
        reply = answer(msg, RequestContext(rid, channel.try_send, lambda: rid in cancelled))
        with lock:  # requests are answered in id order: older cancels are moot now
            cancelled.difference_update([i for i in cancelled if i == rid or (
                isinstance(i, int) and isinstance(rid, int) and i < rid)])
        if not channel.try_send(reply):
            return 0
