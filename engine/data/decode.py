"""Decode an image file and fit it to the target size, with DIGITS' resize modes.

Pillow only. Colour conversion follows PIL's ``convert("L"/"RGB")`` and resizing is bilinear,
as in the classify path (``engine.explain.preprocess``), so that squash-resized training
images and classified images go through the same arithmetic.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
MAX_PIXELS = 120_000_000  # decoded pixels per image (after JPEG draft scaling); larger files are skipped
_MODES = {1: "L", 3: "RGB"}


class Unreadable(Exception):
    """A file that is skipped; the message is the reason shown to the user."""


def decode_file(path: str, channels: int, size: tuple[int, int], mode: str, noise_seed: int) -> np.ndarray:
    """uint8 [C, H, W] or raise Unreadable."""
    img = open_image(path, channels, size)
    return to_array(fit_image(img, size, mode, noise_seed), channels)


def open_image(path: str, channels: int, size: tuple[int, int] | None = None) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # our own pixel limit applies; Pillow's bomb warning is noise here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.format == "JPEG" and size is not None:
                    # decode at a reduced scale (1/2 .. 1/8) when the target is much smaller
                    img.draft(_MODES[channels], (size[1], size[0]))
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise Unreadable(f"image too large ({w}×{h} pixels; the limit is {MAX_PIXELS:,})")
                if w < 1 or h < 1:
                    raise Unreadable("empty image")
                img.seek(0)  # the first frame of an animation
                img.load()
                return img.convert(_MODES[channels])
    except Unreadable:
        raise
    except Image.DecompressionBombError as e:
        raise Unreadable(f"image too large ({e})") from None
    except UnidentifiedImageError:
        raise Unreadable("not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError) as e:
        # Pillow reports truncated and malformed files in all of these
        raise Unreadable(f"corrupt or truncated ({_short(e)})") from None


def fit_image(img: Image.Image, size: tuple[int, int], mode: str, noise_seed: int) -> Image.Image:
    """Resize to (H, W) = size. squash: stretch. crop: scale to cover, cut the centre. fill:
    scale to fit, pad with noise. half_crop: scale half way between, crop one side, fill the
    other (DIGITS' resize_image)."""
    th, tw = size
    iw, ih = img.size
    if (iw, ih) == (tw, th):
        return img
    if mode == "squash":
        return img.resize((tw, th), Image.Resampling.BILINEAR)
    wr, hr = iw / tw, ih / th  # how many source pixels per target pixel, per axis
    if mode == "crop":
        ratio = min(wr, hr)
    elif mode == "fill":
        ratio = max(wr, hr)
    elif mode == "half_crop":
        ratio = (wr + hr) / 2
    else:
        raise ValueError(mode)
    rw, rh = max(1, round(iw / ratio)), max(1, round(ih / ratio))
    img = img.resize((rw, rh), Image.Resampling.BILINEAR)
    # crop what is too long (centred)
    left, top = max(0, (rw - tw) // 2), max(0, (rh - th) // 2)
    img = img.crop((left, top, left + min(rw, tw), top + min(rh, th)))
    if img.size == (tw, th):
        return img
    # fill what is too short with noise, as DIGITS does (seeded: the cache stays deterministic)
    rng = np.random.default_rng([noise_seed, 0xF111])
    bands = len(img.getbands())
    noise = rng.integers(0, 256, (th, tw, bands), dtype=np.uint8)
    canvas = Image.fromarray(noise[..., 0] if bands == 1 else noise, img.mode)
    canvas.paste(img, ((tw - img.size[0]) // 2, (th - img.size[1]) // 2))
    return canvas


def to_array(img: Image.Image, channels: int) -> np.ndarray:
    a = np.asarray(img, np.uint8)
    return a[None] if channels == 1 else a.transpose(2, 0, 1)


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _short(e: BaseException) -> str:
    s = str(e) or type(e).__name__
    return s if len(s) <= 80 else s[:77] + "..."
