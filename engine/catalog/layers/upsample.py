"""Upsample: resizes [C, L], [C, H, W] or [C, D, H, W] inputs by a size or a scale factor."""
from __future__ import annotations

import math

from engine.catalog.layers._rules import fmt, need_float, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError

# Interpolating modes need a given number of spatial dimensions; nearest works for any.
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
# Rough operations per output element (input values blended).
_MODE_OPS = {"nearest": 1, "nearest-exact": 1, "linear": 3, "bilinear": 7, "bicubic": 31, "trilinear": 15}


def _per_dim(value, dims: int, key: str, shape) -> tuple:
    if not isinstance(value, tuple):
        return (value,) * dims
    if len(value) != dims:
        raise ShapeError(f"Upsample: {key} has {len(value)} values but the input {fmt(shape)} has "
                         f"{dims} spatial dimension{'s' if dims != 1 else ''}")
    return value


def _upsample(params, inputs):
    t = one(inputs, "Upsample")
    need_float(t, "Upsample")
    dims = len(t.shape) - 1
    if not 1 <= dims <= 3:
        raise ShapeError(f"Upsample expects [C, L], [C, H, W] or [C, D, H, W], got {fmt(t.shape)}")
    mode, size, scale = params["mode"], params["size"], params["scale_factor"]
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != dims:
        raise ShapeError(f"Upsample: mode '{mode}' needs {_MODE_DIMS[mode]} spatial dimension"
                         f"{'s' if _MODE_DIMS[mode] > 1 else ''}, the input {fmt(t.shape)} has {dims}")
    if params["align_corners"] is not None and mode not in _MODE_DIMS:
        raise ShapeError(f"Upsample: align_corners can only be set with the interpolating modes "
                         f"({', '.join(_MODE_DIMS)}), not '{mode}'")
    if (size is None) == (scale is None):
        raise ShapeError("Upsample: set exactly one of size and scale_factor")
    if size is not None and params["recompute_scale_factor"]:
        raise ShapeError("Upsample: recompute_scale_factor only applies with scale_factor, not with size")
    if size is not None:
        out = _per_dim(size, dims, "size", t.shape)
    else:
        # torch: floor(input size × scale), computed in double precision like Python floats
        out = tuple(math.floor(n * f) for n, f in zip(t.shape[1:], _per_dim(scale, dims, "scale_factor", t.shape)))
    if any(o < 1 for o in out):
        raise ShapeError(f"Upsample: the output size {list(out)} of input {fmt(t.shape)} must be at least 1")
    shape = (t.shape[0],) + tuple(out)
    return LayerCost(out=TensorMeta(shape), elementwise=_MODE_OPS[mode] * math.prod(shape))


SPECS = [
    LayerSpec(
        "Upsample", "Utility", "Resizes its input to a size, or by a scale factor (nearest, linear...).",
        (Param("size", "ints", None, "Output size (spatial dimensions); leave empty to use scale_factor",
               nullable=True, min=1, max=2**20),
         # torch's default (None) leaves an Upsample unusable until a size is set
         Param("scale_factor", "floats", 2.0, "Multiplier of the spatial size (empty when size is set)",
               nullable=True, min=0, max=1024, min_exclusive=True),
         Param("mode", "choice", "nearest", "Interpolation: nearest; linear, bilinear, trilinear for "
               "1, 2, 3 spatial dimensions; bicubic", choices=tuple(_MODE_OPS)),
         Param("align_corners", "bool", None, "Align the corner pixels of input and output "
               "(interpolating modes only; empty = False)", nullable=True),
         Param("recompute_scale_factor", "bool", None, "Recompute the scale from the output size "
               "for the interpolation", nullable=True)),
        _upsample, key_params=("scale_factor", "mode"), torch_class="torch.nn.Upsample"),
]
