"""A node: a rounded card with inputs on top and the output at the bottom (top-down flow).

Painting is kept cheap for big graphs: texts are laid out once per content change
(``QStaticText``), the item is cached in device coordinates, and when zoomed out far the
card is drawn as a plain coloured block (level of detail).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyle, QStyleOptionGraphicsItem, QWidget

from widgets.node_editor import theme as T
from widgets.node_editor.content import NodeContent

LOD_PLAIN = 0.4  # below this zoom a node is a plain block: text would be unreadable anyway
PAD = 10.0


_PLAIN = Qt.TextFormat.PlainText
_CACHING = QStaticText.PerformanceHint.AggressiveCaching
_ELIDE = Qt.TextElideMode.ElideRight


def _static(text: str) -> QStaticText:
    st = QStaticText(text)
    st.setTextFormat(_PLAIN)
    st.setPerformanceHint(_CACHING)
    return st


@lru_cache(maxsize=None)
def _metrics(role: str) -> QFontMetricsF:
    return QFontMetricsF(T.font(role))


@lru_cache(maxsize=4096)  # shapes and types repeat across nodes: measure each text once
def _elide(text: str, role: str, width: float) -> str:
    return _metrics(role).elidedText(text, _ELIDE, width)


@lru_cache(maxsize=4096)
def _width(text: str, role: str) -> float:
    return _metrics(role).horizontalAdvance(text)


class NodeItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 1

    def __init__(self, key: Any, content: NodeContent) -> None:
        super().__init__()
        self.key = key
        self.in_edges: list = []  # EdgeItems ending here (kept by the scene)
        self.out_edges: list = []
        self._target_port: int | None = None  # highlighted while an edge is dragged over
        self._target_refused = False
        self._health: str | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self._h = 0.0
        self.set_content(content)

    def type(self) -> int:
        return self.Type

    # -- content -------------------------------------------------------------------------
    def set_content(self, content: NodeContent) -> None:
        """Lay the texts out once here, not per paint; only the parts that changed."""
        old = getattr(self, "content", None)
        if content == old:
            return
        self.content = c = content
        if old is None or (c.title, c.kind) != (old.title, old.kind):
            kind_w = min(_width(c.kind, "small"), T.NODE_W * 0.45)
            self._kind = _static(_elide(c.kind, "small", kind_w + 1))
            self._kind_w = kind_w
            self._title = _static(_elide(c.title, "title", T.NODE_W - 2 * PAD - kind_w - 8))
        if old is None or c.detail != old.detail:
            self._detail = _static(_elide(c.detail, "small", T.NODE_W - 2 * PAD))
            self._set_height(T.NODE_H if c.detail else T.NODE_H_COMPACT)
        if old is None or (c.shape, c.cost, c.error) != (old.shape, old.cost, old.error):
            self._cost_w = _width(c.cost, "small") if c.cost else 0.0
            self._cost = _static(c.cost)
            if c.error:
                foot, self._footer_role = "⚠ " + c.error, "small"
                width = T.NODE_W - 2 * PAD
            else:
                foot, self._footer_role = c.shape, "mono"
                width = T.NODE_W - 2 * PAD - self._cost_w - 6
            self._footer = _static(_elide(foot, self._footer_role, width))
        if old is None or c.ports != old.ports:
            n = len(c.ports)  # input ports spread evenly over the top edge
            self._port_x = {p: T.NODE_W * (i + 1) / (n + 1) for i, p in enumerate(c.ports)}
        if old is None or c.tooltip != old.tooltip:
            self.setToolTip(c.tooltip)
        self.update()

    def set_target_port(self, port: int | None, refused: bool = False) -> None:
        """Highlight the port a dragged edge would connect to (red: it would be refused)."""
        if (port, refused) != (self._target_port, self._target_refused):
            self._target_port, self._target_refused = port, refused
            self.update()

    def set_health(self, color: str | None) -> None:
        if color != self._health:
            self._health = color
            self.update()

    @property
    def health(self) -> str | None:
        return self._health

    # -- geometry ----------------------------------------------------------------------------
    # The item's origin is the card's centre (the model's position); painting works in
    # card coordinates, (0, 0) at the top-left corner, shifted by _origin.
    def _set_height(self, h: float) -> None:
        """Cards without key parameters are shorter (no empty middle row)."""
        if h == self._h:
            return
        self.prepareGeometryChange()
        self._h = h
        self._origin = QPointF(-T.NODE_W / 2, -h / 2)
        self._rect = QRectF(0, 0, T.NODE_W, h)
        self._path = QPainterPath()
        self._path.addRoundedRect(self._rect, T.NODE_RADIUS, T.NODE_RADIUS)
        self._shape = self._path.translated(self._origin)

    @property
    def height(self) -> float:
        return self._h

    def center(self) -> QPointF:
        return self.pos()

    def set_center(self, x: float, y: float) -> None:
        self.setPos(x, y)

    def top_left(self) -> QPointF:
        return self.pos() + self._origin

    def input_anchor(self, port: int) -> QPointF:
        """Scene position of an input port (a port not shown maps to the middle)."""
        return self.top_left() + QPointF(self._port_x.get(port, T.NODE_W / 2), 0.0)

    def output_anchor(self) -> QPointF:
        return self.pos() + QPointF(0.0, self._h / 2)

    def port_at(self, scene_pos: QPointF, radius: float = T.PORT_HIT) -> tuple[str, int] | None:
        """("in", port) or ("out", 0) when ``scene_pos`` is on a port."""
        p = scene_pos - self.top_left()
        if self.content.has_output and (p - QPointF(T.NODE_W / 2, self._h)).manhattanLength() <= radius * 1.4:
            return ("out", 0)
        if abs(p.y()) <= radius:
            best = min(self._port_x.items(), key=lambda kv: abs(kv[1] - p.x()), default=None)
            if best is not None and abs(best[1] - p.x()) <= radius:
                return ("in", best[0])
        return None

    def nearest_input(self, scene_pos: QPointF) -> int | None:
        """The input port a dragged edge released over this node goes to: the closest free one."""
        free = [p for p in self.content.ports if p not in self.content.connected]
        candidates = free or list(self.content.ports)
        if not candidates:
            return None
        x = (scene_pos - self.top_left()).x()
        return min(candidates, key=lambda p: abs(self._port_x[p] - x))

    def boundingRect(self) -> QRectF:
        return self._rect.translated(self._origin).adjusted(-7, -7, 7, 7)

    def shape(self) -> QPainterPath:
        return self._shape

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = self.content
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.translate(self._origin)
        try:
            self._paint_card(painter, c, selected, lod)
        finally:
            painter.translate(-self._origin)  # the view does not save painter state per item

    def _paint_card(self, painter: QPainter, c: NodeContent, selected: bool, lod: float) -> None:
        h, foot_y = self._h, self._h - T.FOOTER_H
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        border = T.color(T.ERROR) if c.error else T.color(T.NODE_BORDER)
        if selected:
            border = T.color(T.NODE_SELECTED)
        body = T.color(T.ERROR_BODY) if c.error else T.color(T.NODE_BODY)
        if lod < LOD_PLAIN:  # an overview: a block tinted by category, borders at least 1 px
            tint = QColor(T.color(c.accent))
            tint.setAlpha(90)
            painter.setPen(QPen(border if (selected or c.error) else T.color(T.NODE_BORDER).lighter(130),
                                max(1.5, (2.5 if (selected or c.error) else 1.0) / max(lod, 0.01))))
            painter.setBrush(body)
            painter.drawRect(self._rect)
            painter.fillRect(self._rect, tint)
            painter.fillRect(QRectF(0, 0, T.NODE_W, T.HEADER_H), T.color(c.accent))
            return
        if selected:  # soft halo
            halo = T.color(T.NODE_SELECTED).lighter(100)
            halo.setAlpha(70)
            painter.setPen(QPen(halo, 6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._path)
        painter.setOpacity(0.55 if c.muted else 1.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(body)
        painter.drawPath(self._path)
        # header band with the category accent on its left
        painter.save()
        painter.setClipPath(self._path)
        painter.fillRect(QRectF(0, 0, T.NODE_W, T.HEADER_H), T.color(T.NODE_HEADER))
        painter.fillRect(QRectF(0, 0, 4, h), T.color(c.accent))
        painter.restore()
        painter.setPen(QPen(T.color("#3a3f47"), 1))
        painter.drawLine(QPointF(4, foot_y - 2), QPointF(T.NODE_W, foot_y - 2))
        painter.setPen(QPen(border, 2 if (selected or c.error) else 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        # texts (laid out in set_content)
        painter.setFont(T.font("title"))
        painter.setPen(T.color(T.TEXT))
        painter.drawStaticText(QPointF(PAD, 5), self._title)
        painter.setFont(T.font("small"))
        painter.setPen(T.color(T.TEXT_MUTED))
        painter.drawStaticText(QPointF(T.NODE_W - PAD - self._kind_w, 7), self._kind)
        if c.detail:
            painter.drawStaticText(QPointF(PAD, T.HEADER_H + 2), self._detail)
        if c.cost and not c.error:
            painter.drawStaticText(QPointF(T.NODE_W - PAD - self._cost_w, foot_y + 3), self._cost)
        painter.setFont(T.font(self._footer_role))
        painter.setPen(T.color(T.ERROR if c.error else (T.HINT if c.hint else T.SHAPE_TEXT)))
        painter.drawStaticText(QPointF(PAD, foot_y + 3), self._footer)
        painter.setOpacity(1.0)
        self._paint_ports(painter)
        if self._health:
            painter.setPen(QPen(T.color(T.NODE_BODY), 2))
            painter.setBrush(T.color(self._health))
            painter.drawEllipse(QPointF(T.NODE_W - 3, 3), 5.5, 5.5)

    def _paint_ports(self, painter: QPainter) -> None:
        c = self.content
        r = T.PORT_R
        for p, x in self._port_x.items():
            centre = QPointF(x, 0)
            if p == self._target_port:
                col = T.color(T.ERROR if self._target_refused else T.PORT_TARGET)
                painter.setPen(QPen(col, 2))
                painter.setBrush(col)
                painter.drawEllipse(centre, r + 1.5, r + 1.5)
            elif p in c.connected:
                painter.setPen(QPen(T.color(T.NODE_BODY), 1.5))
                painter.setBrush(T.color(T.PORT_FILL))
                painter.drawEllipse(centre, r, r)
            else:  # a free port: hollow ring
                painter.setPen(QPen(T.color(T.PORT_FREE), 1.5))
                painter.setBrush(T.color(T.NODE_BODY))
                painter.drawEllipse(centre, r, r)
        if c.has_output:
            painter.setPen(QPen(T.color(T.NODE_BODY), 1.5))
            painter.setBrush(T.color(T.PORT_FILL if self.out_edges else T.PORT_FREE))
            painter.drawEllipse(QPointF(T.NODE_W / 2, self._h), r, r)
