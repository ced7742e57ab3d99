"""One open project: the engine model, its undo stack, selection and file.

Views (canvas, docks) observe the graph's psygnal signals and this object's Qt signals;
every edit they make goes through a method here, which applies it through the graph API
(raising a typed ``LayerStudioError`` when refused: nothing changes then) and pushes one
undo command.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine import project as project_io
from engine.errors import GraphError
from engine.graph import Edge, Graph
from engine.graph.inference import Inference
from engine.project import Project
from engine.schema.base import del_path, get_path, set_path
from studio import commands as C

_ABSENT = C._ABSENT


class Document(QObject):
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None
    selection_changed = Signal()
    inference_changed = Signal(object)  # set of node ids whose NodeInfo changed
    setting_changed = Signal(str, str)  # section ("dataset" | "training" | "name"), dotted key

    def __init__(self, project: Project | None = None, path: str | Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project or Project()
        self.path: Path | None = Path(path) if path else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.inference = Inference(self.project.graph, self._batch_size())
        self.inference.changed.connect(self.inference_changed.emit)
        self._selection: list[str] = []
        self.graph.node_removed.connect(self._forget_selected)
        if any(n.pos is None for n in self.graph.nodes.values()):
            self._fill_positions()

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    # -- files -----------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, parent: QObject | None = None) -> "Document":
        """Raises UnreadableFileError / ProjectFormatError / GraphError; nothing is changed then."""
        return cls(project_io.load(path), path, parent)

    def save(self, path: str | Path | None = None) -> None:
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("save() needs a path for a new document")
        project_io.save(self.project, target)
        if target != self.path:
            self.path = target
            self.path_changed.emit(target)
        self.undo_stack.setClean()

    def to_dict(self) -> dict:
        return self.project.to_dict()

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def title(self) -> str:
        return self.path.name if self.path else self.project.name

    def close(self) -> None:
        self.inference.close()

    # -- selection ---------------------------------------------------------------------------
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    def select(self, ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(ids) if i in self.graph.nodes]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit()

    def _forget_selected(self, node_id: str) -> None:
        if node_id in self._selection:
            self._selection.remove(node_id)
            self.selection_changed.emit()

    # -- graph edits (each one undo step) -------------------------------------------------------
    def add_node(self, type_: str, pos: tuple[float, float] | None = None,
                 params: Mapping[str, Any] | None = None, node_id: str | None = None) -> str:
        node_id = node_id or self.graph.unique_id(type_)
        self.graph.add_node(node_id, type_, params or {}, pos=pos)
        snap = C.snapshot_node(self.graph, node_id)
        self.undo_stack.push(C.AddNodes(self.graph, [snap], [], f"Add {type_}"))
        return node_id

    def remove_nodes(self, ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(ids) if i in self.graph.nodes]
        if not ids:
            return
        snaps = [C.snapshot_node(self.graph, i) for i in ids]
        edges = list(dict.fromkeys(e for i in ids for e in
                                   list(self.graph.inputs(i).values()) + self.graph.outputs(i)))
        for i in ids:
            self.graph.remove_node(i)
        text = f"Delete {ids[0]}" if len(ids) == 1 else f"Delete {len(ids)} nodes"
        self.undo_stack.push(C.RemoveNodes(self.graph, snaps, edges, text))

    def connect(self, src: str, dst: str, port: int | None = None) -> Edge:
        edge = self.graph.connect(src, dst, port)
        self.undo_stack.push(C.Connect(self.graph, edge))
        return edge

    def disconnect(self, edges: Iterable[Edge]) -> None:
        edges = [e for e in edges]
        for e in edges:
            self.graph.disconnect(e.src, e.dst, e.port)
        if edges:
            self.undo_stack.push(C.Disconnect(self.graph, edges))

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> None:
        old = dict(self.graph.node(node_id).params)
        self.graph.set_params(node_id, params)
        new = dict(self.graph.node(node_id).params)
        if new != old:
            self.undo_stack.push(C.SetParams(self.graph, node_id, old, new))

    def set_label(self, node_id: str, label: str | None) -> None:
        old = self.graph.node(node_id).label
        self.graph.set_label(node_id, label)
        if self.graph.node(node_id).label != old:
            self.undo_stack.push(C.SetNodeAttr(self.graph, node_id, "label", old, label or None))

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        old = self.graph.node(node_id).trainable
        self.graph.set_trainable(node_id, trainable)
        if trainable != old:
            self.undo_stack.push(C.SetNodeAttr(self.graph, node_id, "trainable", old, trainable))

    def move_nodes(self, positions: Mapping[str, tuple[float, float]], gesture: Any = None) -> None:
        """Consecutive moves of the same nodes merge into one undo step; with a ``gesture``
        token (one per mouse drag) only the moves of that gesture merge."""
        old = {n: self.graph.node(n).pos for n in positions}
        for n, p in positions.items():
            self.graph.move(n, p)
        self.undo_stack.push(C.MoveNodes(self.graph, old, dict(positions), gesture))

    def auto_layout(self) -> None:
        from engine.layout import layout  # written by the foundation; imported when first used
        positions = layout(self.graph)
        self.undo_stack.beginMacro("Automatic layout")
        try:
            self.move_nodes(positions)
        finally:
            self.undo_stack.endMacro()

    def _fill_positions(self) -> None:
        """Files without positions get the automatic layout (not an undoable edit)."""
        from engine.layout import layout_missing
        for n, p in layout_missing(self.graph).items():
            self.graph.move(n, p)

    # -- clipboard fragments ------------------------------------------------------------------------
    def fragment(self, ids: Iterable[str]) -> dict:
        """The selected nodes and the edges among them, as a ``graph`` object of the file format."""
        ids = set(ids)
        whole = self.graph.to_dict()
        return {"nodes": [n for n in whole["nodes"] if n["id"] in ids],
                "edges": [e for e in whole["edges"] if e["from"] in ids and e["to"] in ids]}

    def paste(self, fragment: Mapping, offset: tuple[float, float] = (40.0, 40.0)) -> list[str]:
        """Add a copied fragment with fresh ids; one undo step. Raises GraphError when invalid."""
        nodes, edges = fragment.get("nodes"), fragment.get("edges", [])
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise GraphError("the clipboard does not hold LayerStudio layers")
        from engine.project.io import graph_from_dict
        probe = graph_from_dict({"nodes": nodes, "edges": edges})  # validates everything first
        rename = {}
        for n in probe.nodes:
            new = self.graph.unique_id(n) if n in self.graph.nodes or n in rename.values() else n
            while new in rename.values():
                new = self.graph.unique_id(new + "_")
            rename[n] = new
        snaps, new_edges = [], []
        try:
            for old_id, node in probe.nodes.items():
                pos = (node.pos[0] + offset[0], node.pos[1] + offset[1]) if node.pos else None
                self.graph.add_node(rename[old_id], node.type, node.params, pos=pos, label=node.label,
                                    trainable=node.trainable, extra=node.extra)
                snaps.append(C.snapshot_node(self.graph, rename[old_id]))
            for e in probe.edges:
                new_edges.append(self.graph.connect(rename[e.src], rename[e.dst], e.port))
        except GraphError:
            for s in reversed(snaps):
                self.graph.remove_node(s["id"])
            raise
        self.undo_stack.push(C.AddNodes(self.graph, snaps, new_edges,
                                        f"Paste {len(snaps)} node{'s' if len(snaps) != 1 else ''}"))
        self.select(rename.values())
        return list(rename.values())

    # -- project settings -------------------------------------------------------------------------
    def setting(self, section: str, key: str, default: Any = None) -> Any:
        value = get_path(self._section(section), key, _ABSENT)
        return default if value is _ABSENT else value

    def set_setting(self, section: str, key: str, value: Any) -> None:
        """Set ``dataset``/``training`` key (dotted), or the project ``name`` (section "name").
        ``value`` None removes the key (back to its default)."""
        old = copy.deepcopy(self.project.name if section == "name" else self.setting(section, key, None))
        if old == value:
            return
        self._apply_setting(section, key, value)
        self.undo_stack.push(C.SetSetting(self, section, key, old, copy.deepcopy(value)))

    def _section(self, section: str) -> dict:
        if section == "dataset":
            return self.project.dataset
        if section == "training":
            return self.project.training
        raise KeyError(section)

    def _apply_setting(self, section: str, key: str, value: Any) -> None:
        if section == "name":
            self.project.name = value or "Untitled"
        elif value is None:
            del_path(self._section(section), key)
        else:
            set_path(self._section(section), key, copy.deepcopy(value))
        if section == "training" and key == "batch_size":
            self.inference.set_batch_size(self._batch_size())
            self.inference.update()
        self.setting_changed.emit(section, key)

    def _batch_size(self) -> int:
        b = self.project.training.get("batch_size", 64)
        return b if isinstance(b, int) and not isinstance(b, bool) and b > 0 else 64
