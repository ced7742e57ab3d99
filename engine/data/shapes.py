"""``builtin:shapes``: six procedurally drawn shape classes, generated offline with numpy.

Every image is one shape (circle, square, triangle, cross, ring, star) of random position,
size, rotation and colour over a near-black gradient background with line and dot clutter
and Gaussian noise. Everything is computed for whole batches with broadcasting (no per-pixel
Python): each shape is a signed distance in the shape's rotated frame, turned into an
anti-aliased coverage. Deterministic for (seed, count, size, channels).

The variation is tuned so that a linear classifier on raw pixels stays far below a small CNN
(position, size, rotation and hue are random) while LeNet-5 learns it in a few epochs.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CLASSES = ("circle", "square", "triangle", "cross", "ring", "star")
NATIVE_SHAPE = (3, 32, 32)
VERSION = 4  # bump when the drawing changes: it is part of the cache key

# How hard the images are, tuned against benchmarks/bench_data.py: a linear classifier on raw
# pixels stays well under 60% while LeNet-5 with the sample project's SGD (lr 0.05, momentum
# 0.9) learns it. Near-black backgrounds and saturated shape colours matter: background
# brightness that varies between images (or channels that move together) is large input
# variance that carries no information, and it makes that optimizer unstable (measured: the
# same LeNet run ends 5-10 points lower on mid-grey or random-colour backgrounds).
BACKGROUND = (0.0, 0.05)  # per-channel range of the background colour (nearly black)
GRADIENT = 0.03  # per-channel change across the background
ROTATION = 30.0  # degrees, ±
RADIUS = (0.24, 0.38)  # of the image side
SATURATION = (0.5, 1.0)  # of the shape's colour
VALUE = (0.8, 1.0)  # brightness of the shape's colour
CLUTTER = {"lines": 0.15, "dots": 0.25}  # opacity
NOISE = (0.0, 0.025)  # per-image standard deviation
CROSS_ARM = 0.22  # half-width of the cross's arms (radius units)
STAR_NOTCH = 0.38  # inner radius of the star
_CHUNK = 256  # samples drawn at once: small temporaries stay in the CPU cache (2x faster than 2048)


def generate_shapes(count: int, seed: int, size: tuple[int, int] = (32, 32),
                    channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Return x uint8 [count, channels, H, W] and y int64 [count] (balanced, shuffled)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5A4E5]))
    y = np.arange(count, dtype=np.int64) % len(CLASSES)
    rng.shuffle(y)
    h, w = size
    x = np.empty((count, channels, h, w), np.uint8)

    def chunk(start: int) -> None:
        stop = min(count, start + _CHUNK)
        # one generator per chunk, seeded by its position: the images do not depend on how
        # chunks are scheduled over threads
        rgb = _draw(y[start:stop], np.random.default_rng([seed, 0x5A4E5, start]), h, w)
        if channels == 1:
            rgb = np.einsum("nchw,c->nhw", rgb, _LUMA)[:, None]
        rgb *= 255.0
        rgb += 0.5
        x[start:stop] = np.clip(rgb, 0, 255, out=rgb)  # the assignment casts to uint8

    starts = range(0, count, _CHUNK)
    threads = min(len(starts), os.cpu_count() or 1, 8)
    if threads > 1:  # numpy releases the GIL in its array loops: chunks run in parallel
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(chunk, starts))
    else:
        for start in starts:
            chunk(start)
    return x, y


def _draw(y: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Images as float32 [n, 3, H, W] in [0, 1] (planar: numpy's inner loops run over whole rows)."""
    n = len(y)
    f32 = np.float32
    side = min(h, w)
    # pixel centres as a row and a column: per-image offsets and scales then work on these
    # small vectors, and only the final sum of each expression is a full [n, H, W] array
    xx = (np.arange(w, dtype=f32) + f32(0.5))[None, None, :]
    yy = (np.arange(h, dtype=f32) + f32(0.5))[None, :, None]
    wh = np.array([w, h], f32)  # a float32 array: a Python list would promote to float64

    # -- background: a linear gradient between two nearby, nearly black colours
    c0 = rng.uniform(*BACKGROUND, (n, 3)).astype(f32)
    c1 = np.clip(c0 + rng.uniform(-GRADIENT, GRADIENT, (n, 3)).astype(f32), 0, 1)
    ang = rng.uniform(0, 2 * np.pi, n).astype(f32)
    t = (np.cos(ang)[:, None, None] / side) * (xx - w / 2) + ((np.sin(ang)[:, None, None] / side) * (yy - h / 2)
                                                              + f32(0.5))
    t = np.clip(t, 0, 1)[:, None]
    img = c0[:, :, None, None] + (c1 - c0)[:, :, None, None] * t

    # -- clutter: two straight lines across the image in one colour, three dots in another;
    # half transparent. Each group is one coverage map (the max of its items), one blend.
    lines = np.zeros((n, h, w), f32)
    for _ in range(2):
        c = rng.random((n, 2), dtype=f32) * wh
        a = rng.uniform(0, np.pi, n).astype(f32)
        dist = np.abs((xx - c[:, 0, None, None]) * np.sin(a)[:, None, None]
                      - (yy - c[:, 1, None, None]) * np.cos(a)[:, None, None])
        np.maximum(lines, 1.0 - dist, out=lines)
    dots = np.zeros((n, h, w), f32)
    for _ in range(3):
        c = rng.random((n, 2), dtype=f32) * wh
        rad = rng.uniform(0.8, 1.8, n).astype(f32)[:, None, None] * (side / 32) + 0.5
        np.maximum(dots, rad - np.hypot(xx - c[:, 0, None, None], yy - c[:, 1, None, None]), out=dots)
    for cover, strength in ((lines, CLUTTER["lines"]), (dots, CLUTTER["dots"])):
        alpha = np.clip(cover, 0, 1)[:, None] * f32(strength)
        _blend(img, rng.random((n, 3, 1, 1), dtype=f32), alpha)

    # -- the shape: random size, position inside the image, rotation, saturated colour
    radius = rng.uniform(*RADIUS, n).astype(f32) * side
    cx = rng.uniform(0, 1, n).astype(f32) * (w - 2 * radius) + radius
    cy = rng.uniform(0, 1, n).astype(f32) * (h - 2 * radius) + radius
    rot = np.deg2rad(rng.uniform(-ROTATION, ROTATION, n)).astype(f32)
    cos, sin = np.cos(rot)[:, None, None], np.sin(rot)[:, None, None]
    r_ = radius[:, None, None]
    dx, dy = xx - cx[:, None, None], yy - cy[:, None, None]  # [n, 1, W] and [n, H, 1]
    u = dx * (cos / r_) + dy * (sin / r_)
    v = dy * (cos / r_) - dx * (sin / r_)
    sd = np.empty((n, h, w), f32)
    for k in range(len(CLASSES)):
        m = y == k
        if m.any():
            sd[m] = _SDF[k](u[m], v[m])
    cover = np.clip(0.5 - sd * r_, 0, 1)  # signed distance in pixels -> anti-aliased coverage

    fg = _hsv_to_rgb(rng.random(n, dtype=f32), rng.uniform(*SATURATION, n).astype(f32),
                     rng.uniform(*VALUE, n).astype(f32))
    _blend(img, fg[:, :, None, None], cover[:, None])

    # brightness noise, shared by the channels (a third of the cost of colour noise)
    sigma = rng.uniform(*NOISE, n).astype(f32)[:, None, None]
    img += (rng.standard_normal((n, h, w), dtype=f32) * sigma)[:, None]
    return img


