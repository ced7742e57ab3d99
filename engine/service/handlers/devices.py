"""``devices``: the CPU and every CUDA GPU, with names and memory."""
from __future__ import annotations

from typing import Any


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    from engine.train.device import list_devices
    return {"devices": list_devices()}
