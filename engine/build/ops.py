"""Graph ops (no torch module of their own) as ``call_function`` nodes of an fx graph."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch
import torch.fx as fx


def _chain(fn: Callable) -> Callable:
    """Variadic Add/Multiply as a chain of binary torch ops; the last one gets the node's name."""
    def emit(g: fx.Graph, name: str, params: Mapping[str, Any], args: Sequence[fx.Node]) -> fx.Node:
        acc = args[0]
        for i, arg in enumerate(args[1:], start=2):
            acc = g.create_node("call_function", fn, (acc, arg),
                                name=name if i == len(args) else f"{name}_partial{i}")
        return acc
    return emit


def _concat(g, name, params, args):
    return g.create_node("call_function", torch.cat, (list(args),), {"dim": params["dim"]}, name=name)


def _transpose(g, name, params, args):
    return g.create_node("call_function", torch.transpose, (args[0], params["dim0"], params["dim1"]), name=name)


def _permute(g, name, params, args):
    dims = params["dims"]
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return g.create_node("call_function", torch.permute, (args[0], dims), name=name)


#: graph op type → emitter(graph, name, params, args) -> the fx node holding its value
GRAPH_OPS: dict[str, Callable[..., fx.Node]] = {
    "Add": _chain(torch.add),
    "Multiply": _chain(torch.mul),
    "Concat": _concat,
    "Transpose": _transpose,
    "Permute": _permute,
}
