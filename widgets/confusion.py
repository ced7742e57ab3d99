"""A confusion matrix as a heat map: true class down, predicted class across, counts (or row
percentages) written in the cells, the cell under the mouse described in words."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics

# white → deep blue: the diagonal of a good model stands out, empty cells disappear
_LUT = pg.ColorMap([0.0, 0.5, 1.0], [(250, 250, 252), (100, 149, 237), (13, 42, 120)]).getLookupTable(nPts=256)
MAX_LABELLED = 24  # above this many classes the cells are too small for numbers


def row_normalize(confusion: np.ndarray) -> np.ndarray:
    """Each row (true class) as fractions of its total; a class with no samples stays 0."""
    c = np.asarray(confusion, dtype=np.float64)
    totals = c.sum(axis=1, keepdims=True)
    return np.divide(c, totals, out=np.zeros_like(c), where=totals > 0).astype(np.float32)


class ConfusionView(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.setLabel("left", "true class")
        item.setLabel("bottom", "predicted class")
        item.getViewBox().invertY(True)
        item.getViewBox().sigResized.connect(self._update_ticks)  # names fit the column width
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_LUT)
        item.addItem(self.image)
        self.confusion = np.zeros((0, 0), np.int64)
        self.classes: list[str] = []
        self.normalized = False
        self._texts: list[pg.TextItem] = []
        self._hover: tuple[int, int] | None = None
        self.scene().sigMouseMoved.connect(self._moved)
        self.setMinimumSize(160, 160)

    def set_matrix(self, confusion: np.ndarray, classes: Sequence[str]) -> None:
        self.confusion = np.asarray(confusion, dtype=np.int64)
        k = self.confusion.shape[0]
        self.classes = [str(c) for c in classes][:k] + [str(i) for i in range(len(classes), k)]
        self._draw()

    def set_normalized(self, normalized: bool) -> None:
        if normalized != self.normalized:
            self.normalized = normalized
            self._draw()

    def values(self) -> np.ndarray:
        """What the cells show: counts, or fractions of each true class."""
        return row_normalize(self.confusion) if self.normalized else self.confusion.astype(np.float32)

    def _draw(self) -> None:
        item = self.getPlotItem()
        k = self.confusion.shape[0]
        cells = k * k if 0 < k <= MAX_LABELLED else 0
        # Text items are reused across redraws: rebuilding them stalled the GUI for 90-190 ms
        # per validation while a run streams.
        while len(self._texts) > cells:
            item.removeItem(self._texts.pop())
        while len(self._texts) < cells:
            t = pg.TextItem("", anchor=(0.5, 0.5))
            item.addItem(t)
            self._texts.append(t)
        if k == 0:
            self.image.clear()
            return
        values = self.values()
        top = 1.0 if self.normalized else float(max(values.max(), 1.0))
        self.image.setImage(values, levels=(0.0, top), autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, k, k))
        item.getAxis("left").setTicks([[(i, name) for i, name in enumerate(self.classes)]])
        self._update_ticks()
        if cells:
            for t, ((r, c), v) in zip(self._texts, np.ndenumerate(values)):
                text = f"{v * 100:.0f}%" if self.normalized else str(int(v))
                if not self.normalized and v == 0:
                    text = "·"
                t.setText(text, color=QColor("white" if v / top > 0.45 else "#333333"))
                t.setPos(c, r)
        item.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0)

    def _update_ticks(self) -> None:
        """Class names under the columns, shortened to the column's width (its index when
        not even a letter fits); the full names are on the left and in the hover text."""
        k = len(self.classes)
        if not k:
            return
        axis = self.getPlotItem().getAxis("bottom")
        fm = QFontMetrics(axis.style.get("tickFont") or self.font())
        width = int(self.getPlotItem().getViewBox().width() / k) - 4
        ticks = []
        for i, name in enumerate(self.classes):
            short = fm.elidedText(name, Qt.TextElideMode.ElideRight, width)
            ticks.append((i, short if short and short != "…" else str(i)))
        axis.setTicks([ticks])

    def describe(self, row: int, col: int) -> str:
        """The words for one cell: what it counts and what share of the true class that is."""
        n = int(self.confusion[row, col])
        total = int(self.confusion[row].sum())
        share = f" ({n / total:.1%} of {self.classes[row]})" if total else ""
        what = "correct" if row == col else f"predicted {self.classes[col]}"
        return f"true {self.classes[row]}, {what}: {n} image{'s' if n != 1 else ''}{share}"

    def _moved(self, pos: QPointF) -> None:
        k = self.confusion.shape[0]
        cell = None
        if k and self.getPlotItem().sceneBoundingRect().contains(pos):
            p = self.getPlotItem().getViewBox().mapSceneToView(pos)
            r, c = int(np.floor(p.y() + 0.5)), int(np.floor(p.x() + 0.5))
            if 0 <= r < k and 0 <= c < k:
                cell = (r, c)
        if cell != self._hover:
            self._hover = cell
            self.setToolTip(self.describe(*cell) if cell else "")
