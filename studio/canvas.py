"""The graph canvas: the node editor view bound to a Document.

The scene mirrors the document (``GraphMirror``); every gesture and action here becomes one
Document call (one undo step). A refused edit raises a typed ``LayerStudioError``; its
message is shown where the mouse is and in the status bar, and nothing changes.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from engine.catalog import CATALOG, CATEGORIES
from engine.errors import CycleError, LayerStudioError, SelfEdgeError, UnknownPortError
from engine.graph import Edge
from studio import canvas_clipboard as clipboard
from studio.canvas_actions import NEEDS_SELECTION, build_actions
from studio.canvas_menus import build_menu
from studio.canvas_mirror import GraphMirror
from studio.document import Document
from widgets.node_editor import NodeEditorScene, NodeEditorView, SearchPopup

LAYER_MIME = "application/x-layerstudio-layer"  # a palette drag: the layer type name, UTF-8
PASTE_OFFSET = 40.0


class GraphCanvas(NodeEditorView):
    node_activated = Signal(str)  # double-click on a node: the window shows its properties
    status_message = Signal(str)  # refusals and errors, also shown at the cursor

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(NodeEditorScene(), parent)
        self.scene().setParent(self)
        self.accepted_drop_formats = [LAYER_MIME]
        self.connection_checker = self._why_not_connect
        self.document: Document | None = None
        self._mirror = GraphMirror(self.scene(), self)
        self._actions = build_actions(self)
        self._actions["undo"].triggered.connect(lambda: self.document.undo_stack.undo())
        self._actions["redo"].triggered.connect(lambda: self.document.undo_stack.redo())
        self._search: SearchPopup | None = None
        self._search_at: tuple[QPointF, str | None] = (QPointF(), None)  # where, and an edge's source
        self._menu: QMenu | None = None
        self._paste_at: QPointF | None = None  # a paste from the context menu goes where it was opened
        self._fit_pending = True  # fit once the view has its real size

        self.connect_requested.connect(self._connect_requested)
        self.reconnect_requested.connect(self._reconnect_requested)
        self.edge_released.connect(self._edge_released)
        self.nodes_dragged.connect(self._nodes_dragged)
        self.node_double_clicked.connect(self._node_double_clicked)
        self.canvas_double_clicked.connect(lambda pos: self.open_layer_search(pos))
        self.drop_requested.connect(self._drop_requested)
        self.context_menu_requested.connect(self._context_menu)
        self.title_edited.connect(self._title_edited)
        self.scene().selection_edited.connect(self._scene_selection_edited)
        self.set_document(document)

    # -- the document ------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Show another document (a new or opened project replaces the old one)."""
        self.cancel_interaction()
        self.title_editor.cancel()  # an edit in progress belongs to the old document
        if self._search is not None:
            self._search.hide()
        old = self.document
        if old is not None:
            stack = old.undo_stack
            for sig, slot in self._stack_links(stack):
                sig.disconnect(slot)
        self.document = document
        self._mirror.attach(document)
        for sig, slot in self._stack_links(document.undo_stack):
            sig.connect(slot)
        self._undo_state()
        self._update_actions()
        self._fit_pending = True
        if self.isVisible():
            QTimer.singleShot(0, self._fit_if_pending)

    def _stack_links(self, stack):
        return ((stack.canUndoChanged, self._undo_state), (stack.canRedoChanged, self._undo_state),
                (stack.undoTextChanged, self._undo_state), (stack.redoTextChanged, self._undo_state))

    def _undo_state(self, *_) -> None:
        try:
            stack = self.document.undo_stack
            stack.canUndo()
        except RuntimeError:  # the stack emits while it is being destroyed with its document
            return
        undo, redo = self._actions["undo"], self._actions["redo"]
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())
        undo.setText(f"&Undo {stack.undoText()}".rstrip())
        redo.setText(f"&Redo {stack.redoText()}".rstrip())

    def detach(self) -> None:
        """Stop observing the document (before it is closed without a replacement)."""
        self._mirror.detach()

    def refresh(self) -> None:
        """Bring shapes and counts up to date now instead of at the next event-loop turn."""
        self._mirror.refresh()

    def actions_by_name(self) -> dict[str, QAction]:
        """undo, redo, cut, copy, paste, duplicate, delete, select_all, rename, add_layer,
        auto_layout, fit, zoom_in, zoom_out, zoom_reset: the window reuses them in its menus."""
        return dict(self._actions)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_if_pending)

    def _fit_if_pending(self) -> None:
        if self._fit_pending and self.isVisible():
            self._fit_pending = False
            self.fit_readable()

    # -- refusals ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _attempt(self, at: QPointF | None = None) -> Iterator[None]:
        """Run an edit; a refusal is shown at ``at`` (default: the mouse) and in the status bar."""
        try:
            yield
        except LayerStudioError as e:
            self.show_notice(e.message, at)
            self.status_message.emit(e.message)

    def _why_not_connect(self, src: str, dst: str, port: int) -> str | None:
        """The graph's own refusals, checked before a change (the model stays the authority)."""
        try:
            self._check_connect(src, dst)
        except LayerStudioError as e:
            return e.message
        return None

    def _check_connect(self, src: str, dst: str) -> None:
        g = self.document.graph
        if src == dst:
            raise SelfEdgeError(f"{src}: a node cannot feed itself", node=src)
        node = g.node(dst)
        if node.spec.inputs == 0:
            raise UnknownPortError(f"{dst}: {node.type} takes no inputs", node=dst, key="port")
        if dst in g.reachable_reverse(src):
            raise CycleError(f"connecting {src} → {dst} would create a cycle", node=dst)

    # -- gestures --------------------------------------------------------------------------------------
    def _connect_requested(self, src: str, dst: str, port: int, at: QPointF) -> None:
        doc = self.document
        port = None if port < 0 else port
        occupant = doc.graph.inputs(dst).get(port) if port is not None else None
        if occupant is not None and occupant.src == src:
            return
        with self._attempt(at):
            if occupant is None:
                doc.connect(src, dst, port)
                return
            # a taken port is re-fed: the old edge goes, in the same undo step
            self._check_connect(src, dst)
            with self._macro(f"Connect {src} → {dst}"):
                doc.disconnect([occupant])
                doc.connect(src, dst, port)

    def _reconnect_requested(self, edge: Edge, dst: str | None, port: int, at: QPointF) -> None:
        """An edge picked up by its input end: dropped on empty canvas it goes; on a port it
        moves there (re-feeding a taken port), in one undo step."""
        doc = self.document
        with self._attempt(at):
            if dst is None:
                doc.disconnect([edge])
                return
            self._check_connect(edge.src, dst)
            port = None if port < 0 else port
            occupant = doc.graph.inputs(dst).get(port) if port is not None else None
            with self._macro(f"Reconnect {edge.src} → {dst}"):
                doc.disconnect([edge] + ([occupant] if occupant is not None and occupant != edge else []))
                doc.connect(edge.src, dst, port)

    def _edge_released(self, src: str, at: QPointF) -> None:
        """An edge dropped on empty canvas: pick a layer to add there, fed by ``src``."""
        self.open_layer_search(at, feed_from=src)

    def _nodes_dragged(self, positions: dict, gesture: int) -> None:
        with self._attempt():
            self.document.move_nodes(positions, gesture=("drag", gesture))

    def _node_double_clicked(self, node_id: str) -> None:
        self.document.select([node_id])
        self.node_activated.emit(node_id)

    def _drop_requested(self, fmt: str, data: bytes, at: QPointF) -> None:
        type_ = data.decode("utf-8", "replace").strip()
        self.add_layer(type_, at)
        self.setFocus()

    def _title_edited(self, node_id: str, text: str) -> None:
        if node_id in self.document.graph.nodes:
            with self._attempt():
                self.document.set_label(node_id, text or None)

    def _scene_selection_edited(self) -> None:
        self.document.select(self.scene().selected_node_keys())
        self._update_actions()

    def _update_actions(self) -> None:
        has = bool(self.document.selection) or bool(self.scene().selected_edge_keys())
        for name in NEEDS_SELECTION:
            self._actions[name].setEnabled(has)

    def _context_menu(self, kind: str, key, at: QPointF, global_pos) -> None:
        self._update_actions()
        self._paste_at = at
        if self._menu is not None:
            self._menu.deleteLater()
        self._menu = build_menu(kind, self._actions, self)
        self._menu.aboutToHide.connect(lambda: setattr(self, "_paste_at", None))
        self._menu.popup(global_pos)

    @contextlib.contextmanager
    def _macro(self, text: str) -> Iterator[None]:
        stack = self.document.undo_stack
        stack.beginMacro(text)
        try:
            yield
        finally:
            stack.endMacro()

    # -- adding layers ------------------------------------------------------------------------------------
    def add_layer(self, type_: str, at: QPointF | None = None, feed_from: str | None = None) -> str | None:
        """Add a layer centred at ``at`` (default: the mouse, else the view's centre) and select it;
        with ``feed_from``, connected from that node in the same undo step."""
        at = at if at is not None else (self.mouse_scene_pos() or self.visible_scene_rect().center())
        doc = self.document
        with self._attempt(at):
            if type_ not in CATALOG:
                raise LayerStudioError(f"unknown layer type {type_!r}")
            pos = (round(at.x(), 1), round(at.y(), 1))
            if feed_from is None or feed_from not in doc.graph.nodes:
                node_id = doc.add_node(type_, pos=pos)
            else:
                with self._macro(f"Add {type_}"):
                    node_id = doc.add_node(type_, pos=pos)
                    if CATALOG[type_].inputs != 0:
                        doc.connect(feed_from, node_id)
            doc.select([node_id])
            self.status_message.emit(f"Added {type_}")
            return node_id
        return None

    def open_layer_search(self, at: QPointF | None = None, feed_from: str | None = None) -> SearchPopup:
        """The Tab popup: a filter over the catalog; the chosen layer is added at ``at``."""
        at = at if at is not None else (self.mouse_scene_pos() or self.visible_scene_rect().center())
        if self._search is None:
            self._search = SearchPopup(self)
            order = {c: i for i, c in enumerate(CATEGORIES)}
            specs = sorted(CATALOG.values(), key=lambda s: (order.get(s.category, len(order)), s.type))
            self._search.set_entries([(s.type, s.category, s.doc) for s in specs])
            self._search.chosen.connect(self._search_chosen)
        self._search_at = (at, feed_from)
        self._search.open_at(self.viewport().mapToGlobal(self.mapFromScene(at)))
        return self._search

    def _search_chosen(self, type_: str) -> None:
        at, src = self._search_at
        self.add_layer(type_, at, feed_from=src)
        self.setFocus()

    # -- the API the window calls -------------------------------------------------------------------------------
    def delete_selected(self) -> None:
        doc = self.document
        nodes = doc.selection
        edges = [e for e in self.scene().selected_edge_keys() if e.src not in nodes and e.dst not in nodes]
        if not nodes and not edges:
            return
        with self._attempt(), self._macro("Delete"):
            if edges:
                doc.disconnect(edges)
            if nodes:
                doc.remove_nodes(nodes)

    def copy(self) -> int:
        ids = self.document.selection
        if not ids:
            self.status_message.emit("Nothing selected to copy")
            return 0
        clipboard.write(self.document.fragment(ids))
        self.status_message.emit(f"Copied {len(ids)} layer{'s' if len(ids) != 1 else ''}")
        return len(ids)

    def cut(self) -> None:
        if self.document.selection and self.copy():
            with self._macro("Cut"):
                self.delete_selected()

    def paste(self) -> list[str]:
        at = self._paste_at or self.mouse_scene_pos()
        with self._attempt(at):
            return self._paste(clipboard.read(), at, "Paste")
        return []

    def duplicate(self) -> list[str]:
        ids = self.document.selection
        if not ids:
            return []
        with self._attempt():
            return self._paste(self.document.fragment(ids), None, "Duplicate", offset=(PASTE_OFFSET, PASTE_OFFSET))
        return []

    def _paste(self, fragment: dict, at: QPointF | None, text: str,
               offset: tuple[float, float] | None = None) -> list[str]:
        nodes = fragment["nodes"]
        if any(isinstance(n, dict) and n.get("pos") is None for n in nodes):
            fragment = _with_positions(fragment)
            nodes = fragment["nodes"]
        if offset is None:
            offset = self._paste_offset(nodes, at)
        with self._macro(text):
            ids = self.document.paste(fragment, offset)
        self.status_message.emit(f"{text}: {len(ids)} layer{'s' if len(ids) != 1 else ''}")
        return ids

    def _paste_offset(self, nodes: list, at: QPointF | None) -> tuple[float, float]:
        """Centre the fragment on the mouse; else beside the original when that is in view;
        else in the middle of the view."""
        pts = [n["pos"] for n in nodes if isinstance(n, dict) and isinstance(n.get("pos"), (list, tuple))
               and len(n["pos"]) == 2 and all(isinstance(v, (int, float)) for v in n["pos"])]
        if not pts:
            return (0.0, 0.0)
        cx = (min(p[0] for p in pts) + max(p[0] for p in pts)) / 2
        cy = (min(p[1] for p in pts) + max(p[1] for p in pts)) / 2
        view = self.visible_scene_rect()
        if at is None:
            if view.contains(QPointF(cx, cy)):
                return (PASTE_OFFSET, PASTE_OFFSET)
            at = view.center()
        return (round(at.x() - cx, 1), round(at.y() - cy, 1))

    def select_all(self) -> None:
        self.document.select(list(self.document.graph.nodes))

    def rename_selected(self) -> None:
        sel = self.document.selection
        if sel:
            node = self.document.graph.node(sel[0])
            self.edit_title(sel[0], node.display_name)

    def zoom_reset(self) -> None:
        self.set_zoom(1.0)

    def auto_layout(self) -> None:
        if not self.document.graph.nodes:
            return
        with self._attempt():
            self.document.auto_layout()
            self.fit()

    def set_node_health(self, colors: dict[str, str | None]) -> None:
        """Colour nodes by training health (a badge); None clears a node's colour."""
        self._mirror.set_health(colors)


def _with_positions(fragment: dict) -> dict:
    """Nodes pasted without positions (e.g. hand-written JSON) get the automatic layout."""
    from engine.layout import layout
    from engine.project.io import graph_from_dict
    probe = graph_from_dict(fragment)
    placed = layout(probe)
    nodes = [dict(n, pos=list(placed[n["id"]])) if n.get("pos") is None and n.get("id") in placed else n
             for n in fragment["nodes"]]
    return {"nodes": nodes, "edges": fragment.get("edges", [])}
