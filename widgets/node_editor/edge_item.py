"""Edges: a vertical cubic curve from an output port (bottom) to an input port (top).

Hovering an edge highlights it and shows its label (the tensor shape) in a pill at its
middle; the scene owns that one shared label item.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyle, QStyleOptionGraphicsItem, QWidget

from widgets.node_editor import theme as T


def curve(p0: QPointF, p3: QPointF) -> QPainterPath:
    """Leave downwards, arrive from above; a backwards edge (target higher) loops wider."""
    dy = p3.y() - p0.y()
    bend = max(40.0, abs(dy) * 0.5) if dy >= 0 else max(80.0, abs(dy) * 0.35)
    path = QPainterPath(p0)
    path.cubicTo(p0 + QPointF(0, bend), p3 - QPointF(0, bend), p3)
    return path


class EdgeItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 2

    def __init__(self, key: Any, src, dst, port: int) -> None:
        super().__init__()
        self.key, self.src, self.dst, self.port = key, src, dst, port
        self.label = ""
        self._tooltip = ""
        self.error = False
        self.hovered = False
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        self.adjust()

    def type(self) -> int:
        return self.Type

    def adjust(self) -> None:
        """Follow the end nodes (called when either moves or its ports change)."""
        self.prepareGeometryChange()
        self._path = curve(self.src.output_anchor(), self.dst.input_anchor(self.port))
        self._shape = None

    def set_info(self, label: str, error: bool, tooltip: str) -> None:
        self.label = label
        if tooltip != self._tooltip:
            self._tooltip = tooltip
            self.setToolTip(tooltip)
        if error != self.error:
            self.error = error
            self.update()

    def midpoint(self) -> QPointF:
        return self._path.pointAtPercent(0.5)

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def shape(self) -> QPainterPath:
        if self._shape is None:  # a wide stroke, so the thin curve is easy to hover and click
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if self.error:
            col = T.color(T.ERROR)
        elif selected:
            col = T.color(T.NODE_SELECTED)
        else:
            col = T.color(T.EDGE_HOVER if self.hovered else T.EDGE)
        width = 2.6 if (self.hovered or selected) else 1.6
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 1.0:  # zoomed out: keep the curve at least a pixel wide
            width = max(width, 1.0 / max(lod, 0.01))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(col, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)

    def hoverEnterEvent(self, event) -> None:
        self.hovered = True
        self.update()
        scene = self.scene()
        if scene is not None and hasattr(scene, "edge_hovered"):
            scene.edge_hovered(self, True)

    def hoverLeaveEvent(self, event) -> None:
        self.hovered = False
        self.update()
        scene = self.scene()
        if scene is not None and hasattr(scene, "edge_hovered"):
            scene.edge_hovered(self, False)


class DraftEdgeItem(QGraphicsItem):
    """The edge being dragged out of a port, following the mouse."""

    def __init__(self, start: QPointF) -> None:
        super().__init__()
        self._start = start
        self._path = curve(start, start)
        self.refused = False
        self.setZValue(5)

    def set_end(self, end: QPointF, refused: bool = False) -> None:
        self.set_ends(self._start, end, refused)

    def set_ends(self, start: QPointF, end: QPointF, refused: bool = False) -> None:
        self.prepareGeometryChange()
        self._path = curve(start, end)
        self.refused = refused
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        col = T.color(T.ERROR if self.refused else T.EDGE_DRAFT)
        painter.setPen(QPen(col, 2, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap))
        painter.drawPath(self._path)
        painter.setBrush(col)
        painter.drawEllipse(self._path.currentPosition(), 3.5, 3.5)


class PillItem(QGraphicsItem):
    """A small rounded label that keeps its size at any zoom (edge shapes, notices)."""

    def __init__(self, fg: str = T.TEXT, bg: str = "#111317", border: str = T.NODE_BORDER, role: str = "mono",
                 offset: QPointF | None = None) -> None:
        super().__init__()
        self._offset = offset  # top-left corner in pixels from pos; None: centred on pos
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(100)
        self._fg, self._bg, self._border, self._role = fg, bg, border, role
        self._text = QStaticText()
        self._rect = QRectF()
        self.text = ""

    def set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self.text = text
        self._text = QStaticText(text)
        self._text.setTextFormat(Qt.TextFormat.PlainText)
        fm = QFontMetricsF(T.font(self._role))
        lines = text.split("\n")
        w = max(fm.horizontalAdvance(line) for line in lines) + 16
        h = fm.height() * len(lines) + 8
        o = self._offset
        self._rect = QRectF(o.x(), o.y(), w, h) if o is not None else QRectF(-w / 2, -h / 2, w, h)
        self.update()

    def set_colors(self, fg: str, bg: str, border: str) -> None:
        self._fg, self._bg, self._border = fg, bg, border
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(T.color(self._border), 1))
        painter.setBrush(T.color(self._bg))
        painter.drawRoundedRect(self._rect, 5, 5)
        painter.setFont(T.font(self._role))
        painter.setPen(T.color(self._fg))
        painter.drawStaticText(self._rect.topLeft() + QPointF(8, 4), self._text)
