"""Run an explanation on a model without disturbing it: a probe runs between two training steps
and a cancelled attribution must leave the run exactly as it was."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under torch.compile (``_orig_mod``) and DDP/DataParallel (``.module``).

    Explanations run on the uncompiled module: hooks and per-call input gradients would make
    a compiled one recompile, and DDP's gradient hooks must never see an explanation."""
    wrappers = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    while True:
        inner = getattr(model, "_orig_mod", None)
        if isinstance(inner, nn.Module):
            model = inner
        elif isinstance(model, wrappers):
            model = model.module
        else:
            return model


@contextmanager
def explaining(model: nn.Module) -> Iterator[nn.Module]:
    """Yield the unwrapped module in eval mode with gradients enabled for inputs only.

    Parameters stop requiring grad so that no ``.grad`` is written, no DDP hook fires and the
    backward pass skips weight gradients (faster). Every module's own train/eval flag and every
    parameter's requires_grad are restored on exit, also after an exception or a cancel."""
    module = unwrap(model)
    modes = [(m, m.training) for m in module.modules()]
    params = [(p, p.requires_grad) for p in module.parameters()]
    try:
        module.eval()
        for p, _ in params:
            p.requires_grad_(False)
        # a probe may be called from inside the training loop's no_grad/inference_mode blocks
        with torch.inference_mode(False), torch.enable_grad():
            yield module
    finally:
        for m, training in modes:
            m.training = training
        for p, requires_grad in params:
            p.requires_grad_(requires_grad)
