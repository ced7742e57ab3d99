"""The node editor's view: zoom, pan, fit, and the dispatch of mouse gestures.

Every gesture ends in a request signal; the controller decides (and may refuse, showing the
reason with ``show_notice``). The view never edits a model.
"""
from __future__ import annotations

import math
from typing import Callable, Hashable

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPen, QPixmapCache, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView

from widgets.node_editor import interactions as I
from widgets.node_editor import theme as T
from widgets.node_editor.edge_item import EdgeItem
from widgets.node_editor.node_item import NodeItem
from widgets.node_editor.scene import NodeEditorScene
from widgets.node_editor.title_editor import TitleEditor

MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
# Node caches live in QPixmapCache (10 MB by default: ~150 cards at 100 %). A big graph would
# evict and re-render cards on every pan; 96 MB holds ~1500.
PIXMAP_CACHE_KB = 96 * 1024
FIT_MAX_ZOOM = 1.0  # fitting a tiny graph does not blow it up
READABLE_ZOOM = 0.6  # below this a card's small text is hard to read
ZOOM_STEP = 1.25
GRID = 20.0


class NodeEditorView(QGraphicsView):
    connect_requested = Signal(object, object, int, QPointF)  # src, dst, port (-1: the free one), where
    reconnect_requested = Signal(object, object, int, QPointF)  # edge key, new dst (None: remove), port
    edge_released = Signal(object, QPointF)  # an edge from src dropped on empty canvas
    nodes_dragged = Signal(dict, int)  # {key: (x, y) centre}, gesture id (one per drag)
    node_double_clicked = Signal(object)
    canvas_double_clicked = Signal(QPointF)
    drop_requested = Signal(str, bytes, QPointF)  # mime format, data, scene position
    context_menu_requested = Signal(str, object, QPointF, QPoint)  # "canvas"|"node"|"edge", key, scene, global
    title_edited = Signal(object, str)  # node key, new title

    def __init__(self, scene: NodeEditorScene | None = None, parent=None) -> None:
        super().__init__(parent)
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.setScene(scene or NodeEditorScene(self))
        self.accepted_drop_formats: list[str] = []
        #: optional (src, dst, port) -> reason or None: colours a dragged edge red before release
        self.connection_checker: Callable[[Hashable, Hashable, int], str | None] | None = None
        self._interaction: I.Interaction | None = None
        self._space = False
        self._mouse_scene = QPointF()
        self._mouse_inside = False
        self._title_editor = TitleEditor(self.viewport())
        self._title_editor.committed.connect(self.title_edited)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setMouseTracking(True)
        self.centerOn(0, 0)

    def scene(self) -> NodeEditorScene:  # typed
        return super().scene()

    def scene_point(self, viewport_pos: QPointF) -> QPointF:
        """Sub-pixel exact (``mapToScene`` rounds to whole pixels: 2 units at 50 % zoom)."""
        return self.viewportTransform().inverted()[0].map(QPointF(viewport_pos))

    # -- zoom, pan, fit ------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the scene point under ``anchor`` (viewport pixels; default: the centre) still."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if abs(zoom - self.zoom()) < 1e-9:
            return
        vp = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        fixed = self.scene_point(vp)
        self.resetTransform()
        self.scale(zoom, zoom)
        moved = self.viewportTransform().map(fixed)
        self.pan_by(moved.x() - vp.x(), moved.y() - vp.y())
        self.resetCachedContent()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / ZOOM_STEP)

    def pan_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def fit(self, rect: QRectF | None = None, min_zoom: float = MIN_ZOOM) -> None:
        """Show every node (or ``rect``) with a margin, never zooming in past 100 %.

        With ``min_zoom`` (e.g. the zoom where text stays readable) a graph too big to fit
        is shown from its top, where its inputs are, centred across."""
        rect = rect if rect is not None else self.scene().items_bounds()
        if rect.isEmpty():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        vp = self.viewport().rect()
        zoom = min(vp.width() / rect.width(), vp.height() / rect.height(), FIT_MAX_ZOOM)
        self.set_zoom(max(zoom, min_zoom))
        if zoom >= min_zoom:
            self.centerOn(rect.center())
        else:
            half = vp.height() / 2 / self.zoom()
            self.centerOn(QPointF(rect.center().x(), rect.top() + half))

    def fit_readable(self) -> None:
        """The first view of a graph: all of it if that stays readable, else its top part."""
        self.fit(min_zoom=READABLE_ZOOM)

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # -- where the mouse is (for paste / search at the cursor) -------------------------------------
    def mouse_scene_pos(self) -> QPointF | None:
        """The last mouse position over the canvas, or None when the mouse is elsewhere."""
        return QPointF(self._mouse_scene) if self._mouse_inside else None

    def enterEvent(self, event) -> None:
        self._mouse_inside = True
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._mouse_inside = False
        super().leaveEvent(event)

    # -- notices and title editing -------------------------------------------------------------------
    def show_notice(self, text: str, scene_pos: QPointF | None = None) -> None:
        if scene_pos is None:
            scene_pos = self.mouse_scene_pos() or self.visible_scene_rect().center()
        self.scene().show_notice(text, scene_pos)

    def edit_title(self, key: Hashable, text: str) -> None:
        """Inline editor over the node's title; Enter commits (``title_edited``), Esc cancels."""
        node = self.scene().node(key)
        top_left = self.mapFromScene(node.top_left())
        width = round(T.NODE_W * self.zoom())
        self._title_editor.start(key, text, top_left, width)

    @property
    def title_editor(self) -> TitleEditor:
        return self._title_editor

    # -- background ------------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, T.color(T.BACKGROUND))
        zoom = self.zoom()
        for step, colour, min_zoom in ((GRID, T.GRID_MINOR, 0.6), (GRID * 5, T.GRID_MAJOR, 0.15)):
            if zoom < min_zoom:  # a grid finer than ~12 px is noise
                continue
            pen = QPen(T.color(colour), 1)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x0, y0 = math.floor(rect.left() / step) * step, math.floor(rect.top() / step) * step
            nx, ny = int(rect.width() / step) + 2, int(rect.height() / step) + 2
            top, bottom, left, right = rect.top(), rect.bottom(), rect.left(), rect.right()
            painter.drawLines([QLineF(x0 + i * step, top, x0 + i * step, bottom) for i in range(nx)]
                              + [QLineF(left, y0 + j * step, right, y0 + j * step) for j in range(ny)])

    # -- mouse ---------------------------------------------------------------------------------------
    def _start(self, interaction: I.Interaction, event: QMouseEvent) -> None:
        self.scene().edge_label.setVisible(False)  # hover feedback would trail the gesture
        self._interaction = interaction
        interaction.press(event)

    def cancel_interaction(self) -> None:
        if self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.scene().hide_notice()
        if self._interaction is not None:
            return
        if self._title_editor.isVisible():
            self._title_editor.commit()
        pos = self.scene_point(event.position())
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._start(I.Pan(self), event)
            return
        if button != Qt.MouseButton.LeftButton:
            return  # a right press only opens the context menu: it keeps the selection
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        node = self.scene().node_at(pos)
        if node is not None:
            hit = node.port_at(pos)
            if hit and hit[0] == "out":
                self._start(I.NewEdge(self, node), event)
                return
            if hit and hit[0] == "in":
                edge = next((e for e in node.in_edges if e.port == hit[1]), None)
                if edge is not None:  # pick the edge up by its end
                    self._start(I.NewEdge(self, edge.src, detached=edge), event)
                else:
                    self._start(I.NewEdgeToInput(self, node, hit[1]), event)
                return
            self._start(I.MoveNodes(self, node), event)
            return
        edge = self.scene().edge_at(pos)
        if edge is not None:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                keys = set(self.scene().selected_edge_keys()) ^ {edge.key}
                self.scene().set_selection(self.scene().selected_node_keys(), keys)
            else:
                self.scene().set_selection((), {edge.key})
            return
        self._start(I.RubberBand(self), event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._mouse_scene = self.scene_point(event.position())
        self._mouse_inside = True
        if self._interaction is not None:
            self._interaction.move(event)
            return
        super().mouseMoveEvent(event)  # hover events for edges and tooltips
        if not self._space:
            node = self.scene().node_at(self._mouse_scene)
            on_port = node is not None and node.port_at(self._mouse_scene) is not None
            if on_port:
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            else:
                self.viewport().unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        interaction, self._interaction = self._interaction, None
        if interaction is not None:
            interaction.release(event)
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.scene_point(event.position())
        node = self.scene().node_at(pos)
        if node is not None:
            self.scene().set_selection({node.key})
            self.node_double_clicked.emit(node.key)
        elif self.scene().edge_at(pos) is None:
            self.canvas_double_clicked.emit(pos)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.set_zoom(self.zoom() * 1.0015 ** delta, event.position())
        event.accept()

    def contextMenuEvent(self, event) -> None:
        pos = self.mapToScene(event.pos())
        node = self.scene().node_at(pos)
        if node is not None:
            if node.key not in self.scene().selected_node_keys():
                self.scene().set_selection({node.key})
            self.context_menu_requested.emit("node", node.key, pos, event.globalPos())
            return
        edge = self.scene().edge_at(pos)
        if edge is not None:
            self.scene().set_selection((), {edge.key})
            self.context_menu_requested.emit("edge", edge.key, pos, event.globalPos())
            return
        self.context_menu_requested.emit("canvas", None, pos, event.globalPos())

    # -- keys ----------------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape:
            self.cancel_interaction()
            self.scene().hide_notice()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space = False
        super().focusOutEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab belongs to the canvas (it opens the layer search)

    # -- drops (e.g. from a palette) --------------------------------------------------------------------------
    def _drop_format(self, event) -> str | None:
        md = event.mimeData()
        return next((f for f in self.accepted_drop_formats if md.hasFormat(f)), None)

    def dragEnterEvent(self, event) -> None:
        if self._drop_format(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if self._drop_format(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        event.accept()

    def dropEvent(self, event) -> None:
        fmt = self._drop_format(event)
        if not fmt:
            event.ignore()
            return
        event.acceptProposedAction()
        pos = self.scene_point(event.position())
        self.drop_requested.emit(fmt, bytes(event.mimeData().data(fmt).data()), pos)
