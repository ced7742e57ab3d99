"""Pause, resume and stop requests for a running loop, from another thread or a signal handler.

The loop reads plain attributes once per step (no lock, no host sync): a stop is seen within
one step, at a step boundary, so the checkpoint it writes resumes exactly.
"""
from __future__ import annotations

import threading
from typing import Callable


class Control:
    def __init__(self) -> None:
        self.stop_reason: str | None = None  # "stopped" (asked for) | "interrupted" (Ctrl-C, orphaned)
        self.paused = False
        self._wake = threading.Event()

    @property
    def pending(self) -> bool:
        """Anything for the loop to act on (checked every step; a plain attribute read)."""
        return self.stop_reason is not None or self.paused

    def stop(self, reason: str = "stopped", *, wake: bool = True) -> None:
        """Ask for a graceful stop. From a signal handler pass ``wake=False`` (takes no lock)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        if wake:
            self._wake.set()

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def wait_while_paused(self, tick: Callable[[], None] | None = None, interval: float = 0.5) -> None:
        """Block while paused (and not stopped), calling ``tick`` (a heartbeat) regularly."""
        while self.paused and self.stop_reason is None:
            self._wake.wait(interval)
            self._wake.clear()
            if tick is not None:
                tick()
