"""The metrics of one run as growable numpy columns: what the curves draw.

Live events (``Metrics``, ``Validation``) and rows read back from ``metrics.jsonl`` land in
the same arrays, so a reopened run draws exactly what the live one drew. Buffers grow by
doubling (appending is amortised O(1)); ``version`` changes with every change so a plot
redraws only when there is something new. No Qt, no torch.
"""
from __future__ import annotations

import numpy as np

TRAIN = ("step", "epoch", "loss", "accuracy", "lr", "time", "images_per_s", "gpu_mem")
VAL = ("step", "epoch", "loss", "accuracy")
_INT = {"step", "epoch"}


class Columns:
    """Named 1-D arrays of one length; ``col(name)`` is a view of the filled part."""

    def __init__(self, names: tuple[str, ...], capacity: int = 1024) -> None:
        self.names = names
        self.n = 0
        self._data = {k: np.empty(capacity, dtype=np.int64 if k in _INT else np.float64) for k in names}

    def __len__(self) -> int:
        return self.n

    def col(self, name: str) -> np.ndarray:
        return self._data[name][:self.n]

    def extend(self, values: dict[str, np.ndarray | float | int | None], count: int) -> None:
        if count <= 0:
            return
        need = self.n + count
        cap = len(next(iter(self._data.values())))
        if need > cap:
            while cap < need:
                cap *= 2
            for k, a in self._data.items():
                grown = np.empty(cap, dtype=a.dtype)
                grown[:self.n] = a[:self.n]
                self._data[k] = grown
        for k in self.names:
            v = values.get(k)
            self._data[k][self.n:need] = np.nan if v is None else v
        self.n = need

    def truncate(self, keep: np.ndarray | int) -> None:
        """Keep the first ``keep`` rows (an int) or the rows a boolean mask selects."""
        if isinstance(keep, (int, np.integer)):
            self.n = min(self.n, int(keep))
            return
        idx = np.flatnonzero(keep)
        for k, a in self._data.items():
            a[:len(idx)] = a[idx]
        self.n = len(idx)


class RunHistory:
    """Train rows (one per optimizer step) and validation rows of one run."""

    def __init__(self) -> None:
        self.train = Columns(TRAIN)
        self.val = Columns(VAL)
        self.version = 0

    def add_train(self, *, step, epoch, loss, accuracy, lr, time, images_per_s, gpu_mem) -> None:
        step = np.asarray(step)
        self.train.extend({"step": step, "epoch": epoch, "loss": _floats(loss), "accuracy": _floats(accuracy),
                           "lr": _floats(lr), "time": _floats(time), "images_per_s": _floats(images_per_s),
                           "gpu_mem": _floats(gpu_mem)}, len(step))
        self.version += 1

    def add_val(self, *, step, epoch, loss, accuracy) -> None:
        step = np.atleast_1d(np.asarray(step))
        self.val.extend({"step": step, "epoch": epoch, "loss": _floats(loss), "accuracy": _floats(accuracy)},
                        len(step))
        self.version += 1

    def drop_after(self, step: int) -> None:
        """A resumed run starts again after ``step``: rows past it were dropped from the file too."""
        self.train.truncate(self.train.col("step") <= step)
        self.val.truncate(self.val.col("step") <= step)
        self.version += 1

    def clear(self) -> None:
        self.train.truncate(0)
        self.val.truncate(0)
        self.version += 1

    # -- summaries ----------------------------------------------------------------------------
    @property
    def last_step(self) -> int:
        return int(self.train.col("step")[-1]) if len(self.train) else 0

    def best_val_accuracy(self) -> float | None:
        acc = self.val.col("accuracy")
        return float(np.nanmax(acc)) if len(acc) and np.isfinite(acc).any() else None

    def per_epoch(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(epoch, step at its last row, mean of ``name`` over the epoch's training steps)."""
        epochs, values, steps = self.train.col("epoch"), self.train.col(name), self.train.col("step")
        if not len(epochs):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        # rows are in step order, epochs ascending: the boundaries are where the epoch changes
        starts = np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]])
        ends = np.r_[starts[1:], len(epochs)]
        finite = np.isfinite(values)
        sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
        counts = np.add.reduceat(finite.astype(np.int64), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return epochs[starts].copy(), steps[ends - 1].copy(), means


def _floats(v):
    if v is None:
        return None
    if np.isscalar(v):
        return float(v)
    a = np.asarray(v)
    if a.dtype == object:  # None inside a list read from JSON
        return np.array([np.nan if x is None else x for x in a], dtype=np.float64)
    return a.astype(np.float64, copy=False)
