"""The constructor arguments of a layer: its catalog params plus those inferred from its input.

The project file stores only what a user chooses (``out_channels``); ``in_channels`` and the
like come from the input's shape, as DESIGN.md's file format says. Both the code exporter and
the importer (which checks a torch module against the graph) need this mapping. Pure Python.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.catalog import LayerSpec, TensorMeta
from engine.errors import ShapeError

#: inferred constructor argument → how it is read from the input's metadata (batch excluded)
INFERRED: dict[str, Callable[[TensorMeta], Any]] = {
    "in_channels": lambda t: t.shape[0],
    "num_features": lambda t: t.shape[0],
    "num_channels": lambda t: t.shape[0],
    "in_features": lambda t: t.shape[-1],
    "input_size": lambda t: t.shape[-1],
    "normalized_shape": lambda t: t.shape[-1],
}

#: arguments a layer type always gets, whatever the params (recurrent layers read [N, L, F])
FIXED: dict[str, dict[str, Any]] = {
    "LSTM": {"batch_first": True},
    "GRU": {"batch_first": True},
    "RNN": {"batch_first": True},
}

#: module layers whose forward returns a tuple; the graph's tensor is element 0 (the sequence)
TUPLE_OUTPUT = frozenset({"LSTM", "GRU", "RNN"})


def inferred_args(spec: LayerSpec, inputs: list[TensorMeta], node: str | None = None) -> dict[str, Any]:
    """Values of ``spec.inferred`` for these input metadata."""
    out = {}
    for name in spec.inferred:
        rule = INFERRED.get(name)
        if rule is None:
            raise ShapeError(f"{node or spec.type}: do not know how to infer {spec.type}'s {name}",
                             node=node, key=name)
        if len(inputs) != 1 or not inputs[0].shape:
            raise ShapeError(f"{node or spec.type}: {name} cannot be inferred without one input shape",
                             node=node, key=name)
        out[name] = rule(inputs[0])
    return out


def constructor_args(spec: LayerSpec, params: dict[str, Any], inputs: list[TensorMeta],
                     node: str | None = None) -> dict[str, Any]:
    """Every keyword argument the torch class is built with (inferred, then params, then fixed)."""
    return {**inferred_args(spec, inputs, node), **params, **FIXED.get(spec.type, {})}
