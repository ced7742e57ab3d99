"""``builtin:waves``: 1-D signals of four classes (sine, square, sawtooth, chirp) for the
Conv1d / LSTM templates. Random frequency, phase, amplitude, offset and noise; deterministic
for (seed, count, length). Random phase makes the classes invisible to a linear classifier
on the raw samples, while a small Conv1d or LSTM tells them apart by their local shape."""
from __future__ import annotations

import numpy as np

CLASSES = ("sine", "square", "sawtooth", "chirp")
NATIVE_SHAPE = (1, 128)
VERSION = 1  # part of the cache key

_CHUNK = 4096


def generate_waves(count: int, seed: int, length: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Return x float32 [count, 1, length] and y int64 [count] (balanced, shuffled)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x3A7E5]))
    y = np.arange(count, dtype=np.int64) % len(CLASSES)
    rng.shuffle(y)
    x = np.empty((count, 1, length), np.float32)
    t = (np.arange(length, dtype=np.float32) / length)[None]
    for start in range(0, count, _CHUNK):
        yy = y[start:start + _CHUNK]
        n = len(yy)
        r = np.random.default_rng([seed, 0x3A7E5, start])
        f = r.uniform(2.0, 8.0, (n, 1)).astype(np.float32)  # cycles per window
        phase = r.random((n, 1), dtype=np.float32)
        amp = r.uniform(0.5, 1.5, (n, 1)).astype(np.float32)
        cycles = f * t + phase
        sig = np.empty((n, length), np.float32)
        m = yy == 0
        sig[m] = np.sin(2 * np.pi * cycles[m])
        m = yy == 1
        sig[m] = np.sign(np.sin(2 * np.pi * cycles[m]))
        m = yy == 2
        sig[m] = 2 * (cycles[m] % 1.0) - 1
        m = yy == 3
        # linear chirp: the frequency sweeps from f0 to f1 across the window (up or down)
        f0 = r.uniform(1.0, 4.0, (n, 1)).astype(np.float32)
        f1 = r.uniform(8.0, 14.0, (n, 1)).astype(np.float32)
        down = r.random((n, 1)) < 0.5
        f0, f1 = np.where(down, f1, f0), np.where(down, f0, f1)
        sig[m] = np.sin(2 * np.pi * (f0[m] * t + (f1 - f0)[m] * t * t / 2 + phase[m]))
        noise = r.uniform(0.05, 0.3, (n, 1)).astype(np.float32)
        offset = r.uniform(-0.3, 0.3, (n, 1)).astype(np.float32)
        x[start:start + n, 0] = amp * sig + offset + noise * r.standard_normal((n, length), dtype=np.float32)
    return x, y
