"""Live curves that stay smooth with millions of points: ``StreamPlot`` and its ``StreamSeries``.

Every series is one persistent pyqtgraph item over numpy buffers that grow by doubling
(``PeakPyramid``); appending marks it dirty, and a 25 Hz timer redraws only what changed.
A redraw asks the pyramid for the visible x range at about one min/max bin per pixel (peak
downsampling + clip-to-view that never scans the whole array), so a frame costs the same
for a thousand points or a million. 1 px pens, no antialiasing while streaming, never
``clear()`` and re-plot.

The view follows the data (x: all of it, y: what is visible) until the user pans or zooms;
a double-click follows again. Hovering shows the nearest point of every series.
"""
from __future__ import annotations

import math
import zlib
from typing import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QLabel

from widgets.peak_pyramid import PeakPyramid
from widgets.smoothing import ema

FRAME_MS = 40  # 25 redraws a second at most


def stable_color(name: str) -> str:
    """The same colour for the same name in every session (hue from a hash of the name)."""
    h = zlib.crc32(name.encode("utf-8")) / 2**32
    c = QColor.fromHsvF((h * 0.618 + h) % 1.0, 0.72, 0.86)
    return c.name()


class StreamSeries:
    """One curve. ``set_data`` replaces, ``append`` extends; ``data()`` is exactly what was given."""

    def __init__(self, plot: "StreamPlot", key: str, name: str, color: str, *, dashed: bool = False,
                 symbol: str | None = None) -> None:
        self.plot, self.key, self.name, self.color = plot, key, name, color
        self.pyramid = PeakPyramid()  # y as drawn (smoothed, when smoothing is on)
        self._raw_y: np.ndarray | None = None  # the given y while smoothing is on
        self._raw_n = 0
        self._state: float | None = None  # where the smoothing continues from
        self.smoothing = 0.0
        pen = pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        self.item = pg.PlotDataItem(pen=pen, antialias=False, connect="finite", name=name)
        if symbol:
            self.item.setSymbol(symbol)
            self.item.setSymbolSize(7)  # a handful of points (one per validation): easy to see
            self.item.setSymbolPen(pg.mkPen("w", width=1))
            self.item.setSymbolBrush(pg.mkBrush(color))
        self.item.setDownsampling(auto=False)  # the pyramid does it
        self.dirty = True
        self.shown: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.pyramid)

    # -- data ---------------------------------------------------------------------------------
    def set_data(self, x: Iterable[float], y: Iterable[float]) -> None:
        self.pyramid.clear()
        self._raw_y, self._raw_n, self._state = None, 0, None
        self.append(x, y)

    def append(self, x: Iterable[float], y: Iterable[float]) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not len(x):
            return
        if self.smoothing > 0:
            self._keep_raw(y)
            y, self._state = ema(y, self.smoothing, self._state)
        self.pyramid.append(x, y)
        self.dirty = True
        self.plot.changed()

    def _keep_raw(self, y: np.ndarray) -> None:
        n = self._raw_n + len(y)
        if self._raw_y is None or len(self._raw_y) < n:
            grown = np.empty(max(1024, 2 * n))
            if self._raw_y is not None:
                grown[:self._raw_n] = self._raw_y[:self._raw_n]
            self._raw_y = grown
        self._raw_y[self._raw_n:n] = y
        self._raw_n = n

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) as given (before smoothing and downsampling)."""
        x = self.pyramid.x.view()
        y = self._raw_y[:self._raw_n] if self._raw_y is not None else self.pyramid.y.view()
        return x.copy(), y.copy()

    def set_smoothing(self, weight: float) -> None:
        weight = max(0.0, min(0.999, float(weight)))
        if weight == self.smoothing:
            return
        x, raw = self.data()
        self.smoothing = weight
        self._raw_y, self._raw_n, self._state = None, 0, None
        if weight > 0:
            self._keep_raw(raw)
            y, self._state = ema(raw, weight)
        else:
            y = raw
        self.pyramid.set(x, y)
        self.dirty = True
        self.plot.changed()

    def value_near(self, x: float) -> tuple[float, float, float] | None:
        """(x, y as given, y as drawn) of the point nearest to ``x``."""
        i = self.pyramid.nearest(x)
        if i is None:
            return None
        raw = self._raw_y[i] if self._raw_y is not None else self.pyramid.y.view()[i]
        return float(self.pyramid.x.view()[i]), float(raw), float(self.pyramid.y.view()[i])

    # -- drawing ------------------------------------------------------------------------------
    def redraw(self, x0: float, x1: float, bins: int) -> None:
        self.shown = self.pyramid.query(x0, x1, bins)
        self.item.setData(*self.shown)
        self.dirty = False


class StreamPlot(pg.PlotWidget):
    hovered = Signal(object, object)  # x (or None when the mouse left), [(series, x, y)]

    def __init__(self, parent=None, *, title: str = "", x_label: str = "", y_label: str = "") -> None:
        super().__init__(parent)
        self.setBackground(None)
        self.setMenuEnabled(False)
        self.setAntialiasing(False)
        item = self.getPlotItem()
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        if title:
            item.setTitle(title, size="9pt")
        if x_label:
            item.setLabel("bottom", x_label)
        if y_label:
            item.setLabel("left", y_label)
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
            # an axis (with its grid lines, under every curve) repaints from a pixmap when a curve
            # changes; its text is drawn again only when the range moves
            item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.vb = item.getViewBox()
        self.vb.disableAutoRange()  # the plot follows the data itself (see _frame)
        self.vb.sigRangeChangedManually.connect(self._user_moved)
        self.vb.sigRangeChanged.connect(self._range_changed)
        self.series: dict[str, StreamSeries] = {}
        self.follow = True
        self.log_y = False
        self.antialias = False
        self._dirty = True
        self._drawn: tuple | None = None  # (x0, x1, width) of the last redraw
        self._range_set: tuple | None = None  # the range the view was last told to follow
        self.frames = 0  # redraws done (tests, benchmarks)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._frame)
        self._timer.start()
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128, 140), width=1))
        self._cursor.setVisible(False)
        item.addItem(self._cursor, ignoreBounds=True)
        self.readout = QLabel(self)
        self.readout.setObjectName("readout")
        self.readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.readout.setStyleSheet("QLabel { background: rgba(30,30,30,190); color: white; padding: 2px 5px;"
                                   " border-radius: 3px; font-size: 8pt; }")
        self.readout.hide()
        self.x_format = lambda x: f"{x:,.0f}"
        self.y_format = lambda y: f"{y:.4g}"
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    # -- series -------------------------------------------------------------------------------
    def add_series(self, key: str, name: str, color: str, **kw) -> StreamSeries:
        if key in self.series:
            return self.series[key]
        s = StreamSeries(self, key, name, color, **kw)
        self.series[key] = s
        self.addItem(s.item)
        self._dirty = True
        return s

    def remove_series(self, key: str) -> None:
        s = self.series.pop(key, None)
        if s is not None:
            self.removeItem(s.item)
            self._dirty = True

    def changed(self) -> None:
        self._dirty = True

    def set_smoothing(self, weight: float) -> None:
        for s in self.series.values():
            if not s.item.opts.get("symbol"):  # single points (validations) stay as they are
                s.set_smoothing(weight)

    def set_log_y(self, on: bool) -> None:
        if on != self.log_y:
            self.log_y = on
            self.getPlotItem().setLogMode(False, on)
            self.follow = True
            self._range_set = None
            self._dirty = True

    def set_antialias(self, on: bool) -> None:
        """Off while streaming (cheap frames); on for a still picture (an export)."""
        self.antialias = on
        self.setAntialiasing(on)
        for s in self.series.values():
            s.item.opts["antialias"] = on
            s.item.updateItems()

    def follow_data(self) -> None:
        self.follow = True
        self._dirty = True

    def redraw_now(self) -> None:
        self._dirty = True
        self._frame()

    # -- frames -------------------------------------------------------------------------------
    def _frame(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        width = max(50, int(self.vb.width()))
        visible = [s for s in self.series.values() if s.item.isVisible()]
        if self.follow:
            xs = [(s.pyramid.x.view()[0], s.pyramid.x.view()[-1]) for s in visible if len(s)]
            if not xs:
                return
            x0, x1 = min(a for a, _ in xs), max(b for _, b in xs)
            if x0 == x1:
                x0, x1 = x0 - 0.5, x1 + 0.5
        else:
            (x0, x1), _ = self.vb.viewRange()
        view = (x0, x1, width)
        for s in visible:
            if s.dirty or view != self._drawn:
                s.redraw(x0, x1, 2 * width)  # between half a bin and two bins per pixel
        self._drawn = view
        self.frames += 1
        if self.follow:
            y0, y1 = self._y_bounds(visible)
            pad_x = (x1 - x0) * 0.01
            wanted = (x0 - pad_x, x1 + pad_x, y0, y1)
            if wanted != self._range_set:  # an unchanged range redraws nothing (axes, grid, text)
                self._range_set = wanted
                self.vb.setRange(xRange=wanted[:2], yRange=wanted[2:], padding=0.04)
            self._drawn = (x0, x1, width)

    def _y_bounds(self, visible: list[StreamSeries]) -> tuple[float, float]:
        lo, hi = math.inf, -math.inf
        for s in visible:
            y = s.shown[1]
            if self.log_y:
                y = y[y > 0]
            if len(y):
                with np.errstate(invalid="ignore"):
                    f = y[np.isfinite(y)]
                if len(f):
                    lo, hi = min(lo, float(f.min())), max(hi, float(f.max()))
        if not math.isfinite(lo):
            return (0.0, 1.0)
        if self.log_y:
            lo, hi = math.log10(lo), math.log10(hi)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi

    def _user_moved(self, *_) -> None:
        self.follow = False
        self._range_set = None
        self._dirty = True

    def _range_changed(self, *_) -> None:
        if not self.follow:
            self._dirty = True  # a new x range needs its own bins

    def mouseDoubleClickEvent(self, event) -> None:
        self.follow_data()
        event.accept()

    # -- hover --------------------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        if not self.sceneBoundingRect().contains(pos) or not self.vb.sceneBoundingRect().contains(pos):
            self._hide_hover()
            return
        x = self.vb.mapSceneToView(pos).x()
        found = []
        for s in self.series.values():
            if s.item.isVisible() and len(s):
                v = s.value_near(x)
                if v is not None:
                    found.append((s, v[0], v[1]))
        if not found:
            self._hide_hover()
            return
        nearest_x = min(found, key=lambda f: abs(f[1] - x))[1]
        self._cursor.setPos(nearest_x)
        self._cursor.setVisible(True)
        lines = [f"<b>{self.x_format(nearest_x)}</b>"]
        for s, sx, sy in found[:8]:
            lines.append(f"<span style='color:{s.color}'>■</span> {s.name}: {self.y_format(sy)}")
        self.readout.setText("<br>".join(lines))
        self.readout.adjustSize()
        self.readout.move(int(self.vb.sceneBoundingRect().left()) + 6, int(self.vb.sceneBoundingRect().top()) + 4)
        self.readout.show()
        self.hovered.emit(x, found)

    def _hide_hover(self) -> None:
        if self.readout.isVisible():
            self.readout.hide()
            self._cursor.setVisible(False)
            self.hovered.emit(None, [])

    def leaveEvent(self, event) -> None:
        self._hide_hover()
        super().leaveEvent(event)
