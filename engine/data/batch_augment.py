"""Augmentation of whole batches on the training device (torch), with random values drawn
once per epoch from a seeded generator: the augmentation of batch b of epoch e is a pure
function of (seed, e, b), so a resumed epoch repeats exactly, and no step waits on the host.

Same operations and order as the numpy preview (``engine.data.augment``): horizontal flip
and random crop after zero padding (one gather on uint8 pixels), rotation and zoom about the
centre (``affine_grid`` + ``grid_sample``, black outside), then brightness, contrast and
saturation jitter, then normalization.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import torch
import torch.nn.functional as F

_LUMA = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale
_FLAT_GATHER_MAX = 96 * 96  # up to this many pixels a single gather beats two


def draw_params(gen: torch.Generator, n: int, opts: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Random values for the n samples of one epoch (CPU tensors, indexed by epoch position)."""
    p: dict[str, torch.Tensor] = {}
    if opts["hflip"]:
        p["flip"] = torch.rand(n, generator=gen) < 0.5
    pad = opts["crop_padding"]
    if pad:
        p["offset"] = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
    if opts["rotation"] or opts["scale"]:
        p["angle"] = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(opts["rotation"])
        p["zoom"] = 1 + (torch.rand(n, generator=gen) * 2 - 1) * opts["scale"]
    j = opts["color_jitter"]
    if j:
        p["jitter"] = 1 + (torch.rand(n, 3, generator=gen) * 2 - 1) * j  # brightness, contrast, saturation
    return p


def flip_crop(xb: torch.Tensor, p: Mapping[str, torch.Tensor], pad: int, out_hw: tuple[int, int]) -> torch.Tensor:
    """xb uint8 [B, C, H + 2 pad, W + 2 pad] (already padded) -> [B, C, H, W], flipped and
    cropped per sample by gathers with expanded (zero-copy over channels) index tensors."""
    h, w = out_hw
    b, c, hp, wp = xb.shape
    dev = xb.device
    j = torch.arange(w, device=dev)
    if pad:
        off = p["offset"]
        rows = off[:, :1] + torch.arange(h, device=dev)  # [B, H]
        cols = off[:, 1:] + j
    else:
        rows = torch.arange(h, device=dev).expand(b, h)
        cols = j.expand(b, w)
    if "flip" in p:
        # flip first, then crop (torchvision's order): column j of the crop of the mirrored
        # padded image is column (wp - 1 - x0) - j of the padded image
        x0 = off[:, 1:] if pad else 0
        cols = torch.where(p["flip"][:, None], (wp - 1 - x0) - j, cols)
    if h * w <= _FLAT_GATHER_MAX:
        # small images: one gather over the flattened plane (index: B × H × W int64)
        flat = (rows[:, :, None] * wp + cols[:, None, :]).view(b, 1, h * w)
        return xb.reshape(b, c, hp * wp).gather(2, flat.expand(b, c, h * w)).view(b, c, h, w)
    if pad:
        xb = xb.gather(2, rows[:, None, :, None].expand(b, c, h, wp))
    return xb.gather(3, cols[:, None, None, :].expand(b, c, h, w))


def rotate_zoom(x: torch.Tensor, angle: torch.Tensor, zoom: torch.Tensor) -> torch.Tensor:
    """x float [B, C, H, W]; per-sample rotation (radians) and zoom about the centre."""
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    zero = torch.zeros_like(cos)
    # affine_grid maps output -> input coordinates (normalized, so the aspect ratio matters)
    h, w = x.shape[-2:]
    theta = torch.stack([torch.stack([cos, -sin * h / w, zero], 1),
                         torch.stack([sin * w / h, cos, zero], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def color_jitter(x: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """x float [B, C, H, W] in [0, 1]; factors [B, 3]: brightness, contrast, saturation, each
    as torchvision's adjust_* does it (blend with black, the mean grey, the pixel's grey;
    clamp to [0, 1] after each), in that fixed order."""
    f = factors.to(x.dtype)[:, :, None, None, None]
    x = (x * f[:, 0]).clamp_(0, 1)
    gray = _gray(x)
    mean = gray.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * f[:, 1]).clamp_(0, 1)
    if x.shape[1] == 3:
        gray = _gray(x)
        x = (gray + (x - gray) * f[:, 2]).clamp_(0, 1)
    return x


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] != 3:
        return x
    luma = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * luma).sum(1, keepdim=True)


def to_float(xb: torch.Tensor, p: Mapping[str, torch.Tensor], scale: torch.Tensor,
             shift: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32, augmented (rotation, zoom, jitter) and normalized:
    x / 255 then (x - mean) / std, i.e. x * scale + shift with scale = 1 / (255 std)."""
    if "angle" not in p and "jitter" not in p:
        return torch.addcmul(shift, xb.to(torch.float32), scale)  # two kernels, contiguous result
    x = xb.to(torch.float32).div_(255)
    if "angle" in p:
        x = rotate_zoom(x, p["angle"], p["zoom"])
    if "jitter" in p:
        x = color_jitter(x, p["jitter"])
    return torch.addcmul(shift, x, scale * 255)
