"""What an attribution will cost before it runs: the forward passes Captum will make (the same
plan drives the progress bar) and the seconds they should take, from one timed pass."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import nn

from engine.errors import ExplainError
from engine.explain.inputs import as_batch, logits
from engine.explain.model_state import explaining

GRADIENT_METHODS = {"saliency", "smoothgrad", "integrated_gradients", "grad_cam"}
METHODS = GRADIENT_METHODS | {"occlusion"}


@dataclass(frozen=True)
class Cost:
    method: str
    passes: int      # forward passes (each followed by a backward for gradient methods)
    rows: int        # images through the network, all passes together
    seconds: float   # estimate from one timed pass


def occlusion_windows(shape: tuple[int, ...], window: tuple[int, ...], stride: tuple[int, ...]) -> int:
    """Number of window positions Captum's Occlusion visits on one [C, H, W] image: it adds a
    last position flush with the far edge when the stride does not land there."""
    return math.prod(-(-(d - w) // s) + 1 for d, w, s in zip(shape, window, stride))


def plan(method: str, n: int, shape: tuple[int, ...], *, steps: int = 32, samples: int = 16,
         batch_size: int = 16, window=None, stride=None, **_other) -> list[int]:
    """Rows per forward pass, in order, for ``n`` images of ``shape`` [C, H, W].

    Mirrors Captum's internal batching: IG splits the steps into chunks of ``batch_size // n``
    steps; NoiseTunnel draws ``batch_size`` samples per pass then the remainder; Occlusion
    evaluates the unperturbed input once, then ``batch_size`` windows per pass. Options that do
    not change the work (noise, seed, layer...) are ignored: the app passes one options dict to
    the estimate and to the method."""
    if method in ("saliency", "grad_cam"):
        return [n]
    if method == "integrated_gradients":
        per = max(1, batch_size // n)
        return [min(per, steps - s) * n for s in range(0, steps, per)]
    if method == "smoothgrad":
        per = min(samples, batch_size)
        full, rest = divmod(samples, per)
        return [per * n] * full + ([rest * n] if rest else [])
    if method == "occlusion":
        window, stride = occlusion_geometry(shape, window, stride)
        count = occlusion_windows(shape, window, stride)
        return [n] + [min(batch_size, count - s) * n for s in range(0, count, batch_size)]
    raise ExplainError(f"unknown attribution method {method!r}; choose one of {', '.join(sorted(METHODS))}",
                       key="method")


def default_window(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Occlusion patch of about 1/8 of the shorter side over all channels, half-overlapping."""
    c, h, w = shape
    k = max(1, round(min(h, w) / 8))
    s = max(1, k // 2)
    return (c, k, k), (c, s, s)


def occlusion_geometry(shape: tuple[int, ...], window, stride) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(window, stride) as Captum wants them: [C, h, w] each; an int means a square over all channels."""
    c = shape[0]

    def full(v, key):
        v = (c, v, v) if isinstance(v, int) and not isinstance(v, bool) else tuple(v)
        if len(v) != 3 or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in v):
            raise ExplainError(f"{key} must be a positive size or (channels, height, width), got {v!r}",
                               key=key)
        return v

    if window is None:
        win, strd = default_window(shape)
    else:
        win = full(window, "window")
        strd = (c, max(1, win[1] // 2), max(1, win[2] // 2))
    if stride is not None:
        strd = full(stride, "stride")
    if any(k > d for k, d in zip(win, shape)):
        raise ExplainError(f"the occlusion window {list(win)} is larger than the image {list(shape)}",
                           key="window")
    if any(s > k and k < d for s, k, d in zip(strd, win, shape)):
        raise ExplainError(f"the occlusion stride {list(strd)} skips pixels: it must not exceed the "
                           f"window {list(win)}", key="stride")
    return win, strd


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_pass(model: nn.Module, image: torch.Tensor, rows: int, gradient: bool) -> float:
    """Seconds for one pass of ``rows`` copies of ``image`` [C, H, W] (+ backward when
    ``gradient``): the median of three, after a one-row warm-up so that first-call allocations
    do not count and one pass slowed by another process does not skew the estimate."""
    with explaining(model) as module:
        x1 = as_batch(image, module)[:1].detach()

        def one(k: int) -> None:
            x = x1.expand(k, *x1.shape[1:]).clone().requires_grad_(gradient)
            out = logits(module, x)
            if gradient:
                torch.autograd.grad(out[:, 0].sum(), x)

        one(1)
        times = []
        for _ in range(3):
            _sync(x1.device)
            t0 = time.perf_counter()
            one(rows)
            _sync(x1.device)
            times.append(time.perf_counter() - t0)
        return sorted(times)[1]


def estimate_cost(model: nn.Module, image: torch.Tensor, method: str, **options) -> Cost:
    """Cost of ``method`` on one image [C, H, W]; ``options`` are the method's own.

    One pass of up to 8 rows is timed and scaled linearly with the rows to come, which slightly
    overestimates large batches: better a progress bar that finishes early than late."""
    passes = plan(method, 1, tuple(image.shape[-3:]), **options)
    rows = sum(passes)
    timed = min(max(passes), 8)
    seconds = time_pass(model, image, timed, method in GRADIENT_METHODS) * rows / timed
    return Cost(method, len(passes), rows, seconds)
