"""Accuracy versus FLOPs: one dot per run with a best validation accuracy, the Pareto front
(the runs no cheaper run beats) as a line. Clicking a dot makes that run current."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.runs.handle import RunHandle
from studio.runs.pareto import pareto_front
from widgets import units
from widgets.stream_plot import stable_color
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow


class _FlopsAxis(pg.AxisItem):
    """A log10 axis labelled in FLOPs (1 M, 10 M…)."""

    def tickStrings(self, values, scale, spacing):
        return [units.si(10 ** v, "FLOP") for v in values]


class ParetoPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.manager = window.runs
        self.plot = pg.PlotWidget(axisItems={"bottom": _FlopsAxis("bottom")})
        self.plot.setObjectName("pareto_plot")
        self.plot.setBackground(None)
        self.plot.setMenuEnabled(False)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", "forward FLOPs per sample")
        item.setLabel("left", "best validation accuracy")
        item.getAxis("left").enableAutoSIPrefix(False)
        self.front = item.plot(pen=pg.mkPen("#9e9e9e", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.dots = pg.ScatterPlotItem(size=10, hoverable=True, tip=self._tip)
        self.dots.sigClicked.connect(self._clicked)
        item.addItem(self.dots)
        self.note = QLabel()
        self.note.setWordWrap(True)
        muted(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self.points: list[tuple[RunHandle, float, float]] = []
        self._signature: list | None = None
        self.front_runs: list[RunHandle] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh)
        self._watched: set[RunHandle] = set()
        self.manager.runs_changed.connect(self._runs_changed)
        self.manager.current_changed.connect(lambda *_: self._timer.start())
        self._runs_changed()

    def _runs_changed(self) -> None:
        runs = set(self.manager.runs())
        self._watched &= runs  # forgotten runs are deleted (their connections go with them)
        for h in runs - self._watched:
            self._watched.add(h)
            h.changed.connect(self._schedule)
        self.refresh()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        self._timer.stop()
        current = self.manager.current()
        points = []
        for h in self.manager.runs():
            acc = h.best_accuracy()
            if acc is not None and h.flops:
                points.append((h, float(h.flops), acc))
        signature = [(id(h), f, a, h is current) for h, f, a in points]
        if signature == self._signature:
            return  # nothing moved: no repaint
        self._signature = signature
        self.points = points
        front = pareto_front([(f, a) for _h, f, a in points])
        self.front_runs = [points[i][0] for i in front]
        spots = [{"pos": (math.log10(f), a), "data": h, "size": 13 if h is current else 9,
                  "brush": pg.mkBrush(stable_color(h.name)),
                  "pen": pg.mkPen("#000" if h in self.front_runs else "#0000", width=1.5)}
                 for h, f, a in points]
        self.dots.setData(spots)
        if len(front) > 1:
            xs = np.array([math.log10(points[i][1]) for i in front])
            ys = np.array([points[i][2] for i in front])
            # a step line: each front run holds its accuracy until a costlier one beats it
            self.front.setData(np.repeat(xs, 2)[1:], np.repeat(ys, 2)[:-1])
        else:
            self.front.setData([], [])
        if not points:
            self.note.setText("Runs with a validation accuracy appear here, placed by the cost of their model.")
        else:
            self.note.setText(f"{len(points)} run{'s' if len(points) != 1 else ''}; the outlined ones are on "
                              f"the Pareto front (no cheaper run is more accurate). Click a dot to select its run.")

    def _tip(self, x: float, y: float, data: RunHandle) -> str:
        return f"{data.name}\n{units.si(10 ** x, 'FLOP')}/sample · {y:.1%}"

    def _clicked(self, _item, spots, *_) -> None:
        if len(spots):
            self.manager.set_current(spots[0].data())
