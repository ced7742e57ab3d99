"""Heat maps over images: an image, a map drawn with a colormap, or the map laid over the image.

``HeatmapGrid`` shows several samples at once (live saliency probes, an attribution, an
adversarial triple): one *cell* per sample, each cell a stack of *views* (``"image"``,
``"heatmap"``, ``"overlay"``) and a caption. Every view is a pyqtgraph ``ImageItem`` fed
row-major arrays with explicit levels, so a new map costs one ``setImage`` per view and no
autoscaling pass. A map may be smaller than its image (maps are sent downscaled): it is
stretched over the image's rectangle.

Data are plain numpy arrays: images uint8 ``[H, W]``, ``[H, W, C]`` (C = 1, 3 or 4) or float
with levels given; maps float ``[h, w]``, shown with levels (0, 1) unless told otherwise.
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QSizePolicy

VIEWS = ("image", "heatmap", "overlay")
VIEW_TITLES = {"image": "image", "heatmap": "heat map", "overlay": "overlay"}
COLORMAPS = ("inferno", "viridis", "turbo", "plasma", "CET-L4")
DEFAULT_COLORMAP = "inferno"
DEFAULT_ALPHA = 0.8
OVERLAY_IMAGE_OPACITY = 0.55


def lookup_table(name: str = DEFAULT_COLORMAP, alpha: float | None = None) -> np.ndarray:
    """uint8 [256, 4] RGBA table of a pyqtgraph colormap. With ``alpha`` the table fades in
    from transparent: low values leave the image visible, strong ones cover it up to ``alpha``."""
    rgb = np.asarray(pg.colormap.get(name).getLookupTable(nPts=256, alpha=False), np.uint8)
    a = np.full(256, 255.0)
    if alpha is not None:
        a = 255.0 * float(np.clip(alpha, 0.0, 1.0)) * np.clip(np.linspace(0.0, 1.6, 256), 0.0, 1.0)
    return np.ascontiguousarray(np.column_stack([rgb, np.rint(a).astype(np.uint8)]))


def image_levels(image: np.ndarray) -> tuple[float, float]:
    """Display levels for an image: 0..255 for uint8, 0..1 for floats already in that range,
    else the data's own range (a perturbation, a normalized tensor)."""
    if image.dtype == np.uint8:
        return 0.0, 255.0
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def as_displayable(image: np.ndarray) -> np.ndarray:
    """Row-major [H, W] or [H, W, 3|4]: [C, H, W] tensors are moved to channels-last and one
    channel is squeezed (pyqtgraph reads [H, W, 1] as nothing useful)."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot show an array of shape {np.shape(image)} as an image")
    if a.dtype != np.uint8:
        a = a.astype(np.float32, copy=False)
    return np.ascontiguousarray(a)


class Caption(pg.LabelItem):
    """A label that asks for one dimension only, so that every cell gets the same size whatever
    its text: ``free="width"`` for captions under cells (a long one may reach into the gap beside
    it), ``free="height"`` for view titles written up the side."""

    def __init__(self, text: str = "", free: str = "width", **kw) -> None:
        self.free = free
        super().__init__(text, **kw)

    def updateMin(self) -> None:
        super().updateMin()
        rect = self.itemRect()
        w, h = (0.0, rect.height()) if self.free == "width" else (rect.width(), 0.0)
        self.setMinimumWidth(w)
        self.setMinimumHeight(h)
        self._sizeHint[Qt.SizeHint.MinimumSize] = (w, h)
        self._sizeHint[Qt.SizeHint.PreferredSize] = (w, h)
        self.updateGeometry()


class HeatmapCell:
    """One sample: an image view, a heat-map view and an overlay view (any of them may be
    left out of the grid), plus a caption. Owned by ``HeatmapGrid``."""

    def __init__(self, views: Sequence[str]) -> None:
        self.boxes: dict[str, pg.ViewBox] = {}
        self.backdrop: QGraphicsRectItem | None = None
        self.base: dict[str, pg.ImageItem] = {}  # the image under "image" and "overlay"
        self.heat: dict[str, pg.ImageItem] = {}  # the map in "heatmap" and "overlay"
        for view in views:
            box = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False,
                             defaultPadding=0.0)
            box.setBorder(None)
            self.boxes[view] = box
            if view in ("image", "overlay"):
                item = pg.ImageItem(axisOrder="row-major")
                box.addItem(item)
                self.base[view] = item
                if view == "overlay":  # the image dimmed towards black: a bright one would hide the map
                    self.backdrop = QGraphicsRectItem(0, 0, 1, 1)
                    self.backdrop.setBrush(QColor("black"))
                    self.backdrop.setPen(QPen(Qt.PenStyle.NoPen))
                    self.backdrop.setZValue(-1)
                    box.addItem(self.backdrop)
                    item.setOpacity(OVERLAY_IMAGE_OPACITY)
            if view in ("heatmap", "overlay"):
                item = pg.ImageItem(axisOrder="row-major")
                item.setZValue(1)
                box.addItem(item)
                self.heat[view] = item
        self.caption = Caption("", size="8pt", justify="center")
        self.caption.setMinimumHeight(14)
        self.caption_text = ""
        self.image_shape: tuple[int, int] | None = None
        self.map_shape: tuple[int, int] | None = None

    def set_image(self, image: np.ndarray | None, levels: tuple[float, float] | None = None) -> None:
        if image is None:
            for item in self.base.values():
                item.clear()
            self.image_shape = None
            return
        a = as_displayable(image)
        lv = levels if levels is not None else image_levels(a)
        for item in self.base.values():
            item.setImage(a, levels=lv, autoLevels=False)
        shape = (a.shape[0], a.shape[1])
        if shape != self.image_shape:
            self.image_shape = shape
            self._fit()

    def set_map(self, heat: np.ndarray | None, levels: tuple[float, float] = (0.0, 1.0)) -> None:
        if heat is None:
            for item in self.heat.values():
                item.clear()
            self.map_shape = None
            return
        m = np.ascontiguousarray(np.asarray(heat, np.float32))
        if m.ndim != 2:
            raise ValueError(f"a heat map is [h, w], got shape {m.shape}")
        for item in self.heat.values():
            item.setImage(m, levels=levels, autoLevels=False)
        shape = (m.shape[0], m.shape[1])
        if shape != self.map_shape:
            self.map_shape = shape
            self._fit()

    def set_lookup(self, opaque: np.ndarray, fading: np.ndarray) -> None:
        for view, item in self.heat.items():
            item.setLookupTable(fading if view == "overlay" else opaque)

    def set_caption(self, text: str, color: str | QColor | None = None) -> None:
        """Plain text (newlines break lines; no markup)."""
        self.caption_text = text
        self.caption.setText(html.escape(text).replace("\n", "<br>"), color=color)

    def _fit(self) -> None:
        """Stretch the map over the image; frame each view on what it shows."""
        h, w = self.image_shape or self.map_shape or (1, 1)
        if self.backdrop is not None:
            self.backdrop.setRect(0, 0, w, h)
        if self.map_shape is not None:
            for item in self.heat.values():
                item.setRect(QRectF(0, 0, w, h))
        for box in self.boxes.values():
            box.setRange(QRectF(0, 0, w, h), padding=0.0)


class HeatmapGrid(pg.GraphicsLayoutWidget):
    """Cells side by side (``orientation="columns"``: each cell's views stacked, its caption
    under them) or stacked (``"rows"``: views side by side, caption to the right), with a
    title per view along the edge.

        grid = HeatmapGrid(views=("image", "heatmap", "overlay"))
        grid.set_count(8)
        grid.set_images(images)            # uint8 [N, H, W, C]
        grid.set_maps(maps)                # float [N, h, w] in 0..1
        grid.set_captions(["circle 98%", ...], colors=[...])

    ``painted`` fires after each repaint of the view: the moment new data are on screen.
    """

    painted = Signal()

    def __init__(self, parent=None, views: Sequence[str] = VIEWS, orientation: str = "columns",
                 colormap: str = DEFAULT_COLORMAP, alpha: float = DEFAULT_ALPHA,
                 titles: Sequence[str] | None = None) -> None:
        super().__init__(parent)
        if orientation not in ("columns", "rows"):
            raise ValueError(f"orientation is 'columns' or 'rows', not {orientation!r}")
        unknown = [v for v in views if v not in VIEWS]
        if unknown or not views:
            raise ValueError(f"views are some of {VIEWS}, got {list(views)}")
        self.setBackground(None)
        self.views = tuple(views)
        self.orientation = orientation
        self.colormap, self.alpha = colormap, float(alpha)
        self._titles = list(titles) if titles is not None else [VIEW_TITLES[v] for v in self.views]
        self.cells: list[HeatmapCell] = []
        self._luts = (lookup_table(colormap), lookup_table(colormap, alpha))
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(3)
        self._text_color = self.palette().text().color()
        self._title_items: list[pg.LabelItem] = []
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._build(0)

    # -- layout ----------------------------------------------------------------------
    def _build(self, n: int) -> None:
        self.ci.clear()
        self.cells = [HeatmapCell(self.views) for _ in range(n)]
        self._title_items: list[pg.LabelItem] = []
        if not n:
            return
        columns = self.orientation == "columns"
        grid = self.ci.layout
        show_titles = len(self.views) > 1 or any(self._titles)
        for v, view in enumerate(self.views):
            if show_titles:
                label = Caption(self._titles[v], free="height" if columns else "width", size="8pt",
                                color=self._text_color, angle=-90 if columns else 0)
                self._title_items.append(label)
                self.ci.addItem(label, row=v if columns else 0, col=0 if columns else v)
            for i, cell in enumerate(self.cells):
                # columns: cell i is column i + 1; rows: cell i is row 1 + 2i, its caption under it
                self.ci.addItem(cell.boxes[view], row=v if columns else 1 + 2 * i, col=i + 1 if columns else v)
            # every view row (or column) the same size, whatever the titles ask for
            (grid.setRowStretchFactor if columns else grid.setColumnStretchFactor)(v, 1)
        for i, cell in enumerate(self.cells):
            cell.set_lookup(*self._luts)
            if columns:
                self.ci.addItem(cell.caption, row=len(self.views), col=i + 1)
                grid.setColumnStretchFactor(i + 1, 1)
            else:
                self.ci.addItem(cell.caption, row=2 + 2 * i, col=0, rowspan=1, colspan=len(self.views))
                grid.setRowStretchFactor(1 + 2 * i, 1)

    # the height that shows square cells at a given width (a result panel asks no more)
    def hasHeightForWidth(self) -> bool:
        return True

    def sizeHint(self) -> QSize:
        n = max(1, len(self.cells)) if self.orientation == "columns" else len(self.views)
        width = 130 * n + 24
        return QSize(width, self.heightForWidth(width))

    def heightForWidth(self, width: int) -> int:
        n, v = max(1, len(self.cells)), len(self.views)
        gap = self.ci.layout.verticalSpacing() if self.ci.layout.verticalSpacing() >= 0 else 3
        # the labels' own heights once they have text (estimates before)
        caption = max((c.caption.minimumHeight() for c in self.cells), default=0) or 18
        title = max((t.minimumHeight() for t in self._title_items), default=0) if self.orientation == "rows" else 0
        margins = 6
        if self.orientation == "columns":
            title_w = max((t.minimumWidth() for t in self._title_items), default=0)
            side = (width - margins - title_w - gap * n) / n
            return int(v * (side + gap) + caption + margins)
        side = (width - margins - gap * (v - 1)) / v
        return int(title + gap + n * (side + 2 * gap + caption) + margins)

    def set_count(self, n: int) -> None:
        """Number of cells (rebuilds only when it changes)."""
        if n != len(self.cells):
            self._build(int(n))
            self.updateGeometry()

    def count(self) -> int:
        return len(self.cells)

    # -- data ------------------------------------------------------------------------
    def set_images(self, images: Sequence[np.ndarray] | np.ndarray | None,
                   levels: tuple[float, float] | None = None) -> None:
        if images is None:
            for cell in self.cells:
                cell.set_image(None)
            return
        self.set_count(len(images))
        for cell, image in zip(self.cells, images):
            cell.set_image(image, levels)

    def set_maps(self, maps: Sequence[np.ndarray] | np.ndarray | None,
                 levels: tuple[float, float] = (0.0, 1.0)) -> None:
        if maps is None:
            for cell in self.cells:
                cell.set_map(None)
            return
        self.set_count(max(len(self.cells), len(maps)))
        for cell, heat in zip(self.cells, maps):
            cell.set_map(heat, levels)

    def set_captions(self, texts: Sequence[str], colors: Sequence[str | None] | None = None) -> None:
        colors = list(colors) if colors is not None else [None] * len(texts)
        for cell, text, color in zip(self.cells, texts, colors):
            cell.set_caption(text, color or self._text_color)
        self.updateGeometry()  # more caption lines: a little more height

    def captions(self) -> list[str]:
        return [cell.caption_text for cell in self.cells]

    # -- look ------------------------------------------------------------------------
    def set_colormap(self, name: str) -> None:
        self.colormap = name
        self._apply_luts()

    def set_alpha(self, alpha: float) -> None:
        self.alpha = float(np.clip(alpha, 0.0, 1.0))
        self._apply_luts()

    def _apply_luts(self) -> None:
        self._luts = (lookup_table(self.colormap), lookup_table(self.colormap, self.alpha))
        for cell in self.cells:
            cell.set_lookup(*self._luts)

    def set_titles(self, titles: Sequence[str]) -> None:
        """Rename the views along the edge (e.g. "saliency" / "Grad-CAM" for the heat map)."""
        if list(titles) == self._titles:
            return
        self._titles = list(titles)
        for item, text in zip(self._title_items, self._titles):
            item.setText(text, color=self._text_color)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.painted.emit()

    def view_items(self, index: int, view: str) -> tuple[pg.ImageItem | None, pg.ImageItem | None]:
        """(image item, map item) of one cell's view: for tests and screenshots."""
        cell = self.cells[index]
        return cell.base.get(view), cell.heat.get(view)
