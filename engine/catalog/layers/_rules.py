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
        want = ["C", "L"] if dims == 1 else ["C", "H", "W"][: dims + 1]
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


def numel(shape: Shape) -> int:
    return math.prod(shape)


def elementwise(t: TensorMeta, per_element: int = 1, *, hint: str | None = None) -> LayerCost:
    """A layer that keeps the shape and does ``per_element`` operations per element."""
    return LayerCost(out=t, elementwise=per_element * numel(t.shape), hint=hint)
