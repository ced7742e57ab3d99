"""The scene: node and edge items keyed by the caller's ids; it holds no model of its own.

A controller mirrors its model into it (``add_node``, ``move_node``, ``add_edge`` ...) and
reads user gestures from the view. Keys are opaque hashables.
"""
from __future__ import annotations

from typing import Any, Hashable, Iterable

from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene

from widgets.node_editor import theme as T
from widgets.node_editor.content import NodeContent
from widgets.node_editor.edge_item import EdgeItem, PillItem
from widgets.node_editor.node_item import NodeItem

NOTICE_MS = 4000
EXTENT = 50_000.0  # the scene is a large fixed area: the view pans freely without scroll bars


class NodeEditorScene(QGraphicsScene):
    #: the node keys selected changed (edge selection is reported too, via selected_edge_keys)
    selection_edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSceneRect(QRectF(-EXTENT, -EXTENT, 2 * EXTENT, 2 * EXTENT))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self._nodes: dict[Hashable, NodeItem] = {}
        self._edges: dict[Hashable, EdgeItem] = {}
        self._edge_label = PillItem(fg=T.SHAPE_TEXT)
        self._edge_label.setVisible(False)
        self.addItem(self._edge_label)
        self._notice = PillItem(fg="#ffffff", bg="#8f2d33", border=T.ERROR, role="small",
                                offset=QPointF(14, 16))  # below-right of the cursor
        self._notice.setVisible(False)
        self._notice.setZValue(200)
        self.addItem(self._notice)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self.hide_notice)
        self._quiet = 0  # >0 while selecting programmatically: one signal at the end
        self.selectionChanged.connect(self._selection_changed)

    # -- nodes -----------------------------------------------------------------------------
    def add_node(self, key: Hashable, content: NodeContent, center: tuple[float, float]) -> NodeItem:
        item = NodeItem(key, content)
        item.set_center(*center)
        self._nodes[key] = item
        self.addItem(item)
        return item

    def remove_node(self, key: Hashable) -> None:
        item = self._nodes.pop(key)
        for e in list(item.in_edges) + list(item.out_edges):
            self.remove_edge(e.key)
        self.removeItem(item)

    def update_node(self, key: Hashable, content: NodeContent) -> None:
        item = self._nodes[key]
        before = (item.content.ports, item.height)
        item.set_content(content)
        if (item.content.ports, item.height) != before:  # ports moved: re-route the edges
            for e in item.in_edges + item.out_edges:
                e.adjust()

    def move_node(self, key: Hashable, center: tuple[float, float]) -> None:
        item = self._nodes[key]
        item.set_center(*center)
        for e in item.in_edges:
            e.adjust()
        for e in item.out_edges:
            e.adjust()

    def node(self, key: Hashable) -> NodeItem:
        return self._nodes[key]

    def has_node(self, key: Hashable) -> bool:
        return key in self._nodes

    def nodes(self) -> dict[Hashable, NodeItem]:
        return self._nodes

    def set_node_health(self, key: Hashable, color: str | None) -> None:
        self._nodes[key].set_health(color)

    # -- edges -------------------------------------------------------------------------------
    def add_edge(self, key: Hashable, src: Hashable, dst: Hashable, port: int) -> EdgeItem:
        s, d = self._nodes[src], self._nodes[dst]
        item = EdgeItem(key, s, d, port)
        s.out_edges.append(item)
        d.in_edges.append(item)
        self._edges[key] = item
        self.addItem(item)
        s.update()  # its output port is now drawn as connected
        return item

    def remove_edge(self, key: Hashable) -> None:
        item = self._edges.pop(key)
        if item.hovered:
            self.edge_hovered(item, False)
        item.src.out_edges.remove(item)
        item.dst.in_edges.remove(item)
        item.src.update()
        self.removeItem(item)

    def edge(self, key: Hashable) -> EdgeItem:
        return self._edges[key]

    def edges(self) -> dict[Hashable, EdgeItem]:
        return self._edges

    def set_edge_info(self, key: Hashable, label: str, error: bool, tooltip: str) -> None:
        item = self._edges[key]
        item.set_info(label, error, tooltip)
        if item.hovered:
            self.edge_hovered(item, True)

    def edge_hovered(self, item: EdgeItem, on: bool) -> None:
        """Show the hovered edge's label (its tensor shape) at the middle of the curve."""
        if on and item.label:
            self._edge_label.set_text(item.label)
            self._edge_label.setPos(item.midpoint())
            self._edge_label.setVisible(True)
        else:
            self._edge_label.setVisible(False)

    @property
    def edge_label(self) -> PillItem:
        return self._edge_label

    def clear_graph(self) -> None:
        for key in list(self._edges):
            self.remove_edge(key)
        for key in list(self._nodes):
            self.remove_node(key)

    # -- hit testing ---------------------------------------------------------------------------
    def node_at(self, pos: QPointF, exclude: Any = None) -> NodeItem | None:
        # ports overhang the card: look at a small area, not a point
        for item in self.items(QRectF(pos.x() - T.PORT_HIT, pos.y() - T.PORT_HIT, 2 * T.PORT_HIT, 2 * T.PORT_HIT)):
            if isinstance(item, NodeItem) and item is not exclude:
                if item.shape().contains(item.mapFromScene(pos)) or item.port_at(pos):
                    return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
        return None

    def items_bounds(self) -> QRectF:
        rect = QRectF()
        for item in self._nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # -- selection -------------------------------------------------------------------------------
    def selected_node_keys(self) -> list[Hashable]:
        return [k for k, it in self._nodes.items() if it.isSelected()]

    def selected_edge_keys(self) -> list[Hashable]:
        return [k for k, it in self._edges.items() if it.isSelected()]

    def set_selection(self, nodes: Iterable[Hashable] = (), edges: Iterable[Hashable] = ()) -> None:
        """Select exactly these items; one ``selection_edited`` signal at most."""
        nodes, edges = set(nodes), set(edges)
        before = (self.selected_node_keys(), self.selected_edge_keys())
        self._quiet += 1
        try:
            for k, it in self._nodes.items():
                it.setSelected(k in nodes)
            for k, it in self._edges.items():
                it.setSelected(k in edges)
        finally:
            self._quiet -= 1
        if (self.selected_node_keys(), self.selected_edge_keys()) != before:
            self.selection_edited.emit()

    def _selection_changed(self) -> None:
        if not self._quiet:
            self.selection_edited.emit()

    # -- notices (refusals shown where the mouse is) ----------------------------------------------
    def show_notice(self, text: str, pos: QPointF) -> None:
        self._notice.set_text(text)
        self._notice.setPos(pos)
        self._notice.setVisible(True)
        self._notice_timer.start(NOTICE_MS)

    def hide_notice(self) -> None:
        self._notice.setVisible(False)

    @property
    def notice(self) -> PillItem:
        return self._notice

