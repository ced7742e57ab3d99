"""Learning-rate schedules as pure functions (no torch): the app plots them while the user
edits, and the trainer's torch schedulers must give exactly these values (a test checks it).

Time ``t`` counts schedule units from 0: epochs (the rate is constant within an epoch) or
optimizer steps. A linear warm-up of ``warmup`` units goes from ``warmup_start``·α0 to α0;
then the main schedule runs with its own clock starting at 0 over the remaining units
(torch's ``SequentialLR(LinearLR, main, milestones=[warmup])``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from engine.schema import resolve_training


def lr_at(t: int, cfg: Mapping[str, Any], base_lr: float, total: int) -> float:
    """The rate at unit ``t`` of ``total`` units; ``cfg`` is the flat resolved training dict."""
    kind = cfg.get("schedule.type", "constant")
    warmup = cfg.get("schedule.warmup", 0)
    if t < warmup:
        s = cfg.get("schedule.warmup_start", 0.1)
        return base_lr * (s + (1.0 - s) * t / warmup)
    t -= warmup
    total = max(total - warmup, 1)
    if kind == "constant":
        return base_lr
    if kind == "step":
        return base_lr * cfg["schedule.gamma"] ** (t // cfg["schedule.step_size"])
    if kind == "multistep":
        return base_lr * cfg["schedule.gamma"] ** sum(1 for m in cfg["schedule.milestones"] if m <= t)
    if kind == "exponential":
        return base_lr * math.exp(-cfg["schedule.decay"] * t)
    if kind == "cosine":
        lo = cfg["schedule.min_lr"]
        return lo + (base_lr - lo) * (1 + math.cos(math.pi * min(t, total) / total)) / 2
    if kind == "polynomial":
        return base_lr * (1.0 - min(t, total) / total) ** cfg["schedule.power"]
    if kind == "onecycle":
        return _one_cycle(t, total, base_lr, cfg)
    raise ValueError(kind)


def _one_cycle(t: int, total: int, peak: float, cfg: Mapping[str, Any]) -> float:
    """torch.optim.lr_scheduler.OneCycleLR with cosine annealing and two phases."""
    start = peak / cfg["schedule.div_factor"]
    end = start / cfg["schedule.final_div_factor"]
    up_end = float(cfg["schedule.pct_start"] * total) - 1
    down_end = float(total - 1)
    t = min(t, total - 1)
    if t <= up_end:
        lo, hi, pct = start, peak, t / up_end if up_end > 0 else 1.0
    else:
        lo, hi, pct = peak, end, (t - up_end) / (down_end - up_end) if down_end > up_end else 1.0
    return hi + (lo - hi) / 2.0 * (math.cos(math.pi * pct) + 1)


def lr_curve(training: Mapping[str, Any], steps_per_epoch: int) -> list[float]:
    """The rate at every optimizer step of a run (length epochs × steps_per_epoch).

    ``training`` is the project's training section (nested, as in the file). Raises
    ConfigError for invalid settings.
    """
    cfg, _ = resolve_training(training)
    steps_per_epoch = max(int(steps_per_epoch), 1)
    epochs, base = cfg["epochs"], cfg["optimizer.lr"]
    if cfg.get("schedule.unit", "epoch") == "step":
        total = epochs * steps_per_epoch
        return [lr_at(s, cfg, base, total) for s in range(total)]
    per_epoch = [lr_at(e, cfg, base, epochs) for e in range(epochs)]
    return [v for v in per_epoch for _ in range(steps_per_epoch)]
