"""One ``QUndoCommand`` per user edit of a document (Orange canvas style).

The ``Document`` performs an edit through the graph API first (so a refused edit raises
a typed error to the caller and nothing is pushed), then pushes the command; the command's
first ``redo`` is therefore a no-op. ``undo``/``redo`` afterwards replay the model calls.
"""
from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from engine.graph import Edge, Graph
from engine.schema.base import del_path, get_path, set_path

MOVE_ID = 1001


class _Command(QUndoCommand):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._done_once = True  # the document already applied it

    def redo(self) -> None:
        if self._done_once:
            self._done_once = False
            return
        self.apply()

    def apply(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def snapshot_node(graph: Graph, node_id: str) -> dict[str, Any]:
    """Everything needed to re-create a node exactly, including its place in the node order."""
    n = graph.node(node_id)
    return {"id": n.id, "type": n.type, "params": dict(n.params), "pos": n.pos, "label": n.label,
            "trainable": n.trainable, "extra": copy.deepcopy(n.extra), "index": graph.index_of(node_id)}


def restore_node(graph: Graph, snap: dict[str, Any]) -> None:
    graph.add_node(snap["id"], snap["type"], snap["params"], pos=snap["pos"], label=snap["label"],
                   trainable=snap["trainable"], extra=snap["extra"], index=snap["index"])


class AddNodes(_Command):
    """Add nodes and the edges among/into them (a new node, a paste, a duplicate)."""

    def __init__(self, graph: Graph, snaps: list[dict], edges: list[Edge], text: str) -> None:
        super().__init__(text)
        self.graph, self.snaps, self.edges = graph, snaps, edges

    def apply(self) -> None:
        for s in self.snaps:
            restore_node(self.graph, s)
        for e in self.edges:
            self.graph.connect(e.src, e.dst, e.port)

    def undo(self) -> None:
        for s in reversed(self.snaps):
            self.graph.remove_node(s["id"])


class RemoveNodes(_Command):
    """Remove nodes with every edge touching them; undo restores order, edges and ports."""

    def __init__(self, graph: Graph, snaps: list[dict], edges: list[Edge], text: str) -> None:
        super().__init__(text)
        self.graph, self.snaps, self.edges = graph, snaps, edges

    def apply(self) -> None:
        for s in self.snaps:
            self.graph.remove_node(s["id"])

    def undo(self) -> None:
        for s in sorted(self.snaps, key=lambda s: s["index"]):
            restore_node(self.graph, s)
        for e in self.edges:
            self.graph.connect(e.src, e.dst, e.port)


class Connect(_Command):
    def __init__(self, graph: Graph, edge: Edge) -> None:
        super().__init__(f"Connect {edge.src} → {edge.dst}")
        self.graph, self.edge = graph, edge

    def apply(self) -> None:
        self.graph.connect(self.edge.src, self.edge.dst, self.edge.port)

    def undo(self) -> None:
        self.graph.disconnect(self.edge.src, self.edge.dst, self.edge.port)


class Disconnect(_Command):
    def __init__(self, graph: Graph, edges: list[Edge]) -> None:
        super().__init__("Disconnect" if len(edges) != 1 else f"Disconnect {edges[0].src} → {edges[0].dst}")
        self.graph, self.edges = graph, edges

    def apply(self) -> None:
        for e in self.edges:
            self.graph.disconnect(e.src, e.dst, e.port)

    def undo(self) -> None:
        for e in reversed(self.edges):
            self.graph.connect(e.src, e.dst, e.port)


class SetParams(_Command):
    def __init__(self, graph: Graph, node_id: str, old: dict, new: dict) -> None:
        keys = ", ".join(k for k in new if old.get(k) != new.get(k))
        super().__init__(f"Set {node_id} {keys}")
        self.graph, self.node_id, self.old, self.new = graph, node_id, old, new

    def apply(self) -> None:
        self.graph.set_params(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_params(self.node_id, self.old)


class SetNodeAttr(_Command):
    """Label or trainable flag."""

    def __init__(self, graph: Graph, node_id: str, attr: str, old: Any, new: Any) -> None:
        super().__init__(f"Set {node_id} {attr}")
        self.graph, self.node_id, self.attr, self.old, self.new = graph, node_id, attr, old, new

    def _set(self, value: Any) -> None:
        getattr(self.graph, f"set_{self.attr}")(self.node_id, value)

    def apply(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


class MoveNodes(_Command):
    """Moves of the same nodes in a row merge into one undo step (a drag is one edit).

    ``gesture`` identifies one drag: moves carrying a gesture merge only with moves of the
    same gesture, so two drags of the same node in a row stay two undo steps.
    """

    def __init__(self, graph: Graph, old: dict[str, Any], new: dict[str, Any], gesture: Any = None) -> None:
        super().__init__("Move" if len(new) != 1 else f"Move {next(iter(new))}")
        self.graph, self.old, self.new, self.gesture = graph, old, new, gesture

    def id(self) -> int:
        return MOVE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or set(other.new) != set(self.new) or other.gesture != self.gesture:
            return False
        self.new = other.new
        return True

    def apply(self) -> None:
        for n, p in self.new.items():
            self.graph.move(n, p)

    def undo(self) -> None:
        for n, p in self.old.items():
            self.graph.move(n, p)


_ABSENT = object()


class SetSetting(_Command):
    """A key of the project's ``dataset``/``training`` section or its name."""

    def __init__(self, document, section: str, key: str, old: Any, new: Any) -> None:
        super().__init__(f"Set {section}.{key}" if key else f"Set {section}")
        self.doc, self.section, self.key, self.old, self.new = document, section, key, old, new

    def _set(self, value: Any) -> None:
        self.doc._apply_setting(self.section, self.key, value)

    def apply(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


__all__ = ["AddNodes", "Connect", "Disconnect", "MoveNodes", "RemoveNodes", "SetNodeAttr", "SetParams",
           "SetSetting", "snapshot_node", "restore_node", "get_path", "set_path", "del_path", "_ABSENT"]
