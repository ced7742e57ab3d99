"""Progress and cancellation for long attributions, without changing Captum.

Captum calls the forward function once per batch of perturbed or interpolated inputs, so
wrapping it is the one place where work can be counted and stopped: before each pass the
cancel callable is asked, after it the fraction of rows done is reported."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from engine.errors import Cancelled

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


def check_cancel(cancel: CancelFn | None) -> None:
    """Raise ``Cancelled`` when the user asked to stop."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


class Tracker:
    """Counts the rows (images) that go through the model against the planned total."""

    def __init__(self, model: nn.Module, total_rows: int, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None):
        self.model = model
        self.total_rows = max(1, total_rows)
        self.progress = progress
        self.cancel = cancel
        self.rows = 0
        self.passes = 0

    def check(self) -> None:
        check_cancel(self.cancel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check()
        out = self.model(x)
        self.rows += x.shape[0]
        self.passes += 1
        if self.progress is not None:
            self.progress(min(1.0, self.rows / self.total_rows))
        return out
