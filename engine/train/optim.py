"""The optimizer factory, keyed on ``training.optimizer.type``.

Adding an optimizer (the next issue's zoo) is one function here plus its settings in
engine/schema/training.py; a test checks that both lists agree.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import torch

from engine.errors import PreflightError


def _sgd(params: Iterable[torch.nn.Parameter], cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg["optimizer.lr"], momentum=cfg.get("optimizer.momentum", 0.0),
                           weight_decay=cfg["optimizer.weight_decay"])


def _adam(params: Iterable[torch.nn.Parameter], cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    b1, b2 = cfg.get("optimizer.betas", (0.9, 0.999))
    return torch.optim.Adam(params, lr=cfg["optimizer.lr"], betas=(b1, b2), weight_decay=cfg["optimizer.weight_decay"])


OPTIMIZERS: dict[str, Callable[[Iterable[torch.nn.Parameter], Mapping[str, Any]], torch.optim.Optimizer]] = {
    "SGD": _sgd,
    "Adam": _adam,
}


def make_optimizer(model: torch.nn.Module, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    """``cfg`` is the flat resolved training dict. Frozen parameters (trainable: false) are left out."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise PreflightError("the model has nothing to train: it has no parameters, or every layer with "
                             "parameters is frozen (trainable: false)")
    return OPTIMIZERS[cfg["optimizer.type"]](params, cfg)
