"""Statistics over (possibly memory-mapped) sample arrays, computed in chunks."""
from __future__ import annotations

import numpy as np

_CHUNK_BYTES = 32 << 20


def channel_stats(x: np.ndarray, *, scale: float) -> tuple[tuple[float, ...], tuple[float, ...], np.ndarray]:
    """Per-channel mean and std of ``x / scale`` over every sample and position, and the mean
    sample (float32, same shape as one sample, in x's units). ``x`` is [N, C, ...]."""
    n, c = x.shape[0], x.shape[1]
    if n == 0:
        return (0.0,) * c, (1.0,) * c, np.zeros(x.shape[1:], np.float32)
    per = max(1, _CHUNK_BYTES // max(1, x[0].nbytes * 4))
    axes = (0,) + tuple(range(2, x.ndim))
    s1 = np.zeros(c, np.float64)
    s2 = np.zeros(c, np.float64)
    total = np.zeros(x.shape[1:], np.float64)
    for a in range(0, n, per):
        chunk = np.asarray(x[a:a + per], np.float32)
        total += chunk.sum(0, dtype=np.float64)
        s1 += chunk.sum(axes, dtype=np.float64)
        s2 += np.square(chunk).sum(axes, dtype=np.float64)
    count = n * int(np.prod(x.shape[2:]))
    mean = s1 / count
    var = np.maximum(s2 / count - mean * mean, 0.0)
    std = np.sqrt(var)
    std = np.where(std > 1e-6 * max(scale, 1.0), std, max(scale, 1.0))  # a constant channel: leave it unscaled
    return (tuple(float(v) for v in mean / scale), tuple(float(v) for v in std / scale),
            (total / n).astype(np.float32))
