"""Map functional calls (``F.relu(x)``, ``torch.cat([a, b], 1)``, ``x + y``, ``x.permute(0, 2, 1)``)
to catalog types.

Each entry names the call's signature (as in torch) and which of its arguments become the
layer's params; every other argument must keep its default, so the graph computes exactly
what the model did. A call that fits no entry is reported by name.
"""
from __future__ import annotations

import inspect
import operator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from engine.catalog import LayerSpec, get_spec
from engine.errors import ParamError
from engine.importer.modules import Unmapped

_R = inspect.Parameter.empty  # a required argument


@dataclass(frozen=True)
class Op:
    type: str
    args: tuple[tuple[str, Any], ...]  # the call's signature after the tensor input(s)
    params: tuple[str, ...] = ()  # arguments that are the layer's params (same names)
    tensors: str = "one"  # "one": input; "list": a list of tensors; "two": input, other
    require: tuple[tuple[str, Any], ...] = ()  # argument values the catalog layer implies


_INPLACE = (("inplace", False),)
_POOL = (("kernel_size", _R), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False),
         ("return_indices", False))
_AVGPOOL = (("kernel_size", _R), ("stride", None), ("padding", 0), ("ceil_mode", False),
            ("count_include_pad", True), ("divisor_override", None))
_SOFTMAX = (("dim", None), ("_stacklevel", 3), ("dtype", None))
_PARAMS_OF_POOL = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")

_act = lambda t, extra=(): Op(t, tuple(extra) + _INPLACE, tuple(n for n, _ in extra) + ("inplace",))  # noqa: E731
_plain = lambda t: Op(t, ())  # noqa: E731

FUNCTIONS: dict[Any, Op] = {
    F.relu: _act("ReLU"), torch.relu: _plain("ReLU"),
    F.relu6: _act("ReLU6"),
    F.leaky_relu: _act("LeakyReLU", (("negative_slope", 0.01),)),
    F.elu: _act("ELU", (("alpha", 1.0),)),
    F.gelu: Op("GELU", (("approximate", "none"),), ("approximate",)),
    F.silu: _act("SiLU"), F.hardswish: _act("Hardswish"), F.hardsigmoid: _act("Hardsigmoid"),
    torch.sigmoid: _plain("Sigmoid"), F.sigmoid: _plain("Sigmoid"),
    torch.tanh: _plain("Tanh"), F.tanh: _plain("Tanh"),
    F.softmax: Op("Softmax", _SOFTMAX, ("dim",)), torch.softmax: Op("Softmax", _SOFTMAX, ("dim",)),
    F.log_softmax: Op("LogSoftmax", _SOFTMAX, ("dim",)),
    torch.log_softmax: Op("LogSoftmax", _SOFTMAX, ("dim",)),
    F.max_pool1d: Op("MaxPool1d", _POOL, _PARAMS_OF_POOL),
    F.max_pool2d: Op("MaxPool2d", _POOL, _PARAMS_OF_POOL),
    F.avg_pool1d: Op("AvgPool1d", _AVGPOOL[:-1], ("kernel_size", "stride", "padding", "ceil_mode",
                                                   "count_include_pad")),
    F.avg_pool2d: Op("AvgPool2d", _AVGPOOL, ("kernel_size", "stride", "padding", "ceil_mode",
                                             "count_include_pad", "divisor_override")),
    F.adaptive_avg_pool1d: Op("AdaptiveAvgPool1d", (("output_size", _R),), ("output_size",)),
    F.adaptive_avg_pool2d: Op("AdaptiveAvgPool2d", (("output_size", _R),), ("output_size",)),
    F.adaptive_max_pool2d: Op("AdaptiveMaxPool2d", (("output_size", _R), ("return_indices", False)),
                              ("output_size",)),
    # F.dropout(x, p, training=self.training) traces, in eval mode, to training=False: dropout
    # that follows the module's mode, which is what the Dropout layer does.
    F.dropout: Op("Dropout", (("p", 0.5), ("training", True), ("inplace", False)), ("p", "inplace"),
                  require=(("training", False),)),
    torch.flatten: Op("Flatten", (("start_dim", 0), ("end_dim", -1)), ("start_dim", "end_dim")),
    torch.cat: Op("Concat", (("dim", 0),), ("dim",), tensors="list"),
    torch.concat: Op("Concat", (("dim", 0),), ("dim",), tensors="list"),
    torch.concatenate: Op("Concat", (("dim", 0),), ("dim",), tensors="list"),
    operator.add: Op("Add", (), tensors="two"), operator.iadd: Op("Add", (), tensors="two"),
    torch.add: Op("Add", (("alpha", 1),), tensors="two"),
    operator.mul: Op("Multiply", (), tensors="two"), operator.imul: Op("Multiply", (), tensors="two"),
    torch.mul: Op("Multiply", (), tensors="two"),
    torch.transpose: Op("Transpose", (("dim0", _R), ("dim1", _R)), ("dim0", "dim1")),
}

