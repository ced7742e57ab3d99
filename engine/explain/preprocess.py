"""The training preprocessing of one image, for classify: decode, convert to the Input's
channels, resize to its height × width, scale to [0, 1], normalize with the dataset's mean/std.

numpy + Pillow only (no torch), so the app can also use it to show what the network sees.
It follows torchvision's folder pipeline (PIL ``convert`` to "L"/"RGB", bilinear ``Resize``
to the exact size, ``ToTensor``, ``Normalize``); ``engine.data`` should use :func:`decode_image`
and :meth:`Preprocess.from_pixels` so that training and classify can never drift apart."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ExplainError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def decode_image(path: str | os.PathLike, channels: int) -> Image.Image:
    """Open ``path`` as a PIL image with ``channels`` channels (1 grayscale, 3 colour, 4 RGBA)."""
    mode = _MODES.get(channels)
    if mode is None:
        raise ExplainError(f"the network's input has {channels} channels; an image file gives 1 "
                           f"(grayscale), 3 (colour) or 4 (with transparency)", key="image")
    name = os.fspath(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(name) as img:
                img.seek(0)  # first frame of an animation
                return img.convert(mode)
    except FileNotFoundError:
        raise ExplainError(f"{name}: no such file", key="image") from None
    except IsADirectoryError:
        raise ExplainError(f"{name} is a folder, not an image", key="image") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError) as e:
        # PIL reports truncated and malformed files as OSError/ValueError/SyntaxError
        raise ExplainError(f"{os.path.basename(name)} cannot be decoded as an image ({e})",
                           key="image") from e


@dataclass(frozen=True)
class Preprocess:
    """``shape`` is the Input node's [C, H, W]; ``mean``/``std`` are per channel, in pixel
    units of [0, 1] (one value applies to every channel)."""
    shape: tuple[int, int, int]
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)

    def __post_init__(self):
        shape = tuple(int(v) for v in self.shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ExplainError(f"classify needs an image input [C, H, W], the network takes "
                               f"{list(shape)}", key="shape")
        c = shape[0]
        mean, std = (tuple(float(v) for v in np.ravel(a)) for a in (self.mean, self.std))
        mean, std = (a * c if len(a) == 1 else a for a in (mean, std))
        if len(mean) != c or len(std) != c:
            raise ExplainError(f"mean/std have {len(mean)}/{len(std)} values for {c} channels",
                               key="dataset")
        if min(std) <= 0:
            raise ExplainError(f"std must be positive, got {list(std)}", key="dataset")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def from_dataset(cls, shape: Sequence[int], dataset) -> "Preprocess":
        """From an ``engine.data`` Dataset (``open_dataset(cfg, input_shape=shape)``)."""
        return cls(tuple(shape), tuple(np.ravel(dataset.mean)), tuple(np.ravel(dataset.std)))

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(self.mean, np.float32)[:, None, None],
                np.asarray(self.std, np.float32)[:, None, None])

    def load(self, path: str | os.PathLike) -> np.ndarray:
        """float32 [C, H, W], normalized, from an image file."""
        c, h, w = self.shape
        img = decode_image(path, c)
        if img.size != (w, h):
            img = img.resize((w, h), Image.Resampling.BILINEAR)
        return self.from_pixels(np.asarray(img))

    def from_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """float32 [C, H, W], normalized, from uint8 pixels [H, W, C], [H, W] or [C, H, W]
        (e.g. an image picked from the dataset). Must already have the Input's size."""
        a = np.asarray(pixels)
        c, h, w = self.shape
        if a.ndim == 2:
            a = a[None]
        elif a.ndim == 3 and a.shape != (c, h, w) and a.shape[:2] == (h, w):
            a = a.transpose(2, 0, 1)  # [H, W, C], the usual layout of image arrays
        if a.ndim != 3 or a.shape[1:] != (h, w):
            raise ExplainError(f"the image has shape {list(np.shape(pixels))}; the network takes "
                               f"{w}×{h} pixels with {c} channels", key="image")
        if a.shape[0] != c:
            raise ExplainError(f"the image has {a.shape[0]} channels, the network takes {c}", key="image")
        scale = 255.0 if a.dtype == np.uint8 else 1.0
        mean, std = self._stats()
        return ((a.astype(np.float32) / scale - mean) / std).astype(np.float32)

    def to_display(self, x: np.ndarray) -> np.ndarray:
        """Normalized [C, H, W] (or [N, C, H, W]) → uint8 [H, W, C] (or [N, H, W, C])."""
        mean, std = self._stats()
        pixels = np.clip(np.asarray(x, np.float32) * std + mean, 0.0, 1.0)
        return np.rint(np.moveaxis(pixels * 255.0, -3, -1)).astype(np.uint8)

    def valid_range(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) float32 [C]: pixel values 0 and 1 in normalized space."""
        mean, std = (np.asarray(a, np.float32) for a in (self.mean, self.std))
        return -mean / std, (1.0 - mean) / std
