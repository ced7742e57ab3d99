"""Rows of thumbnails with a title per row: a dataset gallery by class, augmentation previews.

Images are numpy arrays, ``[H, W]`` (gray) or ``[H, W, 3]`` (RGB), ``uint8`` or float in
[0, 1] (other ranges are stretched to the full scale); ``[C, H, W]`` arrays (the layout
of tensors) are accepted too. Small images are scaled up without smoothing so pixels stay
visible.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget


def to_uint8_hwc(image: np.ndarray) -> np.ndarray:
    """Any supported image layout and dtype → contiguous uint8 ``[H, W]`` or ``[H, W, 3]``."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):
        a = np.transpose(a, (1, 2, 0))  # CHW → HWC
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim not in (2, 3):
        raise ValueError(f"cannot show an array of shape {a.shape} as an image")
    if a.dtype != np.uint8:
        a = a.astype(np.float32)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        if lo >= 0 and hi <= 1:
            lo, hi = 0.0, 1.0
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        a = np.clip((a - lo) * scale, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def to_qimage(image: np.ndarray) -> QImage:
    a = to_uint8_hwc(image)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_Grayscale8).copy()
    return QImage(a.data, w, h, a.strides[0], QImage.Format.Format_RGB888).copy()


class ImageGrid(QWidget):
    """``set_rows([(title, [images...]), ...], captions=...)``."""

    def __init__(self, parent: QWidget | None = None, cell: int = 56, wrap: bool = False) -> None:
        super().__init__(parent)
        self.cell = cell
        self.gap = 4
        self.wrap = wrap  # a row that is wider than the widget continues on the next line
        self._rows: list[tuple[str, list[QPixmap], list[str]]] = []
        self._title_w = 0
        self.setMouseTracking(True)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(wrap)
        self.setSizePolicy(policy)

    def set_rows(self, rows: Sequence[tuple[str, Sequence[np.ndarray]]],
                 captions: Sequence[Sequence[str]] | None = None) -> None:
        self._rows = []
        for r, (title, images) in enumerate(rows):
            pixmaps = [QPixmap.fromImage(to_qimage(im)) for im in images]
            caps = list(captions[r]) if captions else [""] * len(pixmaps)
            self._rows.append((str(title), pixmaps, caps))
        fm = QFontMetrics(self.font())
        self._title_w = max((fm.horizontalAdvance(t) for t, *_ in self._rows if t), default=0)
        self._title_w = self._title_w + 10 if self._title_w else 0
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self.set_rows([])

    def row_count(self) -> int:
        return len(self._rows)

    def image_count(self) -> int:
        return sum(len(p) for _, p, _ in self._rows)

    def _columns(self, width: int) -> int:
        """Images per line: all of them, or as many as ``width`` holds when wrapping."""
        longest = max((len(p) for _, p, _ in self._rows), default=0)
        if not self.wrap:
            return max(longest, 1)
        step = self.cell + self.gap
        return max(1, min(longest, (width - self._title_w - self.gap) // step)) if longest else 1

    def _lines(self, columns: int) -> list[int]:
        """The first line of each row."""
        out, line = [], 0
        for _, pixmaps, _ in self._rows:
            out.append(line)
            line += max(1, -(-len(pixmaps) // columns))
        return out + [line]

    def heightForWidth(self, width: int) -> int:
        return self._lines(self._columns(width))[-1] * (self.cell + self.gap) + self.gap

    def hasHeightForWidth(self) -> bool:
        return self.wrap

    def sizeHint(self) -> QSize:
        n = max((len(p) for _, p, _ in self._rows), default=0)
        step = self.cell + self.gap
        width = self._title_w + n * step + self.gap
        return QSize(width, self.heightForWidth(width) if self.wrap else len(self._rows) * step + self.gap)

    def minimumSizeHint(self) -> QSize:
        step = self.cell + self.gap
        width = min(self.sizeHint().width(), self._title_w + step + self.gap)
        return QSize(width, self.heightForWidth(self.width()) if self.wrap else self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.wrap and event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the height follows the width

    def _cell_rect(self, r: int, c: int) -> QRect:
        step = self.cell + self.gap
        columns = self._columns(self.width())
        line = self._lines(columns)[r] + c // columns
        return QRect(self._title_w + self.gap + (c % columns) * step, self.gap + line * step, self.cell, self.cell)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for r, (title, pixmaps, _) in enumerate(self._rows):
            if title:
                rect = QRect(0, self._cell_rect(r, 0).top(), self._title_w - 8, self.cell)
                p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, title)
            for c, pm in enumerate(pixmaps):
                rect = self._cell_rect(r, c)
                if rect.right() > self.width():
                    break  # only whole images: the row shows what fits
                if pm.width() < self.cell:
                    # integer scale-up keeps pixels square and crisp
                    k = max(1, min(self.cell // max(pm.width(), 1), self.cell // max(pm.height(), 1)))
                    size = QSize(pm.width() * k, pm.height() * k)
                else:
                    size = pm.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
                target = QRect(QPoint(0, 0), size)
                target.moveCenter(rect.center())
                p.drawPixmap(target, pm)
        p.end()

    def event(self, e) -> bool:
        if e.type() == e.Type.ToolTip:
            pos = e.pos()
            for r, (title, pixmaps, caps) in enumerate(self._rows):
                for c in range(len(pixmaps)):
                    if self._cell_rect(r, c).contains(pos):
                        text = caps[c] or title
                        if text:
                            QToolTip.showText(e.globalPos(), text, self)
                        return True
            QToolTip.hideText()
            return True
        return super().event(e)
