"""Checking what a caller hands to an explanation: images, targets, and the model's output.

Mistakes become one ``ExplainError`` with a readable message instead of a torch traceback
from deep inside a convolution or inside Captum."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from engine.errors import ExplainError

Target = int | Sequence[int] | torch.Tensor | None


def model_device(module: nn.Module) -> torch.device:
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return torch.device("cpu")


def as_batch(inputs: torch.Tensor, module: nn.Module) -> torch.Tensor:
    """A private [N, C, H, W] copy on the model's device that requires grad (Captum would set
    requires_grad on what it gets, with a warning; the caller's tensor must stay as it was)."""
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        raise ExplainError(f"images must be a float tensor, got {type(inputs).__name__}"
                           + (f" of {inputs.dtype}" if isinstance(inputs, torch.Tensor) else ""),
                           key="image")
    if inputs.dim() == 3:
        inputs = inputs.unsqueeze(0)
    if inputs.dim() != 4 or inputs.shape[0] == 0:
        raise ExplainError(f"expected one image [C, H, W] or images [N, C, H, W], got shape "
                           f"{list(inputs.shape)}", key="image")
    x = inputs.detach().to(model_device(module), dtype=torch.float32, copy=True)
    return x.requires_grad_(True)


def logits(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's class scores [N, classes] for ``x``, or an ExplainError saying why not."""
    try:
        out = module(x)
    except (ExplainError, torch.cuda.OutOfMemoryError):
        raise
    except RuntimeError as e:  # shape/channel mismatches surface here
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExplainError(f"the network cannot take images of shape {list(x.shape[1:])}: {first}",
                           key="image") from e
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        shape = list(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ExplainError(f"explanations need class scores [classes] as the network's output; "
                           f"it gives {shape}", key="output")
    return out


def resolve_targets(target: Target, out: torch.Tensor) -> torch.Tensor:
    """int64 [N] class indices: ``None`` = the predicted classes; one int applies to all images."""
    n, classes = out.shape
    if target is None:
        return out.detach().argmax(dim=1)
    t = torch.as_tensor(target, device=out.device).reshape(-1)
    if t.is_floating_point() or t.dtype == torch.bool:
        raise ExplainError(f"a target is a class index, got {target!r}", key="target")
    t = t.long()
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ExplainError(f"{t.numel()} targets for {n} images", key="target")
    bad = t[(t < 0) | (t >= classes)]
    if bad.numel():
        raise ExplainError(f"class {int(bad[0])} does not exist: the network has {classes} classes",
                           key="target")
    return t.clone()
