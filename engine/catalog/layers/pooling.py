"""Pooling layers (fixed-window and adaptive)."""
from __future__ import annotations

import math

from engine.catalog.layers._rules import fmt, spatial, window_out
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _make_maxpool(type_: str, dims: int):
    def infer(params, inputs):
        if len(inputs) != 1:
            raise ShapeError(f"{type_} takes exactly one input, got {len(inputs)}")
        c, size = spatial(inputs[0], type_, dims)
        k = params["kernel_size"]
        s = params["stride"] if params["stride"] is not None else k
        p, d = params["padding"], params["dilation"]
        if any(pp * 2 > kk for pp, kk in zip(p, k)):
            raise ShapeError(f"{type_}: padding {list(p)} must be at most half of kernel_size {list(k)}")
        out = tuple(window_out(n, kk, st, pp, dd, params["ceil_mode"])
                    for n, kk, st, pp, dd in zip(size, k, s, p, d))
        if any(o < 1 for o in out):
            raise ShapeError(f"{type_}: input {fmt(inputs[0].shape)} is too small for kernel_size {list(k)}")
        out_n = c * math.prod(out)
        return LayerCost(out=TensorMeta((c,) + out), elementwise=out_n * math.prod(k))
    return infer


def _make_adaptive(type_: str, dims: int):
    def infer(params, inputs):
        if len(inputs) != 1:
            raise ShapeError(f"{type_} takes exactly one input, got {len(inputs)}")
        c, size = spatial(inputs[0], type_, dims)
        out = params["output_size"]
        return LayerCost(out=TensorMeta((c,) + tuple(out)), elementwise=c * math.prod(size))
    return infer


def _pool_params(dims: int) -> tuple[Param, ...]:
    return (
        Param("kernel_size", "ints", 2, "Size of the pooling window", min=1, max=4096, length=dims),
        Param("stride", "ints", None, "Step between windows (default: kernel_size)", min=1, max=4096,
              length=dims, nullable=True),
        Param("padding", "ints", 0, "Implicit padding on each side", min=0, max=4096, length=dims),
        Param("dilation", "ints", 1, "Spacing between window elements", min=1, max=4096, length=dims),
        Param("ceil_mode", "bool", False, "Round the output size up instead of down"),
    )


SPECS = [
    LayerSpec("MaxPool2d", "Pooling", "Maximum over each window.", _pool_params(2),
              _make_maxpool("MaxPool2d", 2), key_params=("kernel_size", "stride"),
              torch_class="torch.nn.MaxPool2d"),
    LayerSpec("AdaptiveAvgPool2d", "Pooling", "Averages to a fixed output size (1 = global average).",
              (Param("output_size", "ints", 1, "Output height and width", min=1, max=4096, length=2),),
              _make_adaptive("AdaptiveAvgPool2d", 2), key_params=("output_size",),
              torch_class="torch.nn.AdaptiveAvgPool2d"),
]
