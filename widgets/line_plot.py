"""One persistent curve that is re-fed with ``set_data`` (never cleared and re-plotted)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg


class LinePlot(pg.PlotWidget):
    def __init__(self, parent=None, x_label: str = "", y_label: str = "", color: str = "#1e88e5") -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.showGrid(x=True, y=True, alpha=0.15)
        if x_label:
            item.setLabel("bottom", x_label)
        if y_label:
            item.setLabel("left", y_label)
        item.getAxis("left").enableAutoSIPrefix(False)  # "×0.001" next to a learning rate confuses
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.curve = item.plot(pen=pg.mkPen(color, width=2))
        self.marks = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(color), pen=None)
        item.addItem(self.marks)

    def set_data(self, x: Sequence[float], y: Sequence[float], marks: Sequence[float] = ()) -> None:
        """The curve, plus optional dots at x positions ``marks`` (epoch boundaries)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.curve.setData(x, y)
        if len(marks) and len(x):
            idx = np.clip(np.searchsorted(x, marks), 0, len(x) - 1)
            self.marks.setData(x[idx], y[idx])
        else:
            self.marks.setData([], [])
        if len(x):
            top = float(np.nanmax(y)) if np.isfinite(y).any() else 1.0
            self.getPlotItem().setRange(xRange=(x[0], x[-1]), yRange=(0, top * 1.08 or 1), padding=0.02)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.curve.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)
