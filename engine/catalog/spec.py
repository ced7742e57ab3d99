"""The data types of the layer catalog: typed parameters and layer specifications.

A ``LayerSpec`` is static data plus one pure-Python rule, ``infer``, that maps the parameters
and the input tensors' metadata to the output's metadata, parameter count and FLOPs. Nothing
here imports torch: the app and ``layerstudio check`` use it while editing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from engine.errors import ParamError, ShapeError

Shape = tuple[int, ...]

# Parameter kinds. "ints" is an int or a tuple of ``length`` ints (kernel_size=3 or (3, 5)).
KINDS = ("int", "float", "bool", "choice", "ints", "shape", "floats", "str")


@dataclass(frozen=True)
class Param:
    """One typed parameter (a layer's keyword argument, or a setting of the project schema)."""

    name: str
    kind: str
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    length: int | None = None  # for "ints"/"floats": tuple length
    nullable: bool = False  # None is a valid value
    min_exclusive: bool = False  # min is a strict bound (e.g. lr > 0)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    def validate(self, value: Any, *, node: str | None = None) -> Any:
        """Return the value normalized (tuples for "ints", float for "float"), or raise ParamError."""
        where = f"{node}." if node else ""

        def fail(why: str) -> ParamError:
            return ParamError(f"{where}{self.name}: {why}", node=node, key=self.name)

        if value is None:
            if self.nullable:
                return None
            raise fail("a value is required")
        k = self.kind
        if k == "bool":
            if not isinstance(value, bool):
                raise fail(f"expected true or false, got {_show(value)}")
            return value
        if k == "choice":
            # `True in (1,)` is true in Python: compare types as well as values.
            if not any(type(value) is type(c) and value == c for c in self.choices):
                raise fail(f"expected one of {', '.join(map(str, self.choices))}; got {_show(value)}")
            return value
        if k == "str":
            if not isinstance(value, str):
                raise fail(f"expected text, got {_show(value)}")
            return value
        if k == "int":
            return self._check_range(_as_int(value, fail), fail)
        if k == "float":
            return self._check_range(_as_float(value, fail), fail)
        if k in ("ints", "floats"):
            conv = _as_int if k == "ints" else _as_float
            if isinstance(value, (list, tuple)):
                if self.length is not None and len(value) != self.length:
                    raise fail(f"expected one number or {self.length} numbers, got {len(value)}")
                if not value:
                    raise fail("expected at least one number")
                return tuple(self._check_range(conv(v, fail), fail) for v in value)
            v = self._check_range(conv(value, fail), fail)
            return v if self.length is None else (v,) * self.length
        if k == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                raise fail(f"expected a list of positive sizes, got {_show(value)}")
            if len(value) > 8:
                raise fail(f"at most 8 dimensions, got {len(value)}")
            out = tuple(_as_int(v, fail) for v in value)
            if any(v < 1 for v in out):
                raise fail(f"every size must be at least 1, got {list(out)}")
            if math.prod(out) > 10**15:
                raise fail("the shape is larger than 10^15 elements")
            return out
        raise AssertionError(k)

    def _check_range(self, v, fail):
        if self.min is not None and (v < self.min or (self.min_exclusive and v == self.min)):
            raise fail(f"must be {'>' if self.min_exclusive else '≥'} {_num(self.min)}, got {_num(v)}")
        if self.max is not None and v > self.max:
            raise fail(f"must be ≤ {_num(self.max)}, got {_num(v)}")
        return v

    def to_json(self, value: Any) -> Any:
        """Normalized value → the JSON form (tuples become lists; a uniform tuple stays a list)."""
        return list(value) if isinstance(value, tuple) else value


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _num(v: float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else str(v)


def _as_int(v: Any, fail) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise fail(f"expected a whole number, got {_show(v)}")
    if isinstance(v, float):
        if not math.isfinite(v) or not v.is_integer():
            raise fail(f"expected a whole number, got {_show(v)}")
        v = int(v)
    if abs(v) > 2**53:
        raise fail(f"{v} is too large")
    return v


def _as_float(v: Any, fail) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise fail(f"expected a number, got {_show(v)}")
    f = float(v)
    if not math.isfinite(f):
        raise fail(f"expected a finite number, got {_show(v)}")
    return f


class TensorMeta(NamedTuple):
    """What inference knows of a tensor: its shape without the batch dimension, and dtype."""

    shape: Shape
    dtype: str = "float32"


@dataclass(frozen=True)
class LayerCost:
    """Result of a layer's rule for one sample (batch excluded).

    ``flops`` counts convolutions and matmuls as FlopCounterMode does (a multiply-add = 2);
    ``elementwise`` is the separate count of element-wise work (activations, norms, adds, pooling).
    """

    out: TensorMeta
    params: int = 0
    flops: int = 0
    elementwise: int = 0
    hint: str | None = None  # advice that is not an error (e.g. Linear after a feature map)


InferFn = Callable[[Mapping[str, Any], Sequence[TensorMeta]], LayerCost]


@dataclass(frozen=True)
class LayerSpec:
    """One catalog entry. ``type`` is a torch.nn class name or a graph op (Input, Add, ...)."""

    type: str
    category: str
    doc: str
    params: tuple[Param, ...]
    infer: InferFn
    inferred: tuple[str, ...] = ()  # constructor args taken from the input (in_channels...)
    inputs: int | None = 1  # number of inputs; None: variadic (2 or more, ports 0..n-1)
    key_params: tuple[str, ...] = ()  # shown on the node in the editor
    torch_class: str | None = None  # "torch.nn.Conv2d"; None for graph ops
    param_index: Mapping[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {p.name: p for p in self.params})

    @property
    def variadic(self) -> bool:
        return self.inputs is None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.validate(p.default) if p.default is not None else None for p in self.params}

    def validate_params(self, params: Mapping[str, Any], *, node: str | None = None) -> dict[str, Any]:
        """Closed validation: unknown keys are errors. Returns the full, normalized set."""
        if not isinstance(params, Mapping):
            raise ParamError(f"{node or self.type}: params must be an object", node=node, key="params")
        out = {}
        for k in params:
            if k not in self.param_index:
                known = ", ".join(self.param_index) or "none"
                raise ParamError(f"{node + '.' if node else ''}{k}: {self.type} has no parameter "
                                 f"'{k}' (known: {known})", node=node, key=str(k))
        for p in self.params:
            v = params.get(p.name, p.default)
            out[p.name] = p.validate(v, node=node) if (v is not None or not p.nullable) else None
        return out

    def run(self, params: Mapping[str, Any], inputs: Sequence[TensorMeta]) -> LayerCost:
        return self.infer(params, inputs)


def shape_error(message: str) -> ShapeError:
    return ShapeError(message)
