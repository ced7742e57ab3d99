"""The torch class behind a catalog type, and its constructor's signature (imports torch).

Used to write only the arguments that differ from torch's defaults (code a person would
write) and, by the importer, to refuse modules configured beyond what the catalog describes.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

from torch import nn

REQUIRED = inspect.Parameter.empty
_SKIP = {"self", "device", "dtype"}


@functools.cache
def torch_class(path: str) -> type[nn.Module]:
    """``"torch.nn.Conv2d"`` → the class."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@functools.cache
def signature(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, default or REQUIRED) of the constructor's arguments, in order.

    nn.LSTM/GRU declare ``(*args, **kwargs)``; their real arguments are RNNBase's. A class
    without a constructor of its own (nn.Tanh) takes none.
    """
    for klass in cls.__mro__:
        if klass is nn.Module:  # no constructor of its own (Tanh, Sigmoid): no arguments
            return ()
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            continue
        skip = _SKIP | ({"mode"} if klass is nn.RNNBase else set())  # RNNBase's internal first argument
        return tuple((p.name, p.default) for p in params if p.name not in skip)
    raise TypeError(f"no concrete constructor signature for {cls.__name__}")