#: Tensor methods (call_method targets)
METHODS: dict[str, Op] = {
    "relu": _plain("ReLU"), "sigmoid": _plain("Sigmoid"), "tanh": _plain("Tanh"),
    "softmax": Op("Softmax", (("dim", _R), ("dtype", None)), ("dim",)),
    "log_softmax": Op("LogSoftmax", (("dim", _R), ("dtype", None)), ("dim",)),
    "flatten": Op("Flatten", (("start_dim", 0), ("end_dim", -1)), ("start_dim", "end_dim")),
    "add": Op("Add", (("alpha", 1),), tensors="two"),
    "mul": Op("Multiply", (), tensors="two"),
    "transpose": Op("Transpose", (("dim0", _R), ("dim1", _R)), ("dim0", "dim1")),
}

#: calls that return their input unchanged (for the graph's purpose)
ALIASES_METHODS = {"contiguous"}


@dataclass(frozen=True)
class Mapped:
    spec: LayerSpec
    params: dict[str, Any]
    inputs: list[fx.Node]


def call_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    t = node.target
    mod = getattr(t, "__module__", None) or ""
    mod = {"_operator": "operator", "torch.nn.functional": "F"}.get(mod, mod)
    return f"{mod + '.' if mod else ''}{getattr(t, '__name__', str(t))}"


def map_call(node: fx.Node) -> Mapped | fx.Node:
    """A call as a catalog layer (``Mapped``), or the fx node it passes through (an alias)."""
    if node.op == "call_method" and node.target in ALIASES_METHODS and not node.kwargs \
            and len(node.args) == 1:
        return node.args[0]
    if node.op == "call_method" and node.target == "permute":
        return _permute(node)
    if node.op == "call_method" and node.target in ("view", "reshape"):
        return _flatten_view(node)
    if node.op == "call_function" and node.target is torch.permute:
        return _permute(node)
    if node.op == "call_function" and node.target is operator.getitem:
        return _getitem(node)
    op = METHODS.get(node.target) if node.op == "call_method" else _lookup(node.target)
    if op is None:
        raise Unmapped(f"{call_name(node)} (function)")
    return _bind(node, op)


def _lookup(target) -> Op | None:
    try:
        return FUNCTIONS.get(target)
    except TypeError:  # unhashable target
        return None


def _signature(op: Op) -> inspect.Signature:
    P = inspect.Parameter
    first = {"one": ["input"], "list": ["tensors"], "two": ["input", "other"]}[op.tensors]
    ps = [P(n, P.POSITIONAL_OR_KEYWORD) for n in first]
    ps += [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in op.args]
    return inspect.Signature(ps)


