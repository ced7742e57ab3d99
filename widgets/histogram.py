"""A horizontal bar chart of counts per category (a dataset's class histogram).

Horizontal so that class names of any length read on the left axis.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor


class BarChart(pg.PlotWidget):
    def __init__(self, parent=None, color: str = "#1e88e5") -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setMinimumHeight(120)
        item = self.getPlotItem()
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.showGrid(x=True, alpha=0.15)
        item.getViewBox().invertY(True)  # first class on top
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brush=QColor(color), pen=None)
        item.addItem(self.bars)
        self.labels: list[str] = []
        self.counts = np.zeros(0)
        self._texts: list[pg.TextItem] = []

    def set_bars(self, labels: Sequence[str], counts: Sequence[float]) -> None:
        self.labels = [str(s) for s in labels]
        self.counts = np.asarray(counts, dtype=float)
        n = len(self.labels)
        y = np.arange(n)
        self.bars.setOpts(x0=np.zeros(n), y=y, width=self.counts, height=0.7)
        self.getPlotItem().getAxis("left").setTicks([[(i, s) for i, s in enumerate(self.labels)]])
        item = self.getPlotItem()
        for t in self._texts:
            item.removeItem(t)
        self._texts = []
        top = float(self.counts.max()) if n else 1.0
        for i, c in enumerate(self.counts):
            t = pg.TextItem(f"{int(c)}" if float(c).is_integer() else f"{c:.3g}", anchor=(0, 0.5),
                            color=self.palette().text().color())
            t.setPos(float(c) + top * 0.01, i)
            item.addItem(t)
            self._texts.append(t)
        item.setRange(xRange=(0, top * 1.15 or 1), yRange=(-0.6, max(n, 1) - 0.4), padding=0)
