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


EPOCH_MEANS = ("loss", "accuracy", "lr", "images_per_s", "gpu_mem")


class RunHistory:
    """Train rows (one per optimizer step) and validation rows of one run, and per-epoch sums
    of the training rows kept up to date as rows arrive (the per-epoch curves cost nothing)."""

    def __init__(self) -> None:
        self.train = Columns(TRAIN)
        self.val = Columns(VAL)
        self.version = 0
        self.resets = 0  # rows were removed (a resume, a re-read): listeners start over
        self._sums = {k: np.zeros(0) for k in EPOCH_MEANS}
        self._counts = {k: np.zeros(0, np.int64) for k in EPOCH_MEANS}
        self._rows = np.zeros(0, np.int64)
        self._last = np.zeros(0, np.int64)  # last step of each epoch

    def add_train(self, *, step, epoch, loss, accuracy, lr, time, images_per_s, gpu_mem) -> None:
        step = np.asarray(step)
        start = len(self.train)
        self.train.extend({"step": step, "epoch": epoch, "loss": _floats(loss), "accuracy": _floats(accuracy),
                           "lr": _floats(lr), "time": _floats(time), "images_per_s": _floats(images_per_s),
                           "gpu_mem": _floats(gpu_mem)}, len(step))
        self._aggregate(start)
        self.version += 1

    def _aggregate(self, start: int) -> None:
        epochs = self.train.col("epoch")[start:]
        if not len(epochs):
            return
        top = int(epochs.max()) + 1
        if top > len(self._rows):
            def grow(a):
                out = np.zeros(top, dtype=a.dtype)
                out[:len(a)] = a
                return out
            self._rows, self._last = grow(self._rows), grow(self._last)
            self._sums = {k: grow(a) for k, a in self._sums.items()}
            self._counts = {k: grow(a) for k, a in self._counts.items()}
        e = np.clip(epochs, 0, None)
        self._rows += np.bincount(e, minlength=len(self._rows))
        np.maximum.at(self._last, e, self.train.col("step")[start:])
        for k in EPOCH_MEANS:
            v = self.train.col(k)[start:]
            ok = np.isfinite(v)
            self._sums[k] += np.bincount(e[ok], weights=v[ok], minlength=len(self._rows))
            self._counts[k] += np.bincount(e[ok], minlength=len(self._rows))

    def _reaggregate(self) -> None:
        self._rows, self._last = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self._sums = {k: np.zeros(0) for k in EPOCH_MEANS}
        self._counts = {k: np.zeros(0, np.int64) for k in EPOCH_MEANS}
        self._aggregate(0)
        self.resets += 1

    def add_val(self, *, step, epoch, loss, accuracy) -> None:
        step = np.atleast_1d(np.asarray(step))
        self.val.extend({"step": step, "epoch": epoch, "loss": _floats(loss), "accuracy": _floats(accuracy)},
                        len(step))
        self.version += 1

    def drop_after(self, step: int) -> None:
        """A resumed run starts again after ``step``: rows past it were dropped from the file too."""
        if len(self.train) and self.train.col("step")[-1] <= step and (
                not len(self.val) or self.val.col("step")[-1] <= step):
            return  # nothing after it
        self.train.truncate(self.train.col("step") <= step)
        self.val.truncate(self.val.col("step") <= step)
        self._reaggregate()
        self.version += 1

    def clear(self) -> None:
        self.train.truncate(0)
        self.val.truncate(0)
        self._reaggregate()
        self.version += 1

    # -- summaries ----------------------------------------------------------------------------
    @property
    def last_step(self) -> int:
        return int(self.train.col("step")[-1]) if len(self.train) else 0

    def best_val_accuracy(self) -> float | None:
        acc = self.val.col("accuracy")
        return float(np.nanmax(acc)) if len(acc) and np.isfinite(acc).any() else None

    def per_epoch(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(epoch, last step of it, mean of ``name`` over the epoch's training steps)."""
        if name not in self._sums:
            raise KeyError(name)
        epochs = np.flatnonzero(self._rows)
        counts = self._counts[name][epochs]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, self._sums[name][epochs] / np.maximum(counts, 1), np.nan)
        return epochs.astype(np.int64), self._last[epochs].copy(), means


def _floats(v):
    if v is None:
        return None
    if np.isscalar(v):
        return float(v)
    a = np.asarray(v)
    if a.dtype == object:  # None inside a list read from JSON
        return np.array([np.nan if x is None else x for x in a], dtype=np.float64)
    return a.astype(np.float64, copy=False)
