"""Fully connected layers."""
from __future__ import annotations

from engine.catalog.layers._rules import fmt, need_float, numel, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _linear(params, inputs):
    t = one(inputs, "Linear")
    need_float(t, "Linear")
    fin, fout = t.shape[-1], params["out_features"]
    rows = numel(t.shape[:-1])
    hint = None
    if len(t.shape) >= 3:
        hint = (f"Linear applies to the last dimension only (input {fmt(t.shape)}); "
                f"add a Flatten first to use every feature")
    return LayerCost(
        out=TensorMeta(t.shape[:-1] + (fout,)),
        params=fin * fout + (fout if params["bias"] else 0),
        flops=2 * rows * fin * fout,
        hint=hint,
    )


SPECS = [
    LayerSpec(
        "Linear", "Linear", "Fully connected layer: y = xWᵀ + b over the last dimension.",
        (Param("out_features", "int", 10, "Number of output features", min=1, max=2**31),
         Param("bias", "bool", True, "Learn an additive bias")),
        _linear, inferred=("in_features",), key_params=("out_features",), torch_class="torch.nn.Linear"),
]
