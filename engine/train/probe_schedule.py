"""When the live probes run: every ``period_s`` seconds of wall time, all of them at the same
step (a "probe round"), and never more than a small share of the training time.

Deciding costs one ``time.monotonic()`` per step and never waits for the device. The probes
report the seconds they took (their own host transfer included, so the device work is counted
too); the next round is pushed back so that probes stay within ``budget`` of the wall time,
which keeps a big network or a slow GPU from being slowed down by its own probes. The first
round is not counted: it pays once for imports, the probe set and first-call allocations."""
from __future__ import annotations

import time

DEFAULT_BUDGET = 0.02  # probes may take 2 % of the time: training keeps >= 0.98 of its speed


class ProbeSchedule:
    def __init__(self, period_s: float = 2.0, budget: float = DEFAULT_BUDGET,
                 clock=time.monotonic) -> None:
        self.period_s = float(period_s)
        self.budget = float(budget)
        self._clock = clock
        self._next = 0.0  # the first round is at the first step: the app shows something at once
        self._round_step: int | None = None
        self._round_t0 = 0.0
        self._spent = 0.0  # seconds the probes of the current round took
        self.rounds = 0
        self.total_s = 0.0  # seconds of every probe so far (the warm-up round included)
        self.warmup_s = 0.0

    def is_round(self, step: int) -> bool:
        """True for every probe asking at the step where a round is due (and only then)."""
        if step == self._round_step:
            return True
        now = self._clock()
        if now < self._next:
            return False
        self._round_step, self._round_t0, self._spent = step, now, 0.0
        self.rounds += 1
        self._next = now + self.period_s
        return True

    def spent(self, seconds: float) -> None:
        """A probe of the current round took ``seconds``: keep the share under the budget."""
        seconds = max(0.0, seconds)
        self.total_s += seconds
        if self.rounds <= 1:
            self.warmup_s += seconds
            return
        self._spent += seconds
        self._next = self._round_t0 + max(self.period_s, self._spent / self.budget)

    def set_period(self, period_s: float) -> None:
        """A new period from the app: it applies from the last round on (a shorter one at once)."""
        self.period_s = float(period_s)
        self._next = self._round_t0 + max(self.period_s, self._spent / self.budget)

    def due_now(self) -> None:
        """Make the next step a round (after a settings change, the app wants to see it)."""
        self._next = 0.0
        self._round_step = None


class Timer:
    """``with Timer(schedule): ...`` reports the block's seconds to the schedule."""

    def __init__(self, schedule: ProbeSchedule) -> None:
        self.schedule = schedule

    def __enter__(self) -> "Timer":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.schedule.spent(time.perf_counter() - self.t0)
