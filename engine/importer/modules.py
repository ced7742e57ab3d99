"""Map a torch module (a leaf of the traced graph) to a catalog type and its params.

A module maps when its class is the catalog type's torch class and every constructor
argument the catalog does not describe still has torch's default (or the value the catalog
fixes, like an LSTM's ``batch_first=True``). Anything else is reported, never approximated.
"""
from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from engine.catalog import CATALOG, LayerSpec
from engine.errors import ParamError
from engine.catalog.constructor import FIXED, INFERRED
from engine.export.torch_classes import REQUIRED, signature, torch_class


class Unmapped(Exception):
    """An op with no catalog equivalent; ``str()`` is the name it is reported under."""


@functools.cache
def _by_class() -> dict[type, LayerSpec]:
    return {torch_class(s.torch_class): s for s in CATALOG.values() if s.torch_class}


def module_name(module: nn.Module) -> str:
    cls = type(module)
    short = cls.__module__.startswith("torch.nn.")
    return f"nn.{cls.__name__}" if short else f"{cls.__module__}.{cls.__qualname__}"


def map_module(module: nn.Module) -> tuple[LayerSpec, dict[str, Any]]:
    """(spec, validated params) for ``module``, or raise ``Unmapped``."""
    spec = _by_class().get(type(module))
    if spec is None:
        raise Unmapped(f"{module_name(module)} (module)")
    raw = {p.name: _read(module, spec, p.name) for p in spec.params}
    if "stride" in spec.param_index and spec.param_index["stride"].nullable and "kernel_size" in raw:
        # torch stores stride=None as the kernel size; None is the catalog's way to say so
        ks = spec.param_index["kernel_size"].validate(raw["kernel_size"])
        try:
            if spec.param_index["stride"].validate(raw["stride"]) == ks:
                raw["stride"] = None
        except ParamError:
            pass
    try:
        params = spec.validate_params(raw)
    except ParamError as e:
        raise Unmapped(f"{module_name(module)} with {e.message}") from None
    _check_rest(module, spec)
    return spec, params


def _read(module: nn.Module, spec: LayerSpec, name: str) -> Any:
    if not hasattr(module, name):
        raise Unmapped(f"{module_name(module)} (no attribute {name})")
    value = getattr(module, name)
    if name in module._parameters or name in module._buffers:
        return value is not None  # bias=True is stored as a Parameter, bias=False as None
    if isinstance(value, list):
        return tuple(value)
    return value


def _check_rest(module: nn.Module, spec: LayerSpec) -> None:
    """Constructor arguments outside the catalog must be at the value the graph builds with."""
    fixed = FIXED.get(spec.type, {})
    for name, default in signature(type(module)):
        if name in spec.param_index or name in spec.inferred or name in INFERRED or default is REQUIRED:
            continue
        if not hasattr(module, name):
            continue
        value, want = getattr(module, name), fixed.get(name, default)
        if isinstance(value, torch.Tensor):
            value = True
        if value != want and not (isinstance(value, tuple) and len(set(value)) == 1 and value[0] == want):
            raise Unmapped(f"{module_name(module)}({name}={value!r})")