def _bind(node: fx.Node, op: Op) -> Mapped:
    name = call_name(node)
    try:
        bound = _signature(op).bind(*node.args, **node.kwargs)
    except TypeError:
        raise Unmapped(f"{name} (unsupported arguments)") from None
    bound.apply_defaults()
    a = dict(bound.arguments)
    if op.tensors == "one":
        inputs = [a.pop("input")]
    elif op.tensors == "two":
        inputs = [a.pop("input"), a.pop("other")]
    else:
        tensors = a.pop("tensors")
        inputs = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if not all(isinstance(i, fx.Node) for i in inputs):
        raise Unmapped(f"{name} with a constant operand")
    if any(isinstance(v, fx.Node) for v in a.values()):
        raise Unmapped(f"{name} with a computed argument")
    for key, want in op.require:
        if a[key] != want:
            raise Unmapped(f"{name}({key}={a[key]!r})")
    sig, known = dict(op.args), get_spec(op.type).param_index
    for key, value in a.items():  # arguments the layer cannot express must keep their default
        if (key not in op.params or key not in known) and key not in dict(op.require) \
                and value != sig[key]:
            raise Unmapped(f"{name}({key}={value!r})")
    return _validated(node, op.type, {k: a[k] for k in op.params if k in known}, inputs)


def _validated(node: fx.Node, type_: str, params: dict, inputs: list[fx.Node]) -> Mapped:
    spec = get_spec(type_)
    if type_ == "Flatten" and params.get("start_dim") == 0:
        raise Unmapped(f"{call_name(node)} over the batch dimension (start_dim=0)")
    if type_ == "Concat" and params.get("dim") == 0:
        raise Unmapped(f"{call_name(node)} along the batch dimension (dim=0)")
    if type_ in ("Softmax", "LogSoftmax") and params.get("dim") is None:
        raise Unmapped(f"{call_name(node)} without dim")
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    if "stride" in params and params["stride"] is not None and "kernel_size" in params:
        p = spec.param_index
        try:
            if p["stride"].validate(params["stride"]) == p["kernel_size"].validate(params["kernel_size"]):
                params["stride"] = None
        except ParamError:
            pass
    try:
        return Mapped(spec, spec.validate_params(params), inputs)
    except ParamError as e:
        raise Unmapped(f"{call_name(node)} with {e.message}") from None


def _permute(node: fx.Node) -> Mapped:
    args = list(node.args[1:]) or list(node.kwargs.get("dims", ()))
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = list(args[0])
    if not args or not all(isinstance(d, int) for d in args) or not isinstance(node.args[0], fx.Node):
        raise Unmapped(f"{call_name(node)} (unsupported arguments)")
    return _validated(node, "Permute", {"dims": tuple(args)}, [node.args[0]])


def _flatten_view(node: fx.Node) -> Mapped:
    """``x.view(x.size(0), -1)`` (or reshape, or ``x.shape[0]``) is Flatten; other views are not."""
    args = list(node.args[1:])
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = list(args[0])
    src = node.args[0]
    if node.kwargs or len(args) != 2 or args[1] != -1 or not _is_batch_size(args[0], src):
        raise Unmapped(f"{call_name(node)} (only x.{node.target}(x.size(0), -1) is supported)")
    return _validated(node, "Flatten", {}, [src])


def _is_batch_size(n: Any, src: fx.Node) -> bool:
    if not isinstance(n, fx.Node):
        return False
    if n.op == "call_method" and n.target == "size" and n.args[0] is src:
        return (n.args[1:] or (n.kwargs.get("dim"),)) == (0,)
    if n.op == "call_function" and n.target is operator.getitem and n.args[1] == 0:
        s = n.args[0]
        return isinstance(s, fx.Node) and (
            (s.op == "call_function" and s.target is getattr and s.args == (src, "shape"))
            or (s.op == "call_method" and s.target == "size" and s.args == (src,)))
    return False


def _getitem(node: fx.Node) -> fx.Node:
    """``lstm(x)[0]``: a recurrent layer's sequence output is the layer's tensor in the graph."""
    src, index = node.args
    if isinstance(src, fx.Node) and index == 0 and src.meta.get("tuple_output"):
        return src
    raise Unmapped(f"{call_name(node)} (indexing)")
