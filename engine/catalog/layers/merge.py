"""Multi-input graph ops: Add, Multiply, Concat (ports 0..n-1)."""
from __future__ import annotations

from engine.catalog.layers._rules import batch_dim, fmt, numel
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _dtype(inputs) -> str:
    # torch promotes int64 + float32 to float32
    return "float32" if any(t.dtype == "float32" for t in inputs) else inputs[0].dtype


def _shapes(inputs) -> str:
    return " and ".join(fmt(t.shape) for t in inputs)


def _same_shapes(type_: str, inputs) -> TensorMeta:
    if len(inputs) < 2:
        raise ShapeError(f"{type_} needs at least 2 inputs, got {len(inputs)}")
    first = inputs[0]
    if any(t.shape != first.shape for t in inputs[1:]):
        raise ShapeError(f"{type_}: inputs have shapes {_shapes(inputs)}")
    return TensorMeta(first.shape, _dtype(inputs))


def _elementwise_merge(type_: str):
    def infer(params, inputs):
        t = _same_shapes(type_, inputs)
        return LayerCost(out=t, elementwise=(len(inputs) - 1) * numel(t.shape))
    return infer


def _concat(params, inputs):
    if len(inputs) < 2:
        raise ShapeError(f"Concat needs at least 2 inputs, got {len(inputs)}")
    rank = len(inputs[0].shape)
    if any(len(t.shape) != rank for t in inputs):
        raise ShapeError(f"Concat: inputs have shapes {_shapes(inputs)}; they need the same number of dimensions")
    d = batch_dim(params["dim"], rank, "Concat", "dim") - 1
    first = inputs[0].shape
    if any(a != b for t in inputs[1:] for i, (a, b) in enumerate(zip(t.shape, first)) if i != d):
        raise ShapeError(f"Concat: inputs have shapes {_shapes(inputs)}; they must agree except in "
                         f"dim {params['dim']}")
    shape = first[:d] + (sum(t.shape[d] for t in inputs),) + first[d + 1:]
    return LayerCost(out=TensorMeta(shape, _dtype(inputs)))


SPECS = [
    LayerSpec("Add", "Merge", "Element-wise sum of its inputs (all of the same shape), e.g. a residual skip.",
              (), _elementwise_merge("Add"), inputs=None),
    LayerSpec("Multiply", "Merge", "Element-wise product of its inputs (all of the same shape), e.g. gating.",
              (), _elementwise_merge("Multiply"), inputs=None),
    LayerSpec(
        "Concat", "Merge", "Joins its inputs along one dimension (dim=1: channels).",
        (Param("dim", "int", 1, "Dimension to join along, counting the batch (1 = channels)", min=-9, max=9),),
        _concat, inputs=None, key_params=("dim",)),
]
