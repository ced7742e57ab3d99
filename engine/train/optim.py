"""The optimizer factory, keyed on ``training.optimizer.type``.

Adding an optimizer is one function here plus its settings in engine/schema/training.py
(``when`` says which keys it takes; a test checks both lists agree). Only the keys the
schema resolved for this optimizer are read, so ``cfg`` never carries another one's.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import torch

from engine.errors import ConfigError, PreflightError

Params = Iterable[torch.nn.Parameter]


def _common(cfg: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    kw = {"lr": cfg["optimizer.lr"], "weight_decay": cfg["optimizer.weight_decay"], **extra}
    if cfg.get("optimizer.eps") is not None:  # empty: the optimizer's own default (they differ)
        kw["eps"] = cfg["optimizer.eps"]
    return kw


def _sgd(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    momentum, dampening = cfg.get("optimizer.momentum", 0.0), cfg.get("optimizer.dampening", 0.0)
    nesterov = cfg.get("optimizer.nesterov", False)
    if nesterov and (momentum <= 0 or dampening != 0):
        key = "training.optimizer.nesterov"
        raise ConfigError(f"{key}: Nesterov momentum needs training.optimizer.momentum > 0 and "
                          f"training.optimizer.dampening 0 (here {momentum:g} and {dampening:g})", key=key)
    return torch.optim.SGD(params, **_common(cfg, momentum=momentum, dampening=dampening, nesterov=nesterov))


def _adam_kw(cfg: Mapping[str, Any]) -> dict[str, Any]:
    b1, b2 = cfg.get("optimizer.betas", (0.9, 0.999))
    return _common(cfg, betas=(b1, b2), amsgrad=cfg.get("optimizer.amsgrad", False))


def _adam(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, **_adam_kw(cfg))


def _adamw(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, **_adam_kw(cfg))


def _adagrad(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, **_common(cfg, lr_decay=cfg.get("optimizer.lr_decay", 0.0),
                               initial_accumulator_value=cfg.get("optimizer.initial_accumulator_value", 0.0)))


def _rmsprop(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, **_common(cfg, alpha=cfg.get("optimizer.alpha", 0.99),
                                                 momentum=cfg.get("optimizer.momentum", 0.0),
                                                 centered=cfg.get("optimizer.centered", False)))


def _adadelta(params: Params, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.Adadelta(params, **_common(cfg, rho=cfg.get("optimizer.rho", 0.9)))


OPTIMIZERS: dict[str, Callable[[Params, Mapping[str, Any]], torch.optim.Optimizer]] = {
    "SGD": _sgd,
    "Adam": _adam,
    "AdamW": _adamw,
    "Adagrad": _adagrad,
    "RMSprop": _rmsprop,
    "Adadelta": _adadelta,
}


def check_optimizer(cfg: Mapping[str, Any]) -> None:
    """Refuse combinations the schema cannot express (before any work): build on a dummy tensor."""
    OPTIMIZERS[cfg["optimizer.type"]]([torch.nn.Parameter(torch.zeros(1))], cfg)


def make_optimizer(model: torch.nn.Module, cfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    """``cfg`` is the flat resolved training dict. Frozen parameters (trainable: false) are left out."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        frozen = [n for n, m in getattr(model, "layer_names", {}).items()
                  if any(True for _ in model.get_submodule(m).parameters())]
        raise PreflightError("the model has nothing to train: it has no parameters, or every layer with "
                             "parameters is frozen (trainable: false); make at least one layer trainable",
                             node=frozen[0] if frozen else None, key="trainable" if frozen else None)
    return OPTIMIZERS[cfg["optimizer.type"]](params, cfg)
