"""The learning-rate scheduler: torch's schedulers, giving exactly engine.schedule's rates.

Each schedule type is torch's class (StepLR, MultiStepLR, CosineAnnealingLR, OneCycleLR,
PolynomialLR; LambdaLR for α0·e^(−βt), which torch's ExponentialLR writes as α0·γ^t and
rounds differently), with a LinearLR warm-up joined by SequentialLR. The classes that have
one use torch's closed form at every step instead of the chainable update (rate × factor):
the rate then depends only on the step counter, so it equals the pure-Python formula the
app plots bit for bit (a test checks every type), and restoring the counter restores it.

``Schedule`` wraps the torch scheduler with what a checkpoint needs: its state holds numbers
only (a checkpoint loads with ``weights_only=True``) plus the schedule's length, so a run
resumed with more epochs re-plans a length-dependent schedule (cosine, one-cycle,
polynomial) over the new total, as the app's plot of the new settings shows.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

import torch
from torch.optim import lr_scheduler as sched

STATE_FORMAT = "layerstudio-schedule"
#: schedule types whose rate at step t depends on the total number of units
LENGTH_DEPENDENT = ("cosine", "onecycle", "polynomial")


class _ClosedForm:
    """Use torch's closed form (a function of ``last_epoch`` and ``base_lrs``) at every step."""

    def get_lr(self):
        return self._get_closed_form_lr()


class _ConstantLR(_ClosedForm, sched.ConstantLR):
    pass


class _LinearLR(_ClosedForm, sched.LinearLR):
    pass


class _StepLR(_ClosedForm, sched.StepLR):
    pass


class _MultiStepLR(_ClosedForm, sched.MultiStepLR):
    pass


class _CosineAnnealingLR(_ClosedForm, sched.CosineAnnealingLR):
    pass


class _PolynomialLR(_ClosedForm, sched.PolynomialLR):
    pass


class _OneCycleLR(sched.OneCycleLR):
    """A phase of zero length (pct_start × total = 1, or pct_start = 1 past the end) makes torch
    divide by zero; its end value (the peak) is what engine.schedule gives there."""

    def get_lr(self):
        try:
            return super().get_lr()
        except ZeroDivisionError:
            return [group["max_lr"] for group in self.optimizer.param_groups]


class ExpDecay:
    """e^(−βt), the factor of LambdaLR for ``exponential``. A callable object, not a function,
    so LambdaLR's state dict keeps its one number."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def __call__(self, t: int) -> float:
        return math.exp(-self.decay * t)


def is_per_step(cfg: Mapping[str, Any]) -> bool:
    """True when the scheduler advances every optimizer step (else once per epoch)."""
    return cfg.get("schedule.unit", "epoch") == "step"


def schedule_length(cfg: Mapping[str, Any], steps_per_epoch: int) -> int:
    """Units the schedule spans: epochs, or optimizer steps."""
    return cfg["epochs"] * max(int(steps_per_epoch), 1) if is_per_step(cfg) else cfg["epochs"]


def _main(optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], length: int) -> sched.LRScheduler:
    """The schedule after the warm-up, over ``length`` units (its own clock starts at 0)."""
    kind = cfg.get("schedule.type", "constant")
    if kind == "constant":
        return _ConstantLR(optimizer, factor=1.0, total_iters=0)
    if kind == "step":
        return _StepLR(optimizer, step_size=cfg["schedule.step_size"], gamma=cfg["schedule.gamma"])
    if kind == "multistep":
        return _MultiStepLR(optimizer, milestones=list(cfg["schedule.milestones"]), gamma=cfg["schedule.gamma"])
    if kind == "exponential":
        return sched.LambdaLR(optimizer, ExpDecay(cfg["schedule.decay"]))
    if kind == "cosine":
        return _CosineAnnealingLR(optimizer, T_max=length, eta_min=cfg["schedule.min_lr"])
    if kind == "polynomial":
        return _PolynomialLR(optimizer, total_iters=length, power=cfg["schedule.power"])
    if kind == "onecycle":
        return _OneCycleLR(optimizer, max_lr=cfg["optimizer.lr"], total_steps=length,
                           pct_start=float(cfg["schedule.pct_start"]), div_factor=cfg["schedule.div_factor"],
                           final_div_factor=cfg["schedule.final_div_factor"], anneal_strategy="cos",
                           cycle_momentum=False)  # the user's momentum stays the user's
    raise ValueError(f"unknown schedule type {kind!r}")


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], total: int) -> sched.LRScheduler:
    """torch's scheduler for ``total`` units, starting at unit 0 with the configured rate."""
    base = cfg["optimizer.lr"]
    for group in optimizer.param_groups:  # what every scheduler takes as its base rate
        group["lr"] = group["initial_lr"] = base
    warmup = cfg.get("schedule.warmup", 0)
    if not warmup:
        return _main(optimizer, cfg, total)
    # the warm-up first: OneCycleLR rewrites initial_lr, and LinearLR must keep the true base
    ramp = _LinearLR(optimizer, start_factor=cfg.get("schedule.warmup_start", 0.1), end_factor=1.0,
                     total_iters=warmup)
    main = _main(optimizer, cfg, max(total - warmup, 1))
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warmup])


class Schedule:
    """The run's scheduler: ``step()`` once per unit; ``state_dict`` for checkpoints."""

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], steps_per_epoch: int) -> None:
        self.optimizer, self.cfg = optimizer, dict(cfg)
        self.total = schedule_length(cfg, steps_per_epoch)
        self.warmup = cfg.get("schedule.warmup", 0)
        self.scheduler = build_scheduler(optimizer, cfg, self.total)

    @property
    def last_epoch(self) -> int:
        """Units done (torch's name)."""
        return self.scheduler.last_epoch

    def step(self) -> None:
        if self.warmup and self.scheduler.last_epoch + 1 == self.warmup:
            # SequentialLR hands over with step(0) before torch 2.7, which warns it is deprecated
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.scheduler.step()
        else:
            self.scheduler.step()

    def get_last_lr(self) -> list[float]:
        return self.scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "type": self.cfg.get("schedule.type", "constant"), "total": self.total,
                "last_epoch": self.scheduler.last_epoch, "torch": _plain(self.scheduler.state_dict())}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a checkpoint's state (after the optimizer's state was loaded)."""
        same_plan = (state.get("format") == STATE_FORMAT and state.get("type") == self.cfg.get("schedule.type")
                     and (state.get("total") == self.total or state.get("type") not in LENGTH_DEPENDENT))
        if same_plan:
            self.scheduler.load_state_dict(dict(state["torch"]))
        else:  # a longer run (or an older checkpoint): the new plan, at the same unit
            self.fast_forward(int(state["last_epoch"]))

    def fast_forward(self, units: int) -> None:
        """Rebuild the schedule and advance it to ``units`` (the rates depend on the counter only)."""
        self.scheduler = build_scheduler(self.optimizer, self.cfg, self.total)
        with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": meant here
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(units):
                self.scheduler.step()


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], steps_per_epoch: int) -> Schedule:
    """Stepped once per epoch or once per optimizer step, as ``training.schedule.unit`` says."""
    return Schedule(optimizer, cfg, steps_per_epoch)


def _plain(value: Any) -> Any:
    """``value`` without what ``torch.load(weights_only=True)`` refuses or a rebuild restores
    anyway (a Counter of milestones, functions): plain numbers, text, lists and dicts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if all(v is not _DROP for v in items) else _DROP
    if type(value) is dict:
        out = {k: _plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _DROP}
    return _DROP


_DROP = object()
