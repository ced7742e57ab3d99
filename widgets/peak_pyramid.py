"""Min/max pyramid over a growing series: what a plot needs to draw a million points in the
time of a thousand.

Level 0 is the data itself; level k holds, for every bin of ``FANOUT**k`` consecutive points,
the bin's first x and its minimum and maximum y. Appending updates only the bins the new
points touch (amortised O(1) per point); ``query`` picks the coarsest level that still gives
about one bin per pixel of the visible x range and returns an envelope (min and max of every
bin, interleaved), so the drawn line keeps every spike — what pyqtgraph's "peak"
downsampling shows, without scanning the whole array on every frame. Numpy only.
"""
from __future__ import annotations

import numpy as np

FANOUT = 4


class GrowingArray:
    """A 1-D array whose storage doubles when full; ``view()`` is the filled part."""

    def __init__(self, dtype=np.float64, capacity: int = 1024) -> None:
        self._a = np.empty(max(1, capacity), dtype=dtype)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def view(self) -> np.ndarray:
        return self._a[:self.n]

    def resize(self, n: int) -> None:
        """Make the filled length ``n`` (new slots uninitialised)."""
        if n > len(self._a):
            cap = len(self._a)
            while cap < n:
                cap *= 2
            grown = np.empty(cap, dtype=self._a.dtype)
            grown[:self.n] = self._a[:self.n]
            self._a = grown
        self.n = n

    def extend(self, values: np.ndarray) -> None:
        n0 = self.n
        self.resize(n0 + len(values))
        self._a[n0:self.n] = values

    def raw(self) -> np.ndarray:
        """The whole storage (filled part first): for writing a tail in place."""
        return self._a


class PeakPyramid:
    def __init__(self) -> None:
        self.x = GrowingArray()
        self.y = GrowingArray()
        # level k ≥ 1: bins of FANOUT**k points
        self._lo: list[GrowingArray] = []
        self._hi: list[GrowingArray] = []

    def __len__(self) -> int:
        return self.x.n

    def clear(self) -> None:
        self.x.resize(0)
        self.y.resize(0)
        self._lo.clear()
        self._hi.clear()

    def set(self, x: np.ndarray, y: np.ndarray) -> None:
        self.clear()
        self.append(x, y)

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not len(x):
            return
        start = self.x.n
        self.x.extend(x)
        self.y.extend(y)
        self._update(start)

    def replace_tail(self, start: int, y: np.ndarray) -> None:
        """Overwrite y from ``start`` on (same length as before): a re-smoothed tail."""
        self.y.raw()[start:start + len(y)] = y
        self._update(start)

    def _update(self, start: int) -> None:
        n = self.x.n
        below_lo, below_hi, below_n = self.y.view(), self.y.view(), n
        size = 1
        level = 0
        while below_n > 1:
            size *= FANOUT
            first = start // size  # first bin that changed at this level
            bins = -(-n // size)
            if level == len(self._lo):
                self._lo.append(GrowingArray())
                self._hi.append(GrowingArray())
            lo, hi = self._lo[level], self._hi[level]
            lo.resize(bins)
            hi.resize(bins)
            a = first * FANOUT  # bins of the level below that feed them
            idx = np.arange(a, below_n, FANOUT)
            with np.errstate(invalid="ignore"):
                lo.raw()[first:bins] = np.fmin.reduceat(below_lo[a:below_n], idx - a)
                hi.raw()[first:bins] = np.fmax.reduceat(below_hi[a:below_n], idx - a)
            below_lo, below_hi, below_n = lo.view(), hi.view(), bins
            level += 1
        del self._lo[level:], self._hi[level:]

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(x min, x max, y min, y max) of the finite data, or None when there is none."""
        n = self.x.n
        if not n:
            return None
        xs = self.x.view()
        if self._lo:
            lo, hi = self._lo[-1].view(), self._hi[-1].view()
        else:
            lo = hi = self.y.view()
        with np.errstate(invalid="ignore"):
            y0, y1 = np.nanmin(lo) if np.isfinite(lo).any() else np.nan, np.nanmax(hi) if np.isfinite(hi).any() \
                else np.nan
        return float(xs[0]), float(xs[-1]), float(y0), float(y1)

    def positive_min(self) -> float | None:
        """Smallest y > 0 (for a log axis): a scan, but only when asked for."""
        y = self.y.view()
        pos = y[y > 0]
        return float(pos.min()) if len(pos) else None

    def query(self, x0: float, x1: float, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """The points to draw for x in [x0, x1] with at most about ``max_bins`` bins (x must be
        ascending). Includes one point on either side so the line reaches the edges."""
        n = self.x.n
        if not n:
            return np.zeros(0), np.zeros(0)
        xs = self.x.view()
        i0 = max(0, int(np.searchsorted(xs, x0, "left")) - 1)
        i1 = min(n, int(np.searchsorted(xs, x1, "right")) + 1)
        count = i1 - i0
        if count <= 2 * max_bins or not self._lo:
            return xs[i0:i1].copy(), self.y.view()[i0:i1].copy()
        level, size = 0, 1  # the finest level with at most max_bins bins in view
        while level < len(self._lo) and count / size > max_bins:
            size *= FANOUT
            level += 1
        if level == 0:
            return xs[i0:i1].copy(), self.y.view()[i0:i1].copy()
        lo, hi = self._lo[level - 1].view(), self._hi[level - 1].view()
        b0, b1 = i0 // size, -(-i1 // size)
        bx = xs[np.minimum(np.arange(b0, b1) * size, n - 1)]
        out_x = np.repeat(bx, 2)
        out_y = np.empty(2 * (b1 - b0))
        out_y[0::2] = lo[b0:b1]
        out_y[1::2] = hi[b0:b1]
        return out_x, out_y

    def nearest(self, x: float) -> int | None:
        """Index of the data point nearest to ``x`` (for a hover readout)."""
        n = self.x.n
        if not n:
            return None
        xs = self.x.view()
        i = int(np.searchsorted(xs, x))
        if i <= 0:
            return 0
        if i >= n:
            return n - 1
        return i if abs(xs[i] - x) < abs(x - xs[i - 1]) else i - 1
