"""Augmentation options and the numpy preview of them (the app shows it; no torch here).

The training loader applies the same operations to whole batches on the device
(``engine.data.batch_augment``), in the same order: horizontal flip, random crop after
zero padding, rotation and zoom about the centre (bilinear, black outside), then brightness,
contrast and saturation jitter. The preview draws its own random values: it shows what
augmentation does to a sample, not the exact images of a given training step.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from PIL import Image

from engine.errors import ConfigError, ParamError
from engine.schema.dataset import DATASET_SETTINGS

_SETTINGS = {s.key.split(".", 1)[1]: s for s in DATASET_SETTINGS if s.key.startswith("augment.")}
KEYS = tuple(_SETTINGS)
_LUMA = np.array([0.2989, 0.587, 0.114], np.float32)  # torchvision's rgb_to_grayscale


def augment_options(augment: Mapping[str, Any] | bool | None) -> dict[str, Any]:
    """Validate {hflip, crop_padding, rotation, scale, color_jitter} (missing keys: off).
    ``None``/``False``/``{}``: no augmentation. Raises ConfigError naming dataset.augment.KEY."""
    out = {k: s.param.default for k, s in _SETTINGS.items()}
    if augment is None or augment is False:
        return out
    if not isinstance(augment, Mapping):
        raise ConfigError(f"dataset.augment must be an object with keys {', '.join(KEYS)}", key="dataset.augment")
    for k, v in augment.items():
        k = str(k).removeprefix("augment.")
        if k not in _SETTINGS:
            raise ConfigError(f"dataset.augment.{k}: unknown augmentation (known: {', '.join(KEYS)})",
                              key=f"dataset.augment.{k}")
        try:
            out[k] = _SETTINGS[k].param.validate(v)
        except ParamError as e:
            raise ConfigError(f"dataset.augment.{k}{e.message[len(k):]}", key=f"dataset.augment.{k}") from None
    return out


def is_active(opts: Mapping[str, Any]) -> bool:
    return bool(opts["hflip"] or opts["crop_padding"] or opts["rotation"] or opts["scale"]
                or opts["color_jitter"])


def augment_image(img: np.ndarray, opts: Mapping[str, Any], rng: np.random.Generator) -> np.ndarray:
    """One augmented copy of a uint8 [H, W, C] image."""
    h, w, c = img.shape
    out = img
    if opts["hflip"] and rng.random() < 0.5:
        out = out[:, ::-1]
    p = opts["crop_padding"]
    if p:
        padded = np.zeros((h + 2 * p, w + 2 * p, c), np.uint8)
        padded[p:p + h, p:p + w] = out
        dy, dx = rng.integers(0, 2 * p + 1, 2)
        out = padded[dy:dy + h, dx:dx + w]
    if opts["rotation"] or opts["scale"]:
        angle = rng.uniform(-opts["rotation"], opts["rotation"])
        zoom = rng.uniform(1 - opts["scale"], 1 + opts["scale"])
        out = _rotate_zoom(np.ascontiguousarray(out), angle, zoom)
    j = opts["color_jitter"]
    if j:
        f = jitter(out.astype(np.float32) / 255, *rng.uniform(1 - j, 1 + j, 3))
        out = np.clip(f * 255 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def jitter(f: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    """f float [H, W, C] in [0, 1]: torchvision's adjust_brightness, adjust_contrast (about the
    mean grey) and adjust_saturation (towards the pixel's grey), each clamped to [0, 1]."""
    c = f.shape[-1]
    f = np.clip(f * brightness, 0, 1)
    gray = (f @ _LUMA)[..., None] if c == 3 else f
    mean = gray.mean()
    f = np.clip(mean + (f - mean) * contrast, 0, 1)
    if c == 3:
        gray = (f @ _LUMA)[..., None]
        f = np.clip(gray + (f - gray) * saturation, 0, 1)
    return f


def _rotate_zoom(img: np.ndarray, angle: float, zoom: float) -> np.ndarray:
    """Rotate by ``angle`` degrees (counter-clockwise) and zoom about the centre; black outside."""
    h, w, c = img.shape
    pil = Image.fromarray(img[..., 0] if c == 1 else img)
    # PIL's affine maps output pixel -> input pixel: the inverse of rotate-then-zoom
    a = math.radians(angle)
    cos, sin = math.cos(a) / zoom, math.sin(a) / zoom
    cx, cy = w / 2, h / 2
    coeffs = (cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)
    out = np.asarray(pil.transform((w, h), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR, fillcolor=0))
    return out[..., None] if c == 1 else out


def preview(sample: np.ndarray, augment: Mapping[str, Any] | bool | None, count: int, seed: int,
            index: int = 0) -> list[np.ndarray]:
    opts = augment_options(augment)
    rng = np.random.default_rng([seed, index, 0xA06])
    return [augment_image(sample, opts, rng) for _ in range(max(0, count))]
