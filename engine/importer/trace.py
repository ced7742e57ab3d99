"""Symbolic tracing with torch.fx, remembering the source line each op came from.

The line lets the importer name an op after the variable it was assigned to
(``cat = torch.cat([b1, b2], dim=1)`` → node ``cat``), which is how an exported project
comes back with its own ids; fx alone would only say ``cat``, ``add_1``...
"""
from __future__ import annotations

import os
import sys
import traceback

import torch
from torch import fx, nn

from engine.errors import ImportModelError

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_HERE = os.path.abspath(__file__)


def _origin() -> tuple[str, int] | None:
    """(file, line) of the innermost frame outside torch and this module: the model's code."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_TORCH_DIR) and os.path.abspath(name) != _HERE:
            return name, f.f_lineno
        f = f.f_back
    return None


class _Tracer(fx.Tracer):
    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        node.meta["origin"] = _origin()
        return node


def trace(model: nn.Module, what: str) -> fx.GraphModule:
    """Trace ``model`` (in eval mode); ``what`` names it in error messages."""
    model.eval()
    tracer = _Tracer()
    try:
        graph = tracer.trace(model)
    except Exception as e:  # whatever the model's own code raises while traced
        raise ImportModelError(f"{what} cannot be traced with torch.fx{_where(e)}: {_reason(e)}") from None
    return fx.GraphModule(tracer.root, graph, model.__class__.__name__)


def _reason(e: Exception) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if "control flow" in msg or "iterated" in msg or "len(" in msg or "bool" in msg.lower():
        return (f"{msg}. The forward pass must be the same for every input: no `if`, `for` or "
                f"`len()` on tensor values")
    return f"{type(e).__name__}: {msg}"


def _where(e: Exception) -> str:
    """' (net.py, line 12)': the model's innermost line in the traceback, if any."""
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        if not frame.filename.startswith(_TORCH_DIR) and os.path.abspath(frame.filename) != _HERE:
            return f" ({os.path.basename(frame.filename)}, line {frame.lineno})"
    return ""
