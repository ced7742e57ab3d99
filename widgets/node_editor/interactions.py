"""Mouse gestures as small objects (Orange canvas style): the view starts one on a press,
feeds it moves, and drops it on release. Each gesture ends in a request signal of the view;
none of them edits anything itself.
"""
from __future__ import annotations

import itertools

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPen
from PySide6.QtWidgets import QApplication, QGraphicsRectItem

from widgets.node_editor import theme as T
from widgets.node_editor.edge_item import DraftEdgeItem, EdgeItem
from widgets.node_editor.node_item import NodeItem

_gestures = itertools.count(1)


def _additive(event: QMouseEvent) -> bool:
    return bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))


class Interaction:
    def __init__(self, view) -> None:
        self.view = view
        self.scene = view.scene()

    def press(self, event: QMouseEvent) -> None:
        pass

    def move(self, event: QMouseEvent) -> None:
        pass

    def release(self, event: QMouseEvent) -> None:
        pass

    def cancel(self) -> None:
        """Esc, focus loss or the scene being rebuilt: undo any temporary state."""

    def scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.view.scene_point(event.position())


class Pan(Interaction):
    """Middle button, or Space + left button: drag the canvas."""

    def press(self, event: QMouseEvent) -> None:
        self._last = event.position()
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: QMouseEvent) -> None:
        d = event.position() - self._last
        self._last = event.position()
        self.view.pan_by(-d.x(), -d.y())

    def release(self, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()


class RubberBand(Interaction):
    """Drag on empty canvas: select the nodes the rectangle touches (Ctrl/Shift: add to them)."""

    def press(self, event: QMouseEvent) -> None:
        self._origin = self.scene_pos(event)
        self._base = set(self.scene.selected_node_keys()) if _additive(event) else set()
        if not _additive(event):
            self.scene.set_selection()
        self._rect = QGraphicsRectItem()
        col = QColor(T.RUBBER_BAND)
        pen = QPen(col, 1)
        pen.setCosmetic(True)
        self._rect.setPen(pen)
        col.setAlpha(40)
        self._rect.setBrush(QBrush(col))
        self._rect.setZValue(50)
        self._rect.setVisible(False)
        self.scene.addItem(self._rect)

    def move(self, event: QMouseEvent) -> None:
        rect = QRectF(self._origin, self.scene_pos(event)).normalized()
        self._rect.setRect(rect)
        self._rect.setVisible(True)
        hit = {it.key for it in self.scene.items(rect, Qt.ItemSelectionMode.IntersectsItemShape)
               if isinstance(it, NodeItem)}
        self.scene.set_selection(self._base | hit)

    def release(self, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        if self._rect.scene() is not None:
            self.scene.removeItem(self._rect)


class MoveNodes(Interaction):
    """Press on a node: select it; drag: move the selection (requests carry a gesture id so a
    controller can merge one drag into one undo step)."""

    def __init__(self, view, node: NodeItem) -> None:
        super().__init__(view)
        self.node = node
        self.gesture = next(_gestures)
        self.dragged = False

    def press(self, event: QMouseEvent) -> None:
        self._press = event.position()
        self._origin = self.scene_pos(event)
        sel = set(self.scene.selected_node_keys())
        key = self.node.key
        if _additive(event):
            sel ^= {key}
            self.scene.set_selection(sel, self.scene.selected_edge_keys())
        elif key not in sel:
            self.scene.set_selection({key})
        self._start = {k: self.scene.node(k).center() for k in self.scene.selected_node_keys()}

    def move(self, event: QMouseEvent) -> None:
        if not self._start:
            return
        if not self.dragged:
            if (event.position() - self._press).manhattanLength() < QApplication.startDragDistance():
                return
            self.dragged = True
        d = self.scene_pos(event) - self._origin
        self.view.nodes_dragged.emit({k: (round(p.x() + d.x(), 1), round(p.y() + d.y(), 1))
                                      for k, p in self._start.items()}, self.gesture)

    def release(self, event: QMouseEvent) -> None:
        if not self.dragged and not _additive(event):
            self.scene.set_selection({self.node.key})  # a click on a selected node selects only it


class NewEdge(Interaction):
    """Drag from an output port to an input port. Started on a connected input port, the
    existing edge is picked up and re-routed (released on empty canvas: removed)."""

    def __init__(self, view, src: NodeItem, detached: EdgeItem | None = None) -> None:
        super().__init__(view)
        self.src = src
        self.detached = detached
        self.target: NodeItem | None = None
        self.port: int | None = None

    def press(self, event: QMouseEvent) -> None:
        self.draft = DraftEdgeItem(self.src.output_anchor())
        self.scene.addItem(self.draft)
        if self.detached is not None:
            self.detached.setVisible(False)
        self.draft.set_end(self.scene_pos(event))

    def _set_target(self, node: NodeItem | None, port: int | None, refused: bool = False) -> None:
        if self.target is not None and self.target is not node:
            self.target.set_target_port(None)
        self.target, self.port = node, port
        if node is not None:
            node.set_target_port(port, refused)

    def move(self, event: QMouseEvent) -> None:
        pos = self.scene_pos(event)
        node = self.scene.node_at(pos)
        port = None
        if node is not None:
            hit = node.port_at(pos)
            port = hit[1] if hit and hit[0] == "in" else node.nearest_input(pos)
        reason = None
        if node is not None and self.view.connection_checker is not None:
            reason = self.view.connection_checker(self.src.key, node.key, -1 if port is None else port)
        self._set_target(node, port, refused=reason is not None)
        end = node.input_anchor(port) if node is not None and port is not None else pos
        self.draft.set_end(end, refused=reason is not None)

    def release(self, event: QMouseEvent) -> None:
        self.move(event)
        pos = self.scene_pos(event)
        target, port = self.target, self.port
        self.cancel()
        port_arg = -1 if port is None else port
        if self.detached is not None:
            same = target is self.detached.dst and port == self.detached.port
            if not same:
                self.view.reconnect_requested.emit(self.detached.key, None if target is None else target.key,
                                                   port_arg, pos)
        elif target is not None:
            self.view.connect_requested.emit(self.src.key, target.key, port_arg, pos)
        elif QLineF(self.src.output_anchor(), pos).length() > 20:
            self.view.edge_released.emit(self.src.key, pos)

    def cancel(self) -> None:
        self._set_target(None, None)
        if self.draft.scene() is not None:
            self.scene.removeItem(self.draft)
        if self.detached is not None and self.detached.scene() is not None:
            self.detached.setVisible(True)


class NewEdgeToInput(Interaction):
    """Drag from a free input port up to the node that should feed it."""

    def __init__(self, view, dst: NodeItem, port: int) -> None:
        super().__init__(view)
        self.dst, self.port = dst, port
        self.source: NodeItem | None = None

    def press(self, event: QMouseEvent) -> None:
        self.draft = DraftEdgeItem(self.dst.input_anchor(self.port))
        self.scene.addItem(self.draft)
        self.dst.set_target_port(self.port)
        self.move(event)

    def move(self, event: QMouseEvent) -> None:
        pos = self.scene_pos(event)
        node = self.scene.node_at(pos)
        self.source = node if node is not None and node.content.has_output else None
        refused = False
        if self.source is not None and self.view.connection_checker is not None:
            refused = self.view.connection_checker(self.source.key, self.dst.key, self.port) is not None
        start = self.source.output_anchor() if self.source is not None else pos
        self.draft.set_ends(start, self.dst.input_anchor(self.port), refused)
        self.dst.set_target_port(self.port, refused)

    def release(self, event: QMouseEvent) -> None:
        self.move(event)
        source, pos = self.source, self.scene_pos(event)
        self.cancel()
        if source is not None:
            self.view.connect_requested.emit(source.key, self.dst.key, self.port, pos)

    def cancel(self) -> None:
        self.dst.set_target_port(None)
        if self.draft.scene() is not None:
            self.scene.removeItem(self.draft)
