"""Pooling layers: fixed-window max/average and adaptive (fixed output size).

``elementwise`` counts one operation per window element read (a compare or an add).
"""
from __future__ import annotations

import math

from engine.catalog.layers._rules import fmt, one, spatial, window_out
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError

_SIZE = dict(min=1, max=4096)


def _make_window_pool(type_: str, dims: int, average: bool):
    def infer(params, inputs):
        t = one(inputs, type_)
        c, size = spatial(t, type_, dims)
        k = params["kernel_size"]
        s = params["stride"] if params["stride"] is not None else k
        p = params["padding"]
        d = params.get("dilation") or (1,) * dims  # average pooling has no dilation
        # torch compares padding with the kernel itself (not the dilated window)
        if any(pp * 2 > kk for pp, kk in zip(p, k)):
            raise ShapeError(f"{type_}: padding {list(p)} must be at most half of kernel_size {list(k)}")
        out = tuple(window_out(n, kk, st, pp, dd, params["ceil_mode"])
                    for n, kk, st, pp, dd in zip(size, k, s, p, d))
        if any(o < 1 for o in out):
            raise ShapeError(f"{type_}: input {fmt(t.shape)} is too small for kernel_size {list(k)} "
                             f"(output would be {list(out)})")
        out_n = c * math.prod(out)
        return LayerCost(out=TensorMeta((c,) + out), elementwise=out_n * (math.prod(k) + average))
    return infer


def _make_adaptive(type_: str, dims: int):
    def infer(params, inputs):
        t = one(inputs, type_)
        c, size = spatial(t, type_, dims)
        out = params["output_size"]
        return LayerCost(out=TensorMeta((c,) + tuple(out)), elementwise=c * math.prod(size))
    return infer


def _window_params(dims: int, *, dilation: bool, average: bool) -> tuple[Param, ...]:
    ps = [
        Param("kernel_size", "ints", 2, "Size of the pooling window", length=dims, **_SIZE),
        Param("stride", "ints", None, "Step between windows (default: kernel_size)", length=dims,
              nullable=True, **_SIZE),
        Param("padding", "ints", 0, "Implicit padding on each side (at most half the kernel)",
              min=0, max=2048, length=dims),
    ]
    if dilation:
        ps.append(Param("dilation", "ints", 1, "Spacing between window elements", length=dims, **_SIZE))
    ps.append(Param("ceil_mode", "bool", False, "Round the output size up instead of down"))
    if average:
        ps.append(Param("count_include_pad", "bool", True, "Count padding zeros in the average"))
        if dims == 2:
            ps.append(Param("divisor_override", "int", None, "Divide by this instead of the window size",
                            nullable=True, min=1, max=2**20))
    return tuple(ps)


def _window_spec(kind: str, dims: int) -> LayerSpec:
    type_ = f"{kind}Pool{dims}d"
    average = kind == "Avg"
    doc = "Average over each window." if average else "Maximum over each window."
    return LayerSpec(type_, "Pooling", doc, _window_params(dims, dilation=not average, average=average),
                     _make_window_pool(type_, dims, average), key_params=("kernel_size", "stride"),
                     torch_class=f"torch.nn.{type_}")


def _adaptive_spec(kind: str, dims: int) -> LayerSpec:
    type_ = f"Adaptive{kind}Pool{dims}d"
    what = "Averages" if kind == "Avg" else "Takes maxima"
    global_ = "global average" if kind == "Avg" else "global max"
    return LayerSpec(
        type_, "Pooling", f"{what} to a fixed output size (1 = {global_} pooling).",
        (Param("output_size", "ints", 1, "Output size" + (" (height and width)" if dims == 2 else ""),
               length=dims, **_SIZE),),
        _make_adaptive(type_, dims), key_params=("output_size",), torch_class=f"torch.nn.{type_}")


SPECS = [
    _window_spec("Max", 1), _window_spec("Max", 2), _window_spec("Avg", 1), _window_spec("Avg", 2),
    _adaptive_spec("Avg", 1), _adaptive_spec("Avg", 2), _adaptive_spec("Max", 1), _adaptive_spec("Max", 2),
]
