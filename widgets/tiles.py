"""Many small arrays laid out as one image: convolution filters, feature maps (numpy only).

The result is float32 in [0, 1], row-major (``[H, W]`` gray or ``[H, W, 3]`` RGB), for an
``ImageItem`` with levels (0, 1). The gaps between tiles are NaN, which pyqtgraph draws
transparent, so the grid reads on light and dark themes alike.

Filters are scaled symmetrically about zero (0 is mid-gray, the sign shows as dark or
light), because the sign of a weight means something. Feature maps are scaled from their
minimum to their maximum. Either may be scaled per tile (every tile uses its full range:
shape is visible, magnitude is not) or over the whole layer (magnitudes compare).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tiling:
    image: np.ndarray  # float32 [H, W] or [H, W, 3], values in [0, 1], NaN between tiles
    rows: int
    cols: int
    tile: tuple[int, int]  # (height, width) of one tile in pixels
    pad: int
    count: int  # tiles actually drawn (the last grid row may be short)

    def tile_at(self, y: float, x: float) -> int | None:
        """The index of the tile under image pixel (row ``y``, column ``x``), or None in a gap."""
        if y < 0 or x < 0:
            return None
        step_y, step_x = self.tile[0] + self.pad, self.tile[1] + self.pad
        r, c = int(y) // step_y, int(x) // step_x
        if r >= self.rows or c >= self.cols or int(y) % step_y >= self.tile[0] or int(x) % step_x >= self.tile[1]:
            return None
        i = r * self.cols + c
        return i if i < self.count else None


def grid_shape(n: int, tile_h: int = 1, tile_w: int = 1) -> tuple[int, int]:
    """Rows and columns for ``n`` tiles so that the whole image is about square."""
    if n <= 0:
        return 0, 0
    cols = max(1, math.ceil(math.sqrt(n * tile_h / max(tile_w, 1))))
    cols = min(cols, n)
    return math.ceil(n / cols), cols


def normalize(tiles: np.ndarray, mode: str = "minmax", per_tile: bool = False) -> np.ndarray:
    """Scale ``tiles`` [N, ...] to [0, 1]: ``symmetric`` (0 → 0.5) or ``minmax``, over each
    tile or over all of them. Constant data maps to 0.5 (symmetric: to 0.5 as well)."""
    a = np.asarray(tiles, dtype=np.float32)
    a = np.where(np.isfinite(a), a, 0.0).astype(np.float32)
    axes = tuple(range(1, a.ndim)) if per_tile else None
    if mode == "symmetric":
        scale = np.max(np.abs(a), axis=axes, keepdims=True) if a.size else np.float32(1)
        scale = np.where(scale > 0, scale, 1.0)
        return (a / (2 * scale) + 0.5).astype(np.float32)
    if mode != "minmax":
        raise ValueError(f"unknown normalisation {mode!r}")
    lo = np.min(a, axis=axes, keepdims=True) if a.size else np.float32(0)
    hi = np.max(a, axis=axes, keepdims=True) if a.size else np.float32(1)
    span = hi - lo
    out = np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 0.5)
    return out.astype(np.float32)


def tile_images(tiles: np.ndarray, cols: int | None = None, pad: int = 1) -> Tiling:
    """Lay out ``tiles`` [N, h, w] or [N, h, w, 3] (already in [0, 1]) in a grid, row by row."""
    tiles = np.asarray(tiles, dtype=np.float32)
    if tiles.ndim not in (3, 4) or (tiles.ndim == 4 and tiles.shape[3] != 3):
        raise ValueError(f"tiles must be [N, h, w] or [N, h, w, 3], got {tiles.shape}")
    n, h, w = tiles.shape[:3]
    if cols is None:
        rows, cols = grid_shape(n, h, w)
    else:
        cols = max(1, min(cols, max(n, 1)))
        rows = math.ceil(n / cols) if n else 0
    extra = tiles.shape[3:]
    if not rows:
        return Tiling(np.full((0, 0) + extra, np.nan, np.float32), 0, cols, (h, w), pad, 0)
    # every tile with its gap below and to the right, then the grid by one reshape (no loop:
    # 64 x 64 filters are 4096 tiles, drawn several times a second)
    cells = np.full((rows * cols, h + pad, w + pad) + extra, np.nan, dtype=np.float32)
    cells[:n, :h, :w] = tiles
    grid = cells.reshape((rows, cols, h + pad, w + pad) + extra).swapaxes(1, 2)
    image = grid.reshape((rows * (h + pad), cols * (w + pad)) + extra)[:rows * (h + pad) - pad, :cols * (w + pad) - pad]
    return Tiling(np.ascontiguousarray(image), rows, cols, (h, w), pad, n)


def tile_filters(weights: np.ndarray, per_tile: bool = False, pad: int = 1) -> Tiling:
    """A convolution's weights as one image.

    * Conv2d ``[Cout, 3, kh, kw]``: one RGB tile per output channel, in a square grid.
    * Conv2d ``[Cout, Cin, kh, kw]`` (Cin ≠ 3): one gray tile per (output, input) pair, a row
      per output channel (a square grid when Cin is 1).
    * Conv1d ``[Cout, Cin, k]``: one gray ``Cin × k`` tile per output channel.

    Scaled symmetrically about zero, per tile (an output channel's whole RGB filter is one
    tile) or over the layer."""
    w = np.asarray(weights, dtype=np.float32)
    if w.ndim == 3:
        return tile_images(normalize(w, "symmetric", per_tile), pad=pad)
    if w.ndim != 4:
        raise ValueError(f"convolution weights must be [Cout, Cin, k] or [Cout, Cin, kh, kw], got {w.shape}")
    cout, cin, kh, kw = w.shape
    if cin == 3:
        return tile_images(normalize(np.transpose(w, (0, 2, 3, 1)), "symmetric", per_tile), pad=pad)
    flat = w.reshape(cout * cin, kh, kw)
    return tile_images(normalize(flat, "symmetric", per_tile), cols=None if cin == 1 else cin, pad=pad)


def tile_feature_maps(maps: np.ndarray, per_tile: bool = True, pad: int = 1) -> Tiling:
    """A layer's activations for one image: ``[C, h, w]`` → a square grid of gray tiles;
    ``[C, L]`` or ``[C, 1, L]`` (a signal, as the probes send it) → one tile, a row per
    channel; ``[F]`` (a vector) → one row. Scaled from minimum to maximum, per channel or
    over the layer."""
    m = np.asarray(maps, dtype=np.float32)
    if m.ndim == 3 and m.shape[1] == 1:
        m = m[:, 0, :]
    if m.ndim == 1:
        m = m[None, None, :]
        per_tile = False
    elif m.ndim == 2:
        if per_tile:  # each channel its own range, as a row of the one tile
            m = normalize(m, "minmax", per_tile=True)[None]
            return tile_images(m, pad=pad)
        m = m[None]
    if m.ndim != 3:
        raise ValueError(f"feature maps must be [C, h, w], [C, L] or [F], got {m.shape}")
    return tile_images(normalize(m, "minmax", per_tile), pad=pad)
