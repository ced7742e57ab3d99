"""Write the Python export (``python_code``) and its state dict, and check the pair by loading
the written class with those weights: it must reproduce the engine's outputs (1e-6)."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
import sys
from pathlib import Path

import torch
from torch import fx, nn

from engine.errors import ExportError
from engine.export.verify import check_close

ATOL = 1e-6
_counter = itertools.count()


def load_class(path: Path, class_name: str) -> type[nn.Module]:
    """Import a written export (any file name) and return its class."""
    name = f"_layerstudio_export_{next(_counter)}"
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return getattr(module, class_name)


def verify(source_path: Path, class_name: str, gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...],
           weights_path: Path | None = None) -> float:
    try:
        net = load_class(source_path, class_name)()
        state = (torch.load(weights_path, map_location="cpu", weights_only=True) if weights_path
                 else gm.state_dict())
        net.load_state_dict(state, strict=True)
    except Exception as e:  # a bug of the exporter, never of the user's input
        raise ExportError(f"the exported Python code does not load: {type(e).__name__}: {e}") from e
    net.eval()
    with torch.no_grad():
        out, expected = net(*inputs), gm(*inputs)
    return check_close("Python export", expected, out, ATOL)
