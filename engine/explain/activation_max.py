"""Activation maximization: synthesize the input that most excites a channel of a layer or a
class score, to show what a filter looks for (Erhan et al. 2009; Olah et al., "Feature
Visualization", 2017).

Gradient ascent on the image in normalized space; each step sees the image shifted by a random
jitter (so the result cannot rely on pixel-exact patterns), and L2 and total variation
penalties keep it near the dataset's mean colour and smooth. Steps are normalized by the mean
gradient magnitude, so ``lr`` is in normalized pixel units whatever the layer's scale (and no
torch.optim, whose first step imports torch._dynamo: seconds in a fresh process). After each
step the image is clamped to the valid pixel range, so it is always a displayable image."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from engine.errors import ExplainError
from engine.explain.inputs import logits, model_device
from engine.explain.layers import LayerRef, captured_output, node_id_of, resolve_layer
from engine.explain.model_state import explaining
from engine.explain.progress import CancelFn, ProgressFn, check_cancel


@dataclass(frozen=True)
class Synthesis:
    target: str             # "class 3" or "conv2 channel 5"
    image: np.ndarray       # float32 [C, H, W], normalized
    activation: float       # the objective for ``image`` (no jitter)
    history: np.ndarray     # float32 [steps]: the objective during the ascent


def _tv(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def objective_fn(module: nn.Module, *, layer: LayerRef = None, channel: int | None = None,
                 class_index: int | None = None):
    """(description, f) where f(x [N, C, H, W]) → [N]: the class score, or the mean over
    positions of the channel's activation."""
    if (class_index is None) == (channel is None):
        raise ExplainError("choose either a class or a layer channel to maximize", key="target")
    if class_index is not None:
        def f(x):
            out = logits(module, x)
            if not 0 <= class_index < out.shape[1]:
                raise ExplainError(f"class {class_index} does not exist: the network has "
                                   f"{out.shape[1]} classes", key="target")
            return out[:, class_index]
        return f"class {class_index}", f
    name, lay = resolve_layer(module, layer)
    node = node_id_of(module, name)

    def g(x):
        with captured_output(module, name, lay, spatial=False, stop=True) as box:
            module(x)
        a = box["out"]
        if not 0 <= channel < a.shape[1]:
            raise ExplainError(f"{node!r} has {a.shape[1]} channels; there is no channel {channel}",
                               node=node, key="channel")
        return a[:, channel].reshape(len(a), -1).mean(dim=1)
    return f"{node} channel {channel}", g


def maximize_activation(model: nn.Module, shape: Sequence[int], *, layer: LayerRef = None,
                        channel: int | None = None, class_index: int | None = None,
                        steps: int = 128, lr: float = 0.05, jitter: int = 2, l2: float = 1e-3,
                        tv: float = 1e-2, seed: int = 0, mean: Sequence[float] = (0.0,),
                        std: Sequence[float] = (1.0,), progress: ProgressFn | None = None,
                        cancel: CancelFn | None = None) -> Synthesis:
    """The input [C, H, W] = ``shape`` that maximizes ``channel`` of ``layer`` (node id,
    submodule; None = the last Conv2d) or the score of ``class_index``. Deterministic for a seed."""
    c, h, w = (int(v) for v in shape)
    if steps < 1:
        raise ExplainError(f"steps must be at least 1, got {steps}", key="steps")
    with explaining(model) as module:
        device = model_device(module)
        description, f = objective_fn(module, layer=layer, channel=channel, class_index=class_index)
        m, s = (torch.as_tensor(np.ravel(a), dtype=torch.float32).expand(c)[:, None, None].to(device)
                for a in (mean, std))
        lo, hi = -m / s, (1 - m) / s
        gen = torch.Generator().manual_seed(seed)  # a private generator: training's RNG is untouched
        x = (0.1 * torch.randn(1, c, h, w, generator=gen)).to(device)
        x = torch.maximum(torch.minimum(x, hi), lo).requires_grad_(True)
        history = []
        for i in range(steps):
            check_cancel(cancel)
            dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
            value = f(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))[0]
            gain = value - l2 * x.pow(2).mean() - tv * _tv(x)
            (grad,) = torch.autograd.grad(gain, x)
            with torch.no_grad():
                x += lr * grad / (grad.abs().mean() + 1e-12)
                x.copy_(torch.maximum(torch.minimum(x, hi), lo))
            history.append(float(value.detach()))
            if progress is not None:
                progress((i + 1) / steps)
        with torch.no_grad():
            final = float(f(x)[0])
        return Synthesis(description, x.detach()[0].cpu().numpy(), final, np.asarray(history, np.float32))
