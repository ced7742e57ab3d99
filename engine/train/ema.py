"""Exponential moving average of the weights (parameter averaging, as in the seeds):
after every optimizer step ``ema ← decay·ema + (1 − decay)·w``. Validation, checkpoints and
everything downstream of them (export, fine-tuning) use the averaged copy.

Floating-point parameters and buffers are averaged with one fused ``lerp`` over all tensors
(no host sync); integer buffers (BatchNorm's batch counter) are copied.
"""
from __future__ import annotations

import copy
from typing import Any

import torch


class EMA:
    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        ours, theirs = self.module.state_dict(), model.state_dict()  # live views of the tensors
        floats = [k for k, v in ours.items() if v.is_floating_point()]
        self._avg, self._src = [ours[k] for k in floats], [theirs[k] for k in floats]
        self._copy = [(ours[k], theirs[k]) for k in ours if k not in set(floats)]

    @torch.no_grad()
    def update(self) -> None:
        if self._avg:
            torch._foreach_lerp_(self._avg, self._src, 1.0 - self.decay)
        for dst, src in self._copy:
            dst.copy_(src)

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)
