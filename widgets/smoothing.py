"""Exponential moving average (TensorBoard's smoothing slider), vectorised and resumable.

``s[t] = w·s[t-1] + (1-w)·x[t]``, starting from the first value; NaNs are skipped (the
average goes on as if they were absent) and stay NaN in the output. Computed in blocks with a closed form,
so a million points take milliseconds, and ``ema(x, w, state)`` continues from where the last
call stopped (streaming appends cost only their own length).
"""
from __future__ import annotations

import math

import numpy as np


def ema(x: np.ndarray, weight: float, state: float | None = None) -> tuple[np.ndarray, float | None]:
    """(smoothed x, state to continue from). ``weight`` in [0, 1): 0 returns x unchanged."""
    x = np.asarray(x, dtype=np.float64)
    if weight <= 0 or not len(x):
        last = x[np.isfinite(x)]
        return x.copy(), (float(last[-1]) if len(last) else state)
    w = min(float(weight), 0.9999)
    finite = np.isfinite(x)
    if not finite.any():
        return np.full(len(x), np.nan), state
    values = x[finite]  # NaNs are skipped: the average of the others is as if they were absent
    if state is None:
        state = float(values[0])
    smooth = np.empty(len(values))
    block = max(1, min(4096, int(12 / -math.log10(w))))  # w**-block stays below 1e12: no overflow
    powers = w ** np.arange(1, block + 1)  # w^1 .. w^L
    inv = w ** -np.arange(0, block)  # w^-0 .. w^-(L-1)
    s = state
    for a in range(0, len(values), block):
        seg = values[a:a + block]
        m = len(seg)
        # s_i = w^(i+1) s + (1-w) w^i Σ_{k≤i} w^-k x_k
        acc = np.cumsum(seg * inv[:m])
        vals = powers[:m] * s + (1 - w) * (powers[:m] / w) * acc
        smooth[a:a + m] = vals
        s = float(vals[-1])
    out = np.full(len(x), np.nan)
    out[finite] = smooth
    return out, s
