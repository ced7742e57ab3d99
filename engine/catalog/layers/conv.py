"""Convolutions (1-D, 2-D, transposed 2-D)."""
from __future__ import annotations

import math

from engine.catalog.layers._rules import fmt, one, spatial, window_out
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError

_SIZE = dict(min=1, max=4096)


def _conv_params(dims: int, transposed: bool = False) -> tuple[Param, ...]:
    ps = [
        Param("out_channels", "int", 16, "Number of output channels (filters)", min=1, max=2**20),
        Param("kernel_size", "ints", 3, "Size of the convolution window", length=dims, **_SIZE),
        Param("stride", "ints", 1, "Step between windows", length=dims, **_SIZE),
        Param("padding", "ints", 0, "Padding added on each side of the input", min=0, max=4096, length=dims),
    ]
    if transposed:
        ps.append(Param("output_padding", "ints", 0, "Extra size added to one side of the output",
                        min=0, max=4096, length=dims))
    ps += [
        Param("dilation", "ints", 1, "Spacing between kernel elements", length=dims, **_SIZE),
        Param("groups", "int", 1, "Split channels into this many independent groups", min=1, max=2**20),
        Param("bias", "bool", True, "Learn an additive bias per output channel"),
        # torch refuses anything but zeros for transposed convolutions
        Param("padding_mode", "choice", "zeros", "How the input is padded",
              choices=("zeros",) if transposed else ("zeros", "reflect", "replicate", "circular")),
    ]
    return tuple(ps)


def _check_padding_mode(type_: str, mode: str, size, pad, shape) -> None:
    """torch pads with F.pad first: reflect needs pad < size, circular pad ≤ size."""
    if mode == "reflect" and any(p >= n for p, n in zip(pad, size)):
        raise ShapeError(f"{type_}: reflect padding {list(pad)} must be smaller than the input size {fmt(shape[1:])}")
    if mode == "circular" and any(p > n for p, n in zip(pad, size)):
        raise ShapeError(f"{type_}: circular padding {list(pad)} must not exceed the input size {fmt(shape[1:])}")


def _make_conv(type_: str, dims: int, transposed: bool = False):
    def infer(params, inputs):
        t = one(inputs, type_)
        cin, size = spatial(t, type_, dims)
        cout, g = params["out_channels"], params["groups"]
        k, s, p, d = params["kernel_size"], params["stride"], params["padding"], params["dilation"]
        if cin % g or cout % g:
            raise ShapeError(f"{type_}: groups={g} must divide both the input channels ({cin}) "
                             f"and out_channels ({cout})")
        if transposed:
            op = params["output_padding"]
            if any(o >= max(st, dl) for o, st, dl in zip(op, s, d)):
                raise ShapeError(f"{type_}: output_padding {list(op)} must be smaller than stride or dilation")
            out = tuple((n - 1) * st - 2 * pd + dl * (kk - 1) + o + 1
                        for n, kk, st, pd, dl, o in zip(size, k, s, p, d, op))
        else:
            _check_padding_mode(type_, params["padding_mode"], size, p, t.shape)
            out = tuple(window_out(n, kk, st, pd, dl) for n, kk, st, pd, dl in zip(size, k, s, p, d))
        if any(o < 1 for o in out):
            raise ShapeError(f"{type_}: input {fmt(t.shape)} is too small for kernel_size "
                             f"{list(k)} (output would be {list(out)})")
        weights = cout * (cin // g) * math.prod(k)
        # FlopCounterMode counts over the output positions (input positions when transposed).
        positions = math.prod(size if transposed else out)
        return LayerCost(
            out=TensorMeta((cout,) + out),
            params=weights + (cout if params["bias"] else 0),
            flops=2 * positions * weights,
        )
    return infer


_KEYS = ("out_channels", "kernel_size", "stride")

SPECS = [
    LayerSpec("Conv1d", "Convolution", "1-D convolution over [C, L] signals.", _conv_params(1),
              _make_conv("Conv1d", 1), inferred=("in_channels",), key_params=_KEYS,
              torch_class="torch.nn.Conv1d"),
    LayerSpec("Conv2d", "Convolution", "2-D convolution over [C, H, W] images.", _conv_params(2),
              _make_conv("Conv2d", 2), inferred=("in_channels",), key_params=_KEYS,
              torch_class="torch.nn.Conv2d"),
    LayerSpec("ConvTranspose2d", "Convolution", "Transposed 2-D convolution (learned upsampling).",
              _conv_params(2, transposed=True), _make_conv("ConvTranspose2d", 2, transposed=True),
              inferred=("in_channels",), key_params=_KEYS, torch_class="torch.nn.ConvTranspose2d"),
]
