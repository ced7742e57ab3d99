"""The network's input, and the layer that does nothing (Identity)."""
from __future__ import annotations

from engine.catalog.layers._rules import one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _input(params, inputs):
    if inputs:
        raise ShapeError("Input takes no inputs")
    return LayerCost(out=TensorMeta(tuple(params["shape"]), params["dtype"]))


def _identity(params, inputs):
    return LayerCost(out=one(inputs, "Identity"))


SPECS = [
    LayerSpec(
        "Input", "Input", "The network's input: one sample's shape, without the batch dimension.",
        (Param("shape", "shape", [3, 32, 32], "Shape of one sample, without the batch dimension"),
         Param("dtype", "choice", "float32", "float32 for images and signals, int64 for token ids",
               choices=("float32", "int64"))),
        _input, inputs=0, key_params=("shape",)),
    LayerSpec("Identity", "Utility", "Passes its input through unchanged.", (), _identity,
              torch_class="torch.nn.Identity"),
]
