"""Normalization layers: BatchNorm1d/2d, LayerNorm, GroupNorm.

Per element: about 5 operations for the statistics and the normalization, 2 more for the
learned scale and shift. FlopCounterMode counts none of it.
"""
from __future__ import annotations

from engine.catalog.layers._rules import fmt, need_float, numel, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError

_EPS = Param("eps", "float", 1e-5, "Added to the variance to avoid dividing by zero", min=0, max=1,
             min_exclusive=True)


def _cost(t: TensorMeta, affine_params: int, affine: bool) -> LayerCost:
    return LayerCost(out=t, params=affine_params if affine else 0,
                     elementwise=numel(t.shape) * (5 + (2 if affine else 0)))


def _make_batchnorm(type_: str, ranks: tuple[int, ...], want: str):
    def infer(params, inputs):
        t = one(inputs, type_)
        need_float(t, type_)
        if len(t.shape) not in ranks:
            raise ShapeError(f"{type_} expects an input of shape {want}, got {fmt(t.shape)}")
        return _cost(t, 2 * t.shape[0], params["affine"])
    return infer


def _layernorm(params, inputs):
    t = one(inputs, "LayerNorm")
    need_float(t, "LayerNorm")
    affine = params["elementwise_affine"]
    weights = t.shape[-1] * (2 if params["bias"] else 1) if affine else 0  # bias needs the affine weight
    return _cost(t, weights, affine)


def _groupnorm(params, inputs):
    t = one(inputs, "GroupNorm")
    need_float(t, "GroupNorm")
    c, g = t.shape[0], params["num_groups"]
    if c % g:
        raise ShapeError(f"GroupNorm: num_groups={g} must divide the number of channels ({c})")
    return _cost(t, 2 * c, params["affine"])


def _bn_params() -> tuple[Param, ...]:
    return (
        _EPS,
        Param("momentum", "float", 0.1, "Weight of each new batch in the running statistics "
              "(empty: a cumulative average)", min=0, max=1, nullable=True),
        Param("affine", "bool", True, "Learn a scale and shift per channel"),
        Param("track_running_stats", "bool", True, "Keep running statistics for evaluation "
              "(off: always use the batch's statistics)"),
    )


SPECS = [
    LayerSpec("BatchNorm1d", "Normalization", "Normalizes each channel over the batch ([C] or [C, L] inputs).",
              _bn_params(), _make_batchnorm("BatchNorm1d", (1, 2), "[C] or [C, L]"),
              inferred=("num_features",), torch_class="torch.nn.BatchNorm1d"),
    LayerSpec("BatchNorm2d", "Normalization", "Normalizes each channel over the batch and positions ([C, H, W]).",
              _bn_params(), _make_batchnorm("BatchNorm2d", (3,), "[C, H, W]"),
              inferred=("num_features",), torch_class="torch.nn.BatchNorm2d"),
    LayerSpec("LayerNorm", "Normalization", "Normalizes each sample over its last dimension.",
              (_EPS,
               Param("elementwise_affine", "bool", True, "Learn a scale (and shift) per feature"),
               Param("bias", "bool", True, "Learn the shift too (with elementwise_affine)")),
              _layernorm, inferred=("normalized_shape",), torch_class="torch.nn.LayerNorm"),
    LayerSpec("GroupNorm", "Normalization", "Normalizes each sample over groups of channels.",
              (Param("num_groups", "int", 2, "Number of channel groups (must divide the channels)",
                     min=1, max=2**20),
               _EPS,
               Param("affine", "bool", True, "Learn a scale and shift per channel")),
              _groupnorm, inferred=("num_channels",), key_params=("num_groups",),
              torch_class="torch.nn.GroupNorm"),
]
