"""Checks of the training options that no single setting can make alone, before any work:
each refusal is a ConfigError naming the key to change (the CLI exits 1)."""
from __future__ import annotations

from typing import Any, Mapping

import torch

from engine.errors import ConfigError
from engine.train.optim import check_optimizer
from engine.train.speed import check_speed_options


def check_options(cfg: Mapping[str, Any], device: torch.device, *, world_size: int = 1,
                  writes_run: bool = False) -> list[str]:
    """Refuse invalid combinations; return warnings for options that do nothing here."""
    check_optimizer(cfg)
    warnings = check_speed_options(cfg, device)
    acc, batch = cfg.get("gradient.accumulation", 1), cfg["batch_size"]
    if acc > 1 and batch % (acc * world_size):
        key = "training.gradient.accumulation"
        share = f"each process's share of the batch ({batch // world_size})" if world_size > 1 else \
            f"training.batch_size ({batch})"
        raise ConfigError(f"{key}: {acc} micro-batches do not divide {share} evenly; use a divisor of it or "
                          f"change training.batch_size", key=key)
    if cfg.get("tensorboard") and writes_run:
        from engine.train.callbacks.tensorboard import summary_writer
        summary_writer()  # raises with the install command when the package is missing
    return warnings
