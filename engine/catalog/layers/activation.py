"""Element-wise activations."""
from __future__ import annotations

from engine.catalog.layers._rules import elementwise, need_float, one
from engine.catalog.spec import LayerSpec, Param


def _act(type_: str, ops: int):
    def infer(params, inputs):
        t = one(inputs, type_)
        need_float(t, type_)
        return elementwise(t, ops)
    return infer


_INPLACE = Param("inplace", "bool", False, "Overwrite the input (saves memory)")


def _simple(type_: str, doc: str, ops: int = 1, params=(_INPLACE,)) -> LayerSpec:
    return LayerSpec(type_, "Activation", doc, tuple(params), _act(type_, ops),
                     torch_class=f"torch.nn.{type_}")


SPECS = [
    _simple("ReLU", "max(0, x)."),
]
