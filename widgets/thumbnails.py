"""A wrapping strip of small images with a caption under each; optionally one can be chosen.

Used for the probe images a feature map is computed for, and for galleries of predictions.
Small images are scaled up by whole pixels so that they stay sharp.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from widgets.image_grid import to_qimage


class ThumbnailList(QListWidget):
    chosen = Signal(int)  # row the user picked (selectable lists only)

    def __init__(self, parent=None, size: int = 64, selectable: bool = False, wrap: bool = True,
                 cell_width: int | None = None, caption_lines: int = 1) -> None:
        """``wrap``: images continue on the next line; otherwise one strip that scrolls
        sideways, exactly one row high (for short docks)."""
        super().__init__(parent)
        self.size = size
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(wrap)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setIconSize(QSize(size, size))
        line = self.fontMetrics().lineSpacing()
        grid = QSize(cell_width or size + 18, size + 8 + line * caption_lines)
        self.setGridSize(grid)
        if not wrap:
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            self.setFixedHeight(grid.height() + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth() + 4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection if selectable
                              else QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if selectable else Qt.FocusPolicy.NoFocus)
        self.currentRowChanged.connect(lambda r: self.chosen.emit(r) if selectable and r >= 0 else None)

    def set_images(self, images: Sequence[np.ndarray], captions: Sequence[str] = (),
                   tooltips: Sequence[str] = (), colors: Sequence[str | None] = ()) -> None:
        """Replace the images (``[H, W]``, ``[H, W, C]``, uint8 or float in [0, 1]); a caption
        (and tooltip, text colour) per image. The current row is kept if it still exists."""
        row = self.currentRow()
        self.blockSignals(True)
        self.clear()
        for i, im in enumerate(images):
            pm = QPixmap.fromImage(to_qimage(im))
            side = max(pm.width(), pm.height(), 1)
            k = self.size // side
            if side > self.size:
                pm = pm.scaled(self.size, self.size, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
            elif k > 1:
                pm = pm.scaled(pm.width() * k, pm.height() * k, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.FastTransformation)
            item = QListWidgetItem(QIcon(pm), captions[i] if i < len(captions) else "")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            if i < len(tooltips) and tooltips[i]:
                item.setToolTip(tooltips[i])
            if i < len(colors) and colors[i]:
                item.setForeground(QColor(colors[i]))
            self.addItem(item)
        if 0 <= row < self.count():
            self.setCurrentRow(row)
        self.blockSignals(False)

    def captions(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
