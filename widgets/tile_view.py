"""A zoomable view of one tiled image (widgets.tiles.Tiling) with a readout of the tile under
the mouse. Live updates keep the user's zoom; a new grid shape fits the view again."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal

from widgets.tiles import Tiling


class TileView(pg.GraphicsLayoutWidget):
    hovered = Signal(object)  # index of the tile under the mouse, or None

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.box: pg.ViewBox = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.box.setDefaultPadding(0.01)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.item)
        self.tiling: Tiling | None = None
        self._describe: Callable[[int], str] | None = None
        self._hover: int | None = None
        self.scene().sigMouseMoved.connect(self._moved)
        self.setMinimumSize(120, 120)

    def set_tiling(self, tiling: Tiling | None, describe: Callable[[int], str] | None = None) -> None:
        """Show ``tiling`` (None clears); ``describe(i)`` is the hover text of tile ``i``."""
        old = self.tiling
        self.tiling, self._describe = tiling, describe
        if tiling is None or tiling.image.size == 0:
            self.item.clear()
            return
        self.item.setImage(tiling.image, levels=(0.0, 1.0), autoLevels=False)
        if old is None or old.image.shape != tiling.image.shape:
            self.box.autoRange()

    def image(self) -> np.ndarray | None:
        """The array on screen (float32, NaN in the gaps)."""
        return None if self.tiling is None else self.item.image

    def _moved(self, pos: QPointF) -> None:
        index = None
        if self.tiling is not None and self.box.sceneBoundingRect().contains(pos):
            p = self.box.mapSceneToView(pos)
            index = self.tiling.tile_at(p.y(), p.x())
        if index != self._hover:
            self._hover = index
            self.setToolTip(self._describe(index) if index is not None and self._describe else "")
            self.hovered.emit(index)

    def mouseDoubleClickEvent(self, event) -> None:
        self.box.autoRange()  # back to the whole grid after zooming in
        super().mouseDoubleClickEvent(event)
