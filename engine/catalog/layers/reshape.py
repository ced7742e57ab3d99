"""Ops that only rearrange elements: Flatten, Transpose, Permute.

Transpose/Permute are graph ops (torch has no module for them in every supported version);
they turn a Conv1d output [C, L] into the [L, features] an LSTM reads. Dims count the batch.
"""
from __future__ import annotations

from engine.catalog.layers._rules import batch_dim, fmt, numel, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _flatten(params, inputs):
    t = one(inputs, "Flatten")
    rank = len(t.shape)
    if params["start_dim"] in (0, -rank - 1):
        raise ShapeError("Flatten: flattening the batch dimension is not supported (start_dim ≥ 1)")
    s = batch_dim(params["start_dim"], rank, "Flatten", "start_dim") - 1
    e = batch_dim(params["end_dim"], rank, "Flatten", "end_dim") - 1
    if s > e:
        raise ShapeError(f"Flatten: start_dim ({params['start_dim']}) comes after end_dim ({params['end_dim']})")
    shape = t.shape[:s] + (numel(t.shape[s: e + 1]),) + t.shape[e + 1:]
    return LayerCost(out=TensorMeta(shape, t.dtype))


def _transpose(params, inputs):
    t = one(inputs, "Transpose")
    rank = len(t.shape)
    a = batch_dim(params["dim0"], rank, "Transpose", "dim0") - 1
    b = batch_dim(params["dim1"], rank, "Transpose", "dim1") - 1
    shape = list(t.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return LayerCost(out=TensorMeta(tuple(shape), t.dtype))


def _permute(params, inputs):
    t = one(inputs, "Permute")
    dims = params["dims"]
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    rank = len(t.shape)
    if len(dims) != rank + 1:
        raise ShapeError(f"Permute: dims {list(dims)} must list {rank + 1} dimensions (the batch and "
                         f"every dimension of the input {fmt(t.shape)})")
    full = [batch_dim(d, rank, "Permute", "dims", allow_batch=True) for d in dims]
    if sorted(full) != list(range(rank + 1)):
        raise ShapeError(f"Permute: dims {list(dims)} must name every dimension exactly once")
    if full[0] != 0:
        raise ShapeError(f"Permute: dims {list(dims)} must keep the batch dimension first (dims[0] = 0)")
    return LayerCost(out=TensorMeta(tuple(t.shape[d - 1] for d in full[1:]), t.dtype))


_DIM = dict(min=-9, max=9)

SPECS = [
    LayerSpec(
        "Flatten", "Utility", "Flattens dimensions start_dim..end_dim (counting the batch) into one.",
        (Param("start_dim", "int", 1, "First dimension to flatten (0 is the batch)", **_DIM),
         Param("end_dim", "int", -1, "Last dimension to flatten", **_DIM)),
        _flatten, key_params=("start_dim",), torch_class="torch.nn.Flatten"),
    LayerSpec(
        "Transpose", "Utility", "Swaps two dimensions (counting the batch): [C, L] → [L, C] with 1, 2.",
        (Param("dim0", "int", 1, "First dimension to swap (0 is the batch)", **_DIM),
         Param("dim1", "int", 2, "Second dimension to swap", **_DIM)),
        _transpose, key_params=("dim0", "dim1")),
    LayerSpec(
        "Permute", "Utility", "Reorders all dimensions (counting the batch, which stays first).",
        (Param("dims", "ints", [0, 2, 1], "New order of the dimensions, e.g. 0, 2, 1 turns [C, L] into [L, C]",
               **_DIM),),
        _permute, key_params=("dims",)),
]
