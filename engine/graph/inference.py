"""Incremental shape / parameter / FLOP inference and diagnostics over a ``Graph``.

Listens to the graph's signals. An edit marks the edited nodes dirty; ``update`` (run by
every query) recomputes them in topological order and walks downstream only while a
node's output metadata actually changed, so a parameter edit that changes no shape costs
one rule call. Nothing is allocated: rules are integer arithmetic on shapes.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import NamedTuple

from psygnal import Signal

from engine.catalog import TensorMeta
from engine.errors import ShapeError
from engine.graph.model import Edge, Graph

DTYPE_BYTES = {"float32": 4, "int64": 8}


class Diagnostic(NamedTuple):
    node: str | None
    key: str | None
    message: str
    severity: str = "error"  # "error" | "warning" | "hint"

    def as_dict(self) -> dict:
        return {"node": self.node, "key": self.key, "message": self.message, "severity": self.severity}


@dataclass(frozen=True)
class NodeInfo:
    """What inference knows of one node. Numbers are per sample unless they say otherwise."""

    out: TensorMeta | None  # None: unknown (an error here or upstream)
    params: int | None = None
    flops: int | None = None  # convolutions and matmuls, a multiply-add = 2
    elementwise: int | None = None
    weight_bytes: int | None = None
    activation_bytes: int | None = None  # output activations at the batch size
    intensity: float | None = None  # total FLOPs / bytes moved, at the batch size
    error: str | None = None
    hint: str | None = None

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self.out.shape if self.out else None


@dataclass(frozen=True)
class Totals:
    params: int
    flops: int
    elementwise: int
    weight_bytes: int
    activation_bytes: int
    complete: bool  # False when some node's numbers are unknown


_UNKNOWN = NodeInfo(out=None)


class Inference:
    """Keeps a ``NodeInfo`` for every node of ``graph`` up to date."""

    changed = Signal(object)  # set of node ids whose NodeInfo changed (emit_fast: see Graph)

    def __init__(self, graph: Graph, batch_size: int = 64) -> None:
        self.graph = graph
        self.batch_size = batch_size
        self._info: dict[str, NodeInfo] = {}
        self._keys: dict[str, tuple] = {}  # node -> (type, params, input metas) last computed
        self._dirty: set[str] = set(graph.nodes)
        self.recomputed = 0  # rule evaluations in the last update (tests assert on it)
        g = graph
        g.node_added.connect(self._mark)
        g.params_changed.connect(self._mark)
        g.node_removed.connect(self._removed)
        g.edge_added.connect(self._edge)
        g.edge_removed.connect(self._edge)

    def close(self) -> None:
        for sig, slot in ((self.graph.node_added, self._mark), (self.graph.params_changed, self._mark),
                          (self.graph.node_removed, self._removed), (self.graph.edge_added, self._edge),
                          (self.graph.edge_removed, self._edge)):
            sig.disconnect(slot)

    # -- graph listeners ----------------------------------------------------------------
    def _mark(self, node_id: str) -> None:
        self._dirty.add(node_id)

    def _removed(self, node_id: str) -> None:
        self._dirty.discard(node_id)
        self._info.pop(node_id, None)
        self._keys.pop(node_id, None)
        self.changed.emit_fast({node_id})

    def _edge(self, edge: Edge) -> None:
        if edge.dst in self.graph.nodes:
            self._dirty.add(edge.dst)
        if edge.src in self.graph.nodes:
            self._dirty.add(edge.src)  # its out-degree (output diagnostics) changed

    def set_batch_size(self, batch_size: int) -> None:
        if batch_size != self.batch_size:
            self.batch_size = batch_size
            self._dirty.update(self.graph.nodes)
            self._keys.clear()

    # -- queries -------------------------------------------------------------------------
    def info(self, node_id: str) -> NodeInfo:
        self.update()
        return self._info.get(node_id, _UNKNOWN)

    def all(self) -> dict[str, NodeInfo]:
        self.update()
        return dict(self._info)

    def update(self) -> set[str]:
        """Recompute what edits made stale; returns the ids whose info changed."""
        self.recomputed = 0
        if not self._dirty:
            return set()
        g = self.graph
        pending = self._dirty
        self._dirty = set()
        changed: set[str] = set()
        infos, keys, nodes, in_edges = self._info, self._keys, g.nodes, g._in
        for n in g.topological_order():
            if n not in pending:
                continue
            node = nodes[n]
            ports = in_edges[n]
            if len(ports) == 1:  # the common case, without sorting
                (port, edge), = ports.items()
                port_list = (port,)
                ins = [infos.get(edge.src, _UNKNOWN).out]
            else:
                items = sorted(ports.items())
                port_list = tuple(p for p, _ in items)
                ins = [infos.get(e.src, _UNKNOWN).out for _, e in items]
            # What the rule depends on. params dicts compare fast (in C) and are replaced,
            # never mutated, by Graph.set_params; a copy guards against outside mutation.
            key = (node.type, node.params, ins, port_list)
            old_key = keys.get(n)
            if old_key is not None and old_key == key and n in infos:
                continue
            keys[n] = (node.type, dict(node.params), ins, port_list)
            self.recomputed += 1
            info = self._compute(node, port_list, ins)
            old = infos.get(n)
            infos[n] = info
            if info != old:
                changed.add(n)
            if old is None or info.out != old.out:
                pending.update(e.dst for e in g._out[n])
        if changed:
            self.changed.emit_fast(changed)
        return changed

    def _compute(self, node, ports: tuple[int, ...], ins: list[TensorMeta | None]) -> NodeInfo:
        spec = node.spec
        if ports != (0,) or spec.inputs != 1:  # (one input on port 0: the common case, nothing to say)
            problem = self._port_problem(spec, list(ports))
            if problem:
                return NodeInfo(out=None, error=problem)
        if None in ins:
            return NodeInfo(out=None)  # unknown because of an upstream problem: no new message
        try:
            cost = spec.run(node.params, ins)
        except ShapeError as e:
            return NodeInfo(out=None, error=e.message)
        b = self.batch_size
        wbytes = cost.params * 4
        act = prod(cost.out.shape) * DTYPE_BYTES.get(cost.out.dtype, 4) * b
        moved = wbytes + act + sum(prod(t.shape) * DTYPE_BYTES.get(t.dtype, 4) for t in ins) * b
        work = (cost.flops + cost.elementwise) * b
        return NodeInfo(out=cost.out, params=cost.params, flops=cost.flops, elementwise=cost.elementwise,
                        weight_bytes=wbytes, activation_bytes=act,
                        intensity=(work / moved) if moved else None, hint=cost.hint)

    @staticmethod
    def _port_problem(spec, ports: list[int]) -> str | None:
        n = len(ports)
        if spec.variadic:
            if n < 2:
                return f"{spec.type} needs at least 2 inputs, got {n}"
            if ports != list(range(n)):
                return f"{spec.type}: input ports must be contiguous 0..{n - 1}, got {ports}"
            return None
        extra = [p for p in ports if p >= spec.inputs]
        if extra and n <= spec.inputs:
            on = "port 0" if spec.inputs == 1 else f"ports 0..{spec.inputs - 1}"
            return f"{spec.type} has no input port {extra[0]} (its input{'s' if spec.inputs > 1 else ''}: {on})"
        if n < spec.inputs:
            return f"{spec.type} needs {spec.inputs} input{'s' if spec.inputs > 1 else ''}, got {n}"
        if n > spec.inputs:
            return f"{spec.type} takes {spec.inputs} input{'s' if spec.inputs != 1 else ''}, got {n}"
        return None

    def totals(self) -> Totals:
        infos = self.all()
        vals = list(infos.values())
        known = [i for i in vals if i.out is not None]
        return Totals(
            params=sum(i.params for i in known),
            flops=sum(i.flops for i in known),
            elementwise=sum(i.elementwise for i in known),
            weight_bytes=sum(i.weight_bytes for i in known),
            activation_bytes=sum(i.activation_bytes for i in known),
            complete=len(known) == len(self.graph.nodes),
        )

    def diagnostics(self) -> list[Diagnostic]:
        """Every problem of the graph, errors first; an empty graph is one error."""
        g = self.graph
        infos = self.all()
        out: list[Diagnostic] = []
        inputs = [n for n, node in g.nodes.items() if node.type == "Input"]
        if not inputs:
            out.append(Diagnostic(None, None, "the graph has no Input node"))
        outputs = g.output_nodes()
        real_outputs = [n for n in outputs if g.nodes[n].type != "Input" or len(g.nodes) == 1]
        if len(real_outputs) > 1:
            out.append(Diagnostic(None, None, "the graph has several outputs (" + ", ".join(real_outputs)
                                  + "); exactly one node may have no outgoing edge"))
        for n in g.nodes:
            if g.nodes[n].type == "Input" and not g.outputs(n) and len(g.nodes) > 1:
                out.append(Diagnostic(n, None, f"{n}: the Input is not connected to anything", "warning"))
        for n, info in infos.items():
            if info.error:
                out.append(Diagnostic(n, None, f"{n}: {info.error}"))
        for n, info in infos.items():
            if info.hint:
                out.append(Diagnostic(n, None, f"{n}: {info.hint}", "hint"))
        return out

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics() if d.severity == "error"]
