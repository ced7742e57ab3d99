"""The graph model: nodes with immutable ids, typed params and edges into input ports.

Every edit goes through this evented API; the editor's scene only observes the signals
(Orange canvas style). Structural errors are refused with typed errors; shape problems are
not this module's business (see ``engine.graph.inference``): the graph stays editable.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from psygnal import Signal

from engine.catalog import LayerSpec, get_spec
from engine.errors import (CycleError, DuplicateEdgeError, DuplicateIdError, GraphError, ParamError,
                           SelfEdgeError, UnknownNodeError, UnknownPortError)

MAX_ID_LEN = 128
MAX_INPUTS = 64


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    port: int = 0


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]  # normalized, complete (every catalog parameter present)
    pos: tuple[float, float] | None = None
    label: str | None = None
    trainable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of the file, kept

    @property
    def spec(self) -> LayerSpec:
        return get_spec(self.type)

    @property
    def display_name(self) -> str:
        return self.label or self.id

    def explicit_params(self) -> dict[str, Any]:
        """Params that differ from the catalog default, in JSON form (what a file stores)."""
        spec = self.spec
        out = {}
        for p in spec.params:
            v = self.params[p.name]
            default = p.validate(p.default) if p.default is not None else None
            if v != default:
                out[p.name] = p.to_json(v)
        return out


def check_id(node_id: Any) -> str:
    if not isinstance(node_id, str) or not node_id.strip():
        raise GraphError(f"node id must be non-empty text, got {node_id!r}", key="id")
    if len(node_id) > MAX_ID_LEN:
        raise GraphError(f"node id is longer than {MAX_ID_LEN} characters: {node_id[:20]!r}…", key="id")
    # control characters (C0, C1), line separators and lone surrogates: an id is printed in
    # one-line messages and written to files, where these would break or be refused
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" or 0xD800 <= ord(c) < 0xE000
           for c in node_id):
        raise GraphError(f"node id {node_id!r} contains control characters", node=node_id, key="id")
    return node_id


def _check_pos(pos: Any, node: str) -> tuple[float, float] | None:
    if pos is None:
        return None
    if (not isinstance(pos, (list, tuple)) or len(pos) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       and abs(v) < 1e9 for v in pos)):
        raise GraphError(f"{node}: pos must be two finite numbers, got {pos!r}", node=node, key="pos")
    return float(pos[0]), float(pos[1])


class Graph:
    """A directed acyclic graph of layers.

    Signals carry node ids (and edges); listeners read the new state from the graph.
    They are emitted with psygnal's ``emit_fast``: the compiled ``emit`` of psygnal 0.16
    drops a reference to ``None`` on every call once shiboken6 (PySide6 6.12) is imported,
    and the GUI process aborts ("deallocating None") after a few thousand edits.
    ``emit_fast`` calls the slots directly (same order, same errors) and does not leak.
    """

    node_added = Signal(str)
    node_removed = Signal(str)
    edge_added = Signal(object)  # Edge
    edge_removed = Signal(object)  # Edge
    params_changed = Signal(str)
    node_moved = Signal(str)
    label_changed = Signal(str)
    trainable_changed = Signal(str)

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._in: dict[str, dict[int, Edge]] = {}  # dst -> port -> edge
        self._out: dict[str, list[Edge]] = {}  # src -> edges
        self.edge_extra: dict[Edge, dict[str, Any]] = {}  # unknown keys of an edge in the file, kept

    # -- queries ---------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except (KeyError, TypeError):
            raise UnknownNodeError(f"unknown node {node_id!r}", node=str(node_id)) from None

    @property
    def edges(self) -> list[Edge]:
        return [e for ports in self._in.values() for e in sorted(ports.values(), key=lambda e: e.port)]

    def inputs(self, node_id: str) -> dict[int, Edge]:
        """Port → incoming edge."""
        return dict(self._in[node_id])

    def input_nodes(self, node_id: str) -> list[str]:
        """Source ids in port order (ports may have gaps while editing)."""
        return [e.src for _, e in sorted(self._in[node_id].items())]

    def outputs(self, node_id: str) -> list[Edge]:
        return list(self._out[node_id])

    def successors(self, node_id: str) -> list[str]:
        return [e.dst for e in self._out[node_id]]

    def free_port(self, node_id: str) -> int | None:
        """The port a new edge into this node goes to, or None if it takes no more inputs."""
        spec = self.node(node_id).spec
        used = self._in[node_id]
        if spec.variadic:
            return next(p for p in range(MAX_INPUTS + 1) if p not in used) if len(used) < MAX_INPUTS else None
        return next((p for p in range(spec.inputs) if p not in used), None)

    def topological_order(self) -> list[str]:
        """Kahn's algorithm; ties broken by insertion order so the result is stable."""
        indeg = {n: len(self._in[n]) for n in self.nodes}
        ready = [n for n in self.nodes if indeg[n] == 0]
        order: list[str] = []
        i = 0
        while i < len(ready):
            n = ready[i]
            i += 1
            order.append(n)
            for e in self._out[n]:
                indeg[e.dst] -= 1
                if indeg[e.dst] == 0:
                    ready.append(e.dst)
        return order

    def output_nodes(self) -> list[str]:
        return [n for n in self.nodes if not self._out[n]]

    def reachable(self, start: str) -> set[str]:
        seen, stack = set(), [start]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(self.successors(n))
        return seen

    def unique_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_").lower() or "node"
        if base not in self.nodes:
            return base
        i = 1
        while f"{base}{i}" in self.nodes:
            i += 1
        return f"{base}{i}"

    # -- edits -----------------------------------------------------------------------
    def add_node(self, node_id: str, type_: str, params: Mapping[str, Any] | None = None, *,
                 pos=None, label: str | None = None, trainable: bool = True,
                 extra: Mapping[str, Any] | None = None, index: int | None = None) -> Node:
        """Add a node; ``index`` puts it at that position of the node order (undo of a removal
        uses it so the file comes back byte for byte)."""
        node_id = check_id(node_id)
        if node_id in self.nodes:
            raise DuplicateIdError(f"a node with id {node_id!r} already exists", node=node_id, key="id")
        spec = get_spec(type_, node=node_id)
        full = spec.validate_params(params or {}, node=node_id)
        if label is not None and not isinstance(label, str):
            raise GraphError(f"{node_id}: label must be text", node=node_id, key="label")
        if not isinstance(trainable, bool):
            raise ParamError(f"{node_id}: trainable must be true or false", node=node_id, key="trainable")
        node = Node(node_id, type_, full, _check_pos(pos, node_id), label, trainable, dict(extra or {}))
        self.nodes[node_id] = node
        self._in[node_id] = {}
        self._out[node_id] = []
        if index is not None and index < len(self.nodes) - 1:
            self._reorder(node_id, index)
        self.node_added.emit_fast(node_id)
        return node

    def _reorder(self, node_id: str, index: int) -> None:
        order = [n for n in self.nodes if n != node_id]
        order.insert(index, node_id)
        self.nodes = {n: self.nodes[n] for n in order}
        self._in = {n: self._in[n] for n in order}
        self._out = {n: self._out[n] for n in order}

    def index_of(self, node_id: str) -> int:
        return list(self.nodes).index(node_id)

    def remove_node(self, node_id: str) -> None:
        self.node(node_id)
        for e in list(self._in[node_id].values()) + list(self._out[node_id]):
            self.disconnect(e.src, e.dst, e.port)
        del self.nodes[node_id], self._in[node_id], self._out[node_id]
        self.node_removed.emit_fast(node_id)

    def connect(self, src: str, dst: str, port: int | None = None, *,
                extra: Mapping[str, Any] | None = None) -> Edge:
        """Add an edge from ``src``'s output into ``dst``'s input ``port`` (default: the free one).

        ``extra``: keys of the file's edge object that the model does not know, written back."""
        self.node(src)
        dst_node = self.node(dst)
        if src == dst:
            raise SelfEdgeError(f"{src}: a node cannot feed itself", node=src)
        spec = dst_node.spec
        if port is None:
            port = self.free_port(dst)
            if port is None:
                raise UnknownPortError(f"{dst}: {spec.type} takes no more inputs", node=dst, key="port")
        # Ports beyond a fixed arity are accepted: "extra input" is a diagnostic, not a refusal,
        # so a loaded or half-rewired graph stays editable. Only impossible ports are refused.
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < MAX_INPUTS \
                or spec.inputs == 0:
            has = "no inputs" if spec.inputs == 0 else f"ports 0..{(spec.inputs or MAX_INPUTS) - 1}"
            raise UnknownPortError(f"{dst}: {spec.type} has no input port {port!r} ({has})", node=dst, key="port")
        if port in self._in[dst]:
            old = self._in[dst][port]
            raise DuplicateEdgeError(f"{dst}: input port {port} is already fed by {old.src}", node=dst, key="port")
        if dst in self.reachable_reverse(src):
            raise CycleError(f"connecting {src} → {dst} would create a cycle", node=dst)
        edge = Edge(src, dst, port)
        self._in[dst][port] = edge
        self._out[src].append(edge)
        if extra:
            self.edge_extra[edge] = dict(extra)
        self.edge_added.emit_fast(edge)
        return edge

    def reachable_reverse(self, start: str) -> set[str]:
        """Nodes from which ``start`` can be reached (including itself)."""
        seen, stack = set(), [start]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(e.src for e in self._in[n].values())
        return seen

    def disconnect(self, src: str, dst: str, port: int = 0) -> Edge:
        self.node(src)
        self.node(dst)
        edge = self._in[dst].get(port)
        if edge is None or edge.src != src:
            raise GraphError(f"there is no edge {src} → {dst} (port {port})", node=dst, key="port")
        del self._in[dst][port]
        self._out[src].remove(edge)
        self.edge_extra.pop(edge, None)
        self.edge_removed.emit_fast(edge)
        return edge

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> None:
        """Set some parameters (others keep their values). Validated as a whole before any change."""
        node = self.node(node_id)
        merged = {**node.params, **dict(params)}
        full = node.spec.validate_params(merged, node=node_id)
        if full != node.params:
            node.params = full
            self.params_changed.emit_fast(node_id)

    def move(self, node_id: str, pos) -> None:
        node = self.node(node_id)
        node.pos = _check_pos(pos, node_id)
        self.node_moved.emit_fast(node_id)

    def set_label(self, node_id: str, label: str | None) -> None:
        node = self.node(node_id)
        if label is not None and not isinstance(label, str):
            raise GraphError(f"{node_id}: label must be text", node=node_id, key="label")
        node.label = label or None
        self.label_changed.emit_fast(node_id)

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        node = self.node(node_id)
        if not isinstance(trainable, bool):
            raise ParamError(f"{node_id}: trainable must be true or false", node=node_id, key="trainable")
        node.trainable = trainable
        self.trainable_changed.emit_fast(node_id)

    def clear(self) -> None:
        for n in list(self.nodes):
            self.remove_node(n)

    # -- serialisation (the "graph" object of the project file) -------------------------
    def to_dict(self) -> dict:
        nodes = []
        for n in self.nodes.values():
            d: dict[str, Any] = {"id": n.id, "type": n.type}
            if n.label:
                d["label"] = n.label
            explicit = n.explicit_params()
            if explicit or n.type == "Input":
                d["params"] = explicit if n.type != "Input" else {
                    k: n.spec.param_index[k].to_json(v) for k, v in n.params.items()
                    if k != "dtype" or v != "float32"}
            if n.pos is not None:
                d["pos"] = [n.pos[0], n.pos[1]]
            if not n.trainable:
                d["trainable"] = False
            d.update({k: v for k, v in n.extra.items() if k not in d})
            nodes.append(d)
        edges = []
        for e in self.edges:
            d = {"from": e.src, "to": e.dst}
            if e.port or self.node(e.dst).spec.variadic:
                d["port"] = e.port
            if e in self.edge_extra:
                d.update({k: v for k, v in self.edge_extra[e].items() if k not in d})
            edges.append(d)
        return {"nodes": nodes, "edges": edges}