_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[n] hue, saturation, value in [0, 1] -> [n, 3] RGB (the standard hexcone formula)."""
    k = (np.array([5, 3, 1], np.float32) + h[:, None] * 6) % 6
    return (v[:, None] * (1 - s[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1))).astype(np.float32)


def _blend(img: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> None:
    """img += alpha * (colour - img), in place with a single temporary."""
    tmp = np.subtract(colour, img)
    tmp *= alpha
    img += tmp


# Signed distances in units of the shape's radius (negative inside), in the rotated frame (u, v).
def _circle(u, v):
    return np.hypot(u, v) - 1.0


def _square(u, v):
    return np.maximum(np.abs(u), np.abs(v)) - 0.8


_TRI = np.array([[np.cos(a), np.sin(a)] for a in np.pi / 2 + np.arange(3) * 2 * np.pi / 3], np.float32)


def _triangle(u, v):
    # equilateral, circumradius 1.15: the inradius is half of it
    d = np.maximum(u * _TRI[0, 0] + v * _TRI[0, 1], u * _TRI[1, 0] + v * _TRI[1, 1])
    return np.maximum(d, u * _TRI[2, 0] + v * _TRI[2, 1]) - 0.575


def _cross(u, v):
    au, av = np.abs(u), np.abs(v)
    return np.minimum(np.maximum(au - 1.0, av - CROSS_ARM), np.maximum(au - CROSS_ARM, av - 1.0))


def _ring(u, v):
    return np.abs(np.hypot(u, v) - 0.75) - 0.25


def _star(u, v):
    # five points: the boundary radius goes linearly from 1 (tip) to the notch in angle
    t = (np.arctan2(v, u) * (5 / (2 * np.pi))) % 1.0
    edge = STAR_NOTCH + (1 - STAR_NOTCH) * np.abs(2 * t - 1)
    return np.hypot(u, v) - edge


_SDF = (_circle, _square, _triangle, _cross, _ring, _star)
