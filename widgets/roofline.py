"""A roofline chart: layers placed against a device's peak compute and memory bandwidth.

Log-log axes: arithmetic intensity (FLOP per byte moved) against attainable performance
``min(peak, bandwidth × intensity)``. A layer left of the ridge point is memory-bound (its
speed is set by the bandwidth), right of it compute-bound. Fed plain numbers.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor

MEMORY_BOUND = QColor("#ef6c00")
COMPUTE_BOUND = QColor("#1e88e5")


def _si(v: float) -> str:
    for scale, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if v >= scale:
            return f"{v / scale:.3g} {p}"
    return f"{v:.3g} "


class RooflineChart(pg.PlotWidget):
    point_clicked = Signal(str)  # the layer's name

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setMinimumSize(220, 160)
        item = self.getPlotItem()
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        for axis in ("bottom", "left"):
            item.getAxis(axis).setLogMode(True)  # the data below is already log10
        item.setLabel("bottom", "Arithmetic intensity", units="FLOP/B")
        item.setLabel("left", "Attainable", units="FLOP/s")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.getAxis("left").enableAutoSIPrefix(False)
        self.roof = pg.PlotCurveItem(pen=pg.mkPen(self.palette().text().color(), width=2))
        self.ridge = pg.InfiniteLine(angle=90, pen=pg.mkPen((128, 128, 128), style=Qt.PenStyle.DashLine))
        self.points = pg.ScatterPlotItem(hoverable=True, tip=self._tip, hoverSize=12,
                                         hoverPen=pg.mkPen("w", width=1.5))
        self.points.sigClicked.connect(self._clicked)
        for it in (self.roof, self.ridge, self.points):
            item.addItem(it)
        item.setMouseEnabled(False, False)
        self.peak = self.bandwidth = None
        self._data: list[tuple[str, float, float]] = []

    def set_roof(self, name: str, peak_flops: float, bandwidth: float) -> None:
        self.peak, self.bandwidth, self.device = float(peak_flops), float(bandwidth), name
        self.setToolTip(f"{name}: peak {_si(peak_flops)}FLOP/s, memory {_si(bandwidth)}B/s; "
                        f"left of the dashed ridge a layer is memory-bound, right of it compute-bound")
        self._redraw()

    def set_points(self, layers: Sequence[tuple[str, float, float]]) -> None:
        """``(name, intensity FLOP/byte, work FLOPs)`` per layer; layers with no work are skipped."""
        self._data = [(n, float(i), float(w)) for n, i, w in layers if i and i > 0 and w and w > 0]
        self._redraw()

    def attainable(self, intensity: float) -> float:
        return min(self.peak, self.bandwidth * intensity)

    def _redraw(self) -> None:
        if self.peak is None:
            return
        ridge = self.peak / self.bandwidth
        xs = [i for _, i, _ in self._data] or [ridge]
        lo = math.floor(math.log10(min(min(xs), ridge) / 4))
        hi = math.ceil(math.log10(max(max(xs), ridge) * 4))
        x = np.array([lo, math.log10(ridge), hi], dtype=float)
        y = np.log10([self.attainable(10 ** v) for v in x])
        self.roof.setData(x, y)
        self.ridge.setPos(math.log10(ridge))
        total = sum(w for *_, w in self._data) or 1.0
        spots = []
        for name, i, w in self._data:
            color = MEMORY_BOUND if i < ridge else COMPUTE_BOUND
            spots.append({"pos": (math.log10(i), math.log10(self.attainable(i))),
                          "size": 7 + 17 * math.sqrt(w / total), "brush": pg.mkBrush(color),
                          "pen": pg.mkPen(color.darker(130)), "data": (name, i, w)})
        self.points.setData(spots)
        ymin = y.min() - 1
        self.getPlotItem().setRange(xRange=(lo, hi), yRange=(ymin, y.max() + 0.4), padding=0)

    def _tip(self, x: float, y: float, data) -> str:
        name, i, w = data
        bound = "memory-bound" if i < self.peak / self.bandwidth else "compute-bound"
        return (f"{name}\n{i:.3g} FLOP/B, {_si(w)}FLOP per step\n"
                f"at most {_si(10 ** y)}FLOP/s ({bound})")

    def _clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.point_clicked.emit(points[0].data()[0])

    def layer_names(self) -> list[str]:
        return [n for n, *_ in self._data]
