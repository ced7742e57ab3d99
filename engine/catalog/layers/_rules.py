"""Small helpers shared by the layer rules (pure Python, no allocation of tensors)."""
from __future__ import annotations

import math
from typing import Sequence

from engine.catalog.spec import LayerCost, Shape, TensorMeta
from engine.errors import ShapeError


def fmt(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def one(inputs: Sequence[TensorMeta], type_: str) -> TensorMeta:
    if len(inputs) != 1:
        raise ShapeError(f"{type_} takes exactly one input, got {len(inputs)}")
    return inputs[0]


def need_float(t: TensorMeta, type_: str) -> None:
    if t.dtype != "float32":
        raise ShapeError(f"{type_} needs a float input, got {t.dtype} (token ids go into an Embedding first)")


def spatial(t: TensorMeta, type_: str, dims: int) -> tuple[int, Shape]:
    """Split a [C, *spatial] input; torch also accepts unbatched inputs but our shapes never are."""
    need_float(t, type_)
    if len(t.shape) != dims + 1:
        want = {1: ["C", "L"], 2: ["C", "H", "W"], 3: ["C", "D", "H", "W"]}[dims]
        raise ShapeError(f"{type_} expects an input of shape [{', '.join(want)}], got {fmt(t.shape)}")
    return t.shape[0], t.shape[1:]


def window_out(size: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """Output length of a sliding window (conv or pooling), as torch computes it."""
    span = size + 2 * p - d * (k - 1) - 1
    if ceil:
        out = -(-span // s) + 1
        # torch: the last window must start inside the input or the left padding
        if (out - 1) * s >= size + p:
            out -= 1
    else:
        out = span // s + 1
    return out


def batch_dim(d: int, rank: int, type_: str, key: str, *, allow_batch: bool = False) -> int:
    """Normalize a torch ``dim`` that counts the batch dimension (``rank`` excludes it).

    Returns the index into the full shape (0 = batch). Our rules refuse the batch dimension
    unless ``allow_batch``: mixing samples is never what a user meant.
    """
    full, given = rank + 1, d
    if not -full <= d < full:
        raise ShapeError(f"{type_}: {key}={d} is out of range for an input with {rank} dimension"
                         f"{'s' if rank != 1 else ''} plus the batch dimension")
    d %= full
    if d == 0 and not allow_batch:
        raise ShapeError(f"{type_}: {key}={given} is the batch dimension; dimensions count the batch, "
                         f"so the first dimension of a sample is 1")
    return d


def numel(shape: Shape) -> int:
    return math.prod(shape)


def elementwise(t: TensorMeta, per_element: int = 1, *, hint: str | None = None) -> LayerCost:
    """A layer that keeps the shape and does ``per_element`` operations per element."""
    return LayerCost(out=t, elementwise=per_element * numel(t.shape), hint=hint)
