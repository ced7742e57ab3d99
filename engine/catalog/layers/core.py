"""Graph ops and shape plumbing: Input, Identity, Flatten, Add, Multiply, Concat."""
from __future__ import annotations

from engine.catalog.layers._rules import fmt, numel, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _input(params, inputs):
    if inputs:
        raise ShapeError("Input takes no inputs")
    return LayerCost(out=TensorMeta(tuple(params["shape"]), params["dtype"]))


def _identity(params, inputs):
    return LayerCost(out=one(inputs, "Identity"))


def _dim(d: int, rank: int, type_: str, key: str) -> int:
    """Normalize a torch dim that counts the batch dimension (rank excludes it)."""
    full = rank + 1
    if not -full <= d < full:
        raise ShapeError(f"{type_}: {key}={d} is out of range for an input with {rank} dimensions "
                         f"(plus the batch dimension)")
    return d % full


def _flatten(params, inputs):
    t = one(inputs, "Flatten")
    s = _dim(params["start_dim"], len(t.shape), "Flatten", "start_dim")
    e = _dim(params["end_dim"], len(t.shape), "Flatten", "end_dim")
    if s == 0 or e == 0:
        raise ShapeError("Flatten: flattening the batch dimension is not supported (start_dim ≥ 1)")
    if s > e:
        raise ShapeError(f"Flatten: start_dim ({params['start_dim']}) comes after end_dim ({params['end_dim']})")
    shape = t.shape[: s - 1] + (numel(t.shape[s - 1: e]),) + t.shape[e:]
    return LayerCost(out=TensorMeta(shape, t.dtype))


def _same_shapes(type_: str, inputs) -> TensorMeta:
    if len(inputs) < 2:
        raise ShapeError(f"{type_} needs at least 2 inputs, got {len(inputs)}")
    first = inputs[0]
    for t in inputs[1:]:
        if t.shape != first.shape:
            shapes = " and ".join(fmt(i.shape) for i in inputs)
            raise ShapeError(f"{type_}: inputs have shapes {shapes}")
    return first


def _add(params, inputs):
    t = _same_shapes("Add", inputs)
    return LayerCost(out=t, elementwise=(len(inputs) - 1) * numel(t.shape))


def _multiply(params, inputs):
    t = _same_shapes("Multiply", inputs)
    return LayerCost(out=t, elementwise=(len(inputs) - 1) * numel(t.shape))


def _concat(params, inputs):
    if len(inputs) < 2:
        raise ShapeError(f"Concat needs at least 2 inputs, got {len(inputs)}")
    rank = len(inputs[0].shape)
    d = _dim(params["dim"], rank, "Concat", "dim")
    if d == 0:
        raise ShapeError("Concat: dim 0 is the batch dimension; use dim=1 for channels")
    for t in inputs[1:]:
        if len(t.shape) != rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, inputs[0].shape)) if i != d - 1):
            shapes = " and ".join(fmt(i.shape) for i in inputs)
            raise ShapeError(f"Concat: inputs have shapes {shapes}; they must agree except in dim {params['dim']}")
    shape = list(inputs[0].shape)
    shape[d - 1] = sum(t.shape[d - 1] for t in inputs)
    return LayerCost(out=TensorMeta(tuple(shape), inputs[0].dtype))


SPECS = [
    LayerSpec(
        "Input", "Input", "The network's input: one sample's shape, without the batch dimension.",
        (Param("shape", "shape", [3, 32, 32], "Shape of one sample, without the batch dimension"),
         Param("dtype", "choice", "float32", "float32 for images and signals, int64 for token ids",
               choices=("float32", "int64"))),
        _input, inputs=0, key_params=("shape",)),
    LayerSpec("Identity", "Utility", "Passes its input through unchanged.", (), _identity,
              torch_class="torch.nn.Identity"),
    LayerSpec(
        "Flatten", "Utility", "Flattens dimensions start_dim..end_dim (counting the batch) into one.",
        (Param("start_dim", "int", 1, "First dimension to flatten (0 is the batch)", min=-9, max=9),
         Param("end_dim", "int", -1, "Last dimension to flatten", min=-9, max=9)),
        _flatten, key_params=("start_dim",), torch_class="torch.nn.Flatten"),
    LayerSpec("Add", "Merge", "Element-wise sum of its inputs (all of the same shape), e.g. a residual skip.",
              (), _add, inputs=None),
    LayerSpec("Multiply", "Merge", "Element-wise product of its inputs (all of the same shape), e.g. gating.",
              (), _multiply, inputs=None),
    LayerSpec(
        "Concat", "Merge", "Joins its inputs along one dimension (dim=1: channels).",
        (Param("dim", "int", 1, "Dimension to join along, counting the batch (1 = channels)", min=-9, max=9),),
        _concat, inputs=None, key_params=("dim",)),
]
