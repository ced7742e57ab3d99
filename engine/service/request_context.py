"""What a long engine-service request (classify a folder, an attribution, activation
maximization) gets besides its payload: a way to report progress and to hear a cancel.

    app → service   {"op": "cancel", "id": N}                 (any time; also for a queued request)
    service → app   {"id": N, "progress": {"done": d, "total": t}}   (at most ~10 a second)

A handler that takes a second argument receives the context: ``ctx.progress(done, total)``,
``ctx.fraction(f)``, ``ctx.cancelled()`` (the engine.explain functions take ``progress=
ctx.fraction, cancel=ctx.cancelled``); a cancelled request raises ``engine.errors.Cancelled``
and is answered as an error with ``"cancelled": true``."""
from __future__ import annotations

import time
from typing import Any, Callable

PROGRESS_INTERVAL_S = 0.1
FRACTION_TOTAL = 1000  # a fraction is reported as done/1000


class RequestContext:
    def __init__(self, rid: Any, send: Callable[[dict], bool] | None = None,
                 is_cancelled: Callable[[], bool] | None = None) -> None:
        self.rid = rid
        self._send = send
        self._is_cancelled = is_cancelled
        self._last = 0.0
        self._last_done: int | None = None

    def cancelled(self) -> bool:
        return self._is_cancelled is not None and self._is_cancelled()

    def progress(self, done: int, total: int) -> None:
        """Report ``done`` of ``total``; throttled, except the first and the last report."""
        if self._send is None:
            return
        done, total = int(done), max(1, int(total))
        now = time.monotonic()
        final = done >= total
        if done == self._last_done or (not final and self._last_done is not None
                                       and now - self._last < PROGRESS_INTERVAL_S):
            return
        self._last, self._last_done = now, done
        self._send({"id": self.rid, "progress": {"done": done, "total": total}})

    def fraction(self, f: float) -> None:
        self.progress(round(min(1.0, max(0.0, float(f))) * FRACTION_TOTAL), FRACTION_TOTAL)


NULL = RequestContext(None)
