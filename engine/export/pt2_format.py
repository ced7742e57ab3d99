"""torch.export program (``.pt2``) with a dynamic batch dimension, verified by loading it back."""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import fx

from engine.errors import ExportError
from engine.export.verify import check_close

ATOL = 1e-5


def write(gm: fx.GraphModule, example: tuple[torch.Tensor, ...], path: Path) -> None:
    batch = torch.export.Dim("batch")
    try:
        with warnings.catch_warnings():  # LSTM's flat weights warn; the program is still exact
            warnings.simplefilter("ignore")
            program = torch.export.export(gm, example, dynamic_shapes=tuple({0: batch} for _ in example))
            torch.export.save(program, str(path))
    except Exception as e:
        text = str(e).strip()
        raise ExportError(f"torch.export failed: {type(e).__name__}: {text.splitlines()[0] if text else ''}") from None


def verify(path: Path, gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> float:
    loaded = torch.export.load(str(path)).module()
    with torch.no_grad():
        out, expected = loaded(*inputs), gm(*inputs)
    return check_close("torch.export", expected, out, ATOL)
