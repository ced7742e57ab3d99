"""The run queue's rule: one run at a time per device, first queued first served.

A run asks for ``training.device`` ("auto", "cpu", "cuda", "cuda:1"…); the queue needs the
device it will actually occupy, which depends on what the engine reported."""
from __future__ import annotations

from typing import Iterable, Sequence


def device_key(requested: object, devices: Sequence[dict]) -> str:
    """The device a run asking for ``requested`` will occupy ("cpu", "cuda:0"…)."""
    text = str(requested or "auto").strip().lower()
    gpus = [str(d.get("id")) for d in devices if d.get("kind") not in (None, "cpu") and d.get("id")]
    if text == "auto":
        return gpus[0] if gpus else "cpu"
    if text == "cuda":
        return "cuda:0"
    return text


def next_to_start(queued: Iterable[tuple[object, str]], busy: set[str]) -> list[object]:
    """Of ``(item, device)`` pairs in queue order, those that may start now (each device once)."""
    busy = set(busy)
    out = []
    for item, device in queued:
        if device not in busy:
            out.append(item)
            busy.add(device)
    return out
