"""Seeded, stratified splits and per-class limits (which samples go where; no pixels here)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def limit_classes(y: np.ndarray, classes: Sequence[str], *, min_per_class: int, max_per_class: int,
                  seed: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Apply ``min_per_class`` (drop small classes) and ``max_per_class`` (seeded subset).

    Returns (indices kept, in increasing order; the kept class names; warnings). Labels of the
    kept samples must be remapped with :func:`remap_labels`.
    """
    counts = np.bincount(y, minlength=len(classes))
    warnings = []
    small = [i for i, c in enumerate(counts) if c < min_per_class]
    if small:
        names = ", ".join(f"{classes[i]} ({counts[i]})" for i in small[:5]) + (" ..." if len(small) > 5 else "")
        warnings.append(f"dataset.min_per_class: {len(small)} class(es) with fewer than {min_per_class} "
                        f"samples left out: {names}")
    keep_class = np.ones(len(classes), bool)
    keep_class[small] = False
    keep = keep_class[y]
    if max_per_class:
        rng = np.random.default_rng([seed, 0xCA9])
        for k in np.flatnonzero(keep_class & (counts > max_per_class)):
            idx = np.flatnonzero(y == k)
            keep[rng.choice(idx, len(idx) - max_per_class, replace=False)] = False
    return np.flatnonzero(keep), [c for c, k in zip(classes, keep_class) if k], warnings


def remap_labels(y: np.ndarray, classes: Sequence[str], kept: Sequence[str]) -> np.ndarray:
    """Labels of ``classes`` -> labels of ``kept`` (a subset, same order); -1 for dropped classes."""
    table = np.full(len(classes), -1, np.int64)
    pos = {c: i for i, c in enumerate(kept)}
    for i, c in enumerate(classes):
        if c in pos:
            table[i] = pos[c]
    return table[y]


def stratified_split(y: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split indices into len(fractions) + 1 parts: part 0 keeps the rest (train), part i + 1 gets
    round(n_k * fractions[i]) samples of each class k. Each class keeps at least one training
    sample. Every part is sorted (validation keeps the source's order)."""
    rng = np.random.default_rng([seed, 0x5711])
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        n = len(idx)
        takes = [int(round(n * f)) for f in fractions]
        while sum(takes) > n - 1 and sum(takes) > 0:  # leave one for training
            j = max(range(len(takes)), key=lambda i: takes[i])
            takes[j] -= 1
        start = 0
        for i, t in enumerate(takes):
            parts[i + 1].append(idx[start:start + t])
            start += t
        parts[0].append(idx[start:])
    return [np.sort(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in parts]
