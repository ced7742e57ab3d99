"""Dropout (regularization): zeroes elements, or whole channels, while training."""
from __future__ import annotations

from engine.catalog.layers._rules import elementwise, fmt, need_float, one
from engine.catalog.spec import LayerSpec, Param
from engine.errors import ShapeError

_P = Param("p", "float", 0.5, "Probability of zeroing an element", min=0, max=1)
_INPLACE = Param("inplace", "bool", False, "Overwrite the input to save memory (ignored where the input is used elsewhere)")


def _dropout(params, inputs):
    t = one(inputs, "Dropout")
    need_float(t, "Dropout")
    return elementwise(t, 2)  # draw a mask, multiply


def _dropout2d(params, inputs):
    t = one(inputs, "Dropout2d")
    need_float(t, "Dropout2d")
    if len(t.shape) != 3:
        # torch only warns and then drops along the wrong dimension
        raise ShapeError(f"Dropout2d expects an input of shape [C, H, W], got {fmt(t.shape)}")
    return elementwise(t, 1)


SPECS = [
    LayerSpec("Dropout", "Regularization", "Randomly zeroes elements while training (scales the rest by 1/(1−p)).",
              (_P, _INPLACE), _dropout, key_params=("p",), torch_class="torch.nn.Dropout"),
    LayerSpec("Dropout2d", "Regularization", "Randomly zeroes whole channels of [C, H, W] maps while training.",
              (Param("p", "float", 0.5, "Probability of zeroing a channel", min=0, max=1), _INPLACE),
              _dropout2d, key_params=("p",), torch_class="torch.nn.Dropout2d"),
]
