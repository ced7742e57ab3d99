"""Element-wise activations, and Softmax / LogSoftmax over one dimension.

``elementwise`` is a rough count of operations per element (a compare for ReLU, an exp and
a division for Sigmoid...); FlopCounterMode counts none of them.
"""
from __future__ import annotations

from engine.catalog.layers._rules import batch_dim, elementwise, need_float, one
from engine.catalog.spec import LayerSpec, Param


def _act(type_: str, ops: int):
    def infer(params, inputs):
        t = one(inputs, type_)
        need_float(t, type_)
        return elementwise(t, ops)
    return infer


def _softmax(type_: str):
    def infer(params, inputs):
        t = one(inputs, type_)
        need_float(t, type_)
        batch_dim(params["dim"], len(t.shape), type_, "dim")
        return elementwise(t, 4)  # max, exp, sum, divide (or log)
    return infer


_INPLACE = Param("inplace", "bool", False, "Overwrite the input to save memory (ignored where the input is used elsewhere)")


def _simple(type_: str, doc: str, ops: int, params=(_INPLACE,), key_params=()) -> LayerSpec:
    return LayerSpec(type_, "Activation", doc, tuple(params), _act(type_, ops), key_params=key_params,
                     torch_class=f"torch.nn.{type_}")


def _dim_spec(type_: str, doc: str) -> LayerSpec:
    # torch's default dim=None picks a dimension implicitly (deprecated; for [N, C, L] it picks
    # the batch). -1, the last dimension, is what a classifier head means.
    return LayerSpec(type_, "Activation", doc,
                     (Param("dim", "int", -1, "Dimension to normalize over, counting the batch (-1 = last)",
                            min=-9, max=9),),
                     _softmax(type_), key_params=("dim",), torch_class=f"torch.nn.{type_}")


SPECS = [
    _simple("ReLU", "max(0, x).", 1),
    _simple("ReLU6", "min(max(0, x), 6).", 2),
    _simple("LeakyReLU", "x if x > 0 else negative_slope · x.", 2,
            (Param("negative_slope", "float", 0.01, "Slope for negative inputs", min=0, max=1), _INPLACE),
            key_params=("negative_slope",)),
    _simple("ELU", "x if x > 0 else alpha · (exp(x) − 1).", 4,
            (Param("alpha", "float", 1.0, "Value the output approaches for very negative inputs", min=0, max=100),
             _INPLACE)),
    _simple("GELU", "x · Φ(x), the Gaussian error linear unit (transformers).", 8,
            (Param("approximate", "choice", "none", "'tanh' uses the faster tanh approximation",
                   choices=("none", "tanh")),)),
    _simple("SiLU", "x · sigmoid(x) (also called swish).", 5),
    _simple("Hardswish", "x · relu6(x + 3) / 6, a cheap swish (MobileNetV3).", 4),
    _simple("Hardsigmoid", "relu6(x + 3) / 6, a cheap sigmoid.", 3),
    _simple("Sigmoid", "1 / (1 + exp(−x)), squashes to (0, 1).", 4, ()),
    _simple("Tanh", "Hyperbolic tangent, squashes to (−1, 1).", 6, ()),
    _dim_spec("Softmax", "Normalizes to probabilities that sum to 1 along dim."),
    _dim_spec("LogSoftmax", "log(softmax(x)) along dim, numerically stable (pair with NLL loss)."),
]
