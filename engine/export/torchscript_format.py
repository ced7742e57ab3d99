"""TorchScript export (``torch.jit.script`` of the built module), verified by loading it back.

TorchScript is deprecated in recent torch (still loadable by C++ and older tools); the
``pt2`` format (torch.export) is its successor. Deprecation warnings are silenced here: the
user asked for this format.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import fx

from engine.errors import ExportError
from engine.export.verify import check_close

ATOL = 1e-5


def write(gm: fx.GraphModule, example: tuple[torch.Tensor, ...], path: Path) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scripted = torch.jit.script(gm)
            torch.jit.save(scripted, str(path))
    except Exception as e:
        raise ExportError(f"TorchScript export failed ({type(e).__name__}: {_first_line(e)}); "
                          f"try --to pt2") from None


def verify(path: Path, gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = torch.jit.load(str(path), map_location="cpu").eval()
        with torch.no_grad():
            out, expected = loaded(*inputs), gm(*inputs)
    return check_close("TorchScript", expected, out, ATOL)


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""
