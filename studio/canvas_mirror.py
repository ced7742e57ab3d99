"""Keeps the editor scene equal to a Document's graph and inference (the scene only observes).

Structure (nodes, edges, positions) follows the graph's signals at once. What depends on
inference (shapes, counts, red errors) and on parameters is rebuilt for the nodes marked
stale, once per event-loop turn: a paste of 50 nodes or an undo of a big edit re-infers once.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from engine.graph import Edge
from studio.canvas_content import edge_info, node_content
from studio.document import Document
from widgets.node_editor import NodeEditorScene


class GraphMirror(QObject):
    def __init__(self, scene: NodeEditorScene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.document: Document | None = None
        self._stale: set[str] = set()
        self._health: dict[str, str | None] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)

    # -- attaching -------------------------------------------------------------------------------
    def _links(self, doc: Document):
        g = doc.graph
        return ((g.node_added, self._node_added), (g.node_removed, self._node_removed),
                (g.edge_added, self._edge_added), (g.edge_removed, self._edge_removed),
                (g.node_moved, self._node_moved), (g.params_changed, self._mark),
                (g.label_changed, self._mark), (g.trainable_changed, self._mark))

    def attach(self, doc: Document) -> None:
        self.detach()
        self.document = doc
        for signal, slot in self._links(doc):
            signal.connect(slot)
        doc.inference_changed.connect(self._inference_changed)
        doc.selection_changed.connect(self._selection_changed)
        for n in doc.graph.nodes:
            self._node_added(n)
        for e in doc.graph.edges:
            self._edge_added(e)
        self.refresh()
        self._selection_changed()

    def detach(self) -> None:
        doc, self.document = self.document, None
        self._timer.stop()
        self._stale.clear()
        self._health.clear()
        if doc is not None:
            for signal, slot in self._links(doc):
                signal.disconnect(slot)
            doc.inference_changed.disconnect(self._inference_changed)
            doc.selection_changed.disconnect(self._selection_changed)
        self.scene.clear_graph()

    # -- graph signals -------------------------------------------------------------------------------
    def _mark(self, node_id: str) -> None:
        self._stale.add(node_id)
        self._timer.start()

    def _node_added(self, node_id: str) -> None:
        node = self.document.graph.nodes[node_id]
        pos = node.pos or (0.0, 0.0)
        item = self.scene.add_node(node_id, node_content(self.document.graph, node_id, None), pos)
        item.set_health(self._health.get(node_id))
        self._mark(node_id)

    def _node_removed(self, node_id: str) -> None:
        if self.scene.has_node(node_id):
            self.scene.remove_node(node_id)
        self._stale.discard(node_id)

    def _edge_added(self, edge: Edge) -> None:
        self.scene.add_edge(edge, edge.src, edge.dst, edge.port)
        self._mark(edge.src)
        self._mark(edge.dst)

    def _edge_removed(self, edge: Edge) -> None:
        self.scene.remove_edge(edge)
        for n in (edge.src, edge.dst):
            if n in self.document.graph.nodes:
                self._mark(n)

    def _node_moved(self, node_id: str) -> None:
        pos = self.document.graph.nodes[node_id].pos
        if pos is not None:
            self.scene.move_node(node_id, pos)

    def _inference_changed(self, ids) -> None:
        self._stale.update(ids)
        self._timer.start()

    def _selection_changed(self) -> None:
        scene = self.scene
        scene.set_selection(self.document.selection, scene.selected_edge_keys())

    # -- the deferred part -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-infer and rebuild what is stale now (tests and benchmarks call it directly)."""
        self._timer.stop()
        doc = self.document
        if doc is None:
            return
        doc.inference.update()  # may mark more nodes stale through inference_changed
        self._timer.stop()
        stale, self._stale = self._stale, set()
        g, infos = doc.graph, doc.inference.all()
        edges: set[Edge] = set()
        for n in stale:
            if n not in g.nodes:
                continue
            self.scene.update_node(n, node_content(g, n, infos.get(n)))
            edges.update(g.inputs(n).values())
            edges.update(g.outputs(n))
        for e in edges:
            label, error, tip = edge_info(g, e.src, e.dst, e.port, infos.get(e.src), infos.get(e.dst))
            self.scene.set_edge_info(e, label, error, tip)

    @property
    def pending(self) -> bool:
        return bool(self._stale)

    # -- health colours (training) ----------------------------------------------------------------------------
    def set_health(self, colors: dict[str, str | None]) -> None:
        for n, c in colors.items():
            self._health[n] = c
            if self.scene.has_node(n):
                self.scene.set_node_health(n, c)
