"""The learning-rate scheduler: torch's LRScheduler driven by engine.schedule's pure formulas,
so the rate the app plots while editing is exactly the rate training uses."""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch.optim.lr_scheduler import LRScheduler

from engine.schedule import lr_at


class FormulaLR(LRScheduler):
    """``lr = engine.schedule.lr_at(t, cfg, base_lr, total)`` where t counts scheduler steps.

    Its state (``last_epoch`` and friends) is saved in checkpoints; the formula is not (it is
    rebuilt from the configuration), so the state dict holds numbers only.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], total: int) -> None:
        self.cfg = dict(cfg)
        self.total = max(int(total), 1)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [lr_at(self.last_epoch, self.cfg, base, self.total) for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "cfg", "total")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in ("optimizer", "cfg", "total")})


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], steps_per_epoch: int) -> FormulaLR:
    """Stepped once per epoch or once per optimizer step, as ``training.schedule.unit`` says."""
    total = cfg["epochs"] * max(steps_per_epoch, 1) if is_per_step(cfg) else cfg["epochs"]
    return FormulaLR(optimizer, cfg, total)


def is_per_step(cfg: Mapping[str, Any]) -> bool:
    """True when the scheduler advances every optimizer step (else once per epoch)."""
    return cfg.get("schedule.unit", "epoch") == "step"
