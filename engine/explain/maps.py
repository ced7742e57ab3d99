"""Attribution tensors → the 2-D maps the app shows: one channel, optionally smaller, and a
copy normalized to [0, 1] for display next to the raw values."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Attribution:
    """Maps for a batch of images. ``display`` is ``|raw| / max |raw|`` per image (0 where the
    map is all zero), so ``raw`` can always be recovered as ``display * scale`` up to sign."""
    method: str
    raw: np.ndarray       # float32 [N, H, W]
    display: np.ndarray   # float32 [N, H, W] in [0, 1]
    scale: np.ndarray     # float32 [N]: max |raw| per image
    targets: np.ndarray   # int64 [N]: the class each map explains


def reduce_channels(attr: torch.Tensor, how: str) -> torch.Tensor:
    """[N, C, H, W] → [N, H, W]. "absmax": saliency convention (Simonyan et al.), "sum": keeps
    Integrated Gradients' completeness, "mean": occlusion (every channel holds the same value)."""
    if how == "absmax":
        return attr.abs().amax(dim=1)
    if how == "sum":
        return attr.sum(dim=1)
    if how == "mean":
        return attr.mean(dim=1)
    raise ValueError(f"unknown channel reduction {how!r}")


def fit_size(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """(H, W) scaled down so that its longer side is at most ``max_side`` (never scaled up)."""
    h, w = size
    if max_side is None or max(h, w) <= max_side:
        return h, w
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    f = max_side / max(h, w)
    return max(1, round(h * f)), max(1, round(w * f))


def downscale(maps: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """[N, H, W] → [N, h, w] by area averaging: each pixel of the small map is the mean
    attribution of the block it covers, which is what a smaller heat map should show."""
    size = fit_size(tuple(maps.shape[-2:]), max_side)
    if size == tuple(maps.shape[-2:]):
        return maps
    return F.adaptive_avg_pool2d(maps.unsqueeze(1), size).squeeze(1)


def normalize01(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(display, scale): |raw| divided by its per-image maximum."""
    mag = np.abs(raw).astype(np.float32, copy=False)
    scale = mag.reshape(len(mag), -1).max(axis=1) if mag.size else np.zeros(len(mag), np.float32)
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return mag / safe[:, None, None], scale.astype(np.float32)


def make_attribution(method: str, maps: torch.Tensor, targets: torch.Tensor,
                     max_side: int | None = None) -> Attribution:
    """Package [N, H, W] maps as numpy float32 (downscaled first when ``max_side`` is given)."""
    raw = downscale(maps.detach().float(), max_side).cpu().numpy()
    display, scale = normalize01(raw)
    return Attribution(method, raw, display, scale,
                       targets.detach().cpu().numpy().astype(np.int64))
