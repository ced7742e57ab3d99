"""ONNX export with a dynamic batch dimension, verified with onnxruntime (within 1e-4).

torch ≥ 2.9's exporter goes through torch.export and onnxscript (``dynamo=True``, available
since 2.5); the batch dimension is declared dynamic so any batch size runs.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import fx

from engine.errors import ExportError
from engine.export.verify import check_close

ATOL = 1e-4


def input_names(gm: fx.GraphModule) -> list[str]:
    return ["input"] if len(gm.inputs) == 1 else [name for name, _, _ in gm.inputs]


def write(gm: fx.GraphModule, example: tuple[torch.Tensor, ...], path: Path) -> None:
    batch = torch.export.Dim("batch")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(gm, example, str(path), input_names=input_names(gm), output_names=["output"],
                              dynamic_shapes=tuple({0: batch} for _ in example), dynamo=True,
                              external_data=False, verbose=False)
    except Exception as e:
        raise ExportError(f"ONNX export failed: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}") from None


def verify(path: Path, gm: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> float:
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)}
    (out,) = session.run(["output"], feed)
    with torch.no_grad():
        expected = gm(*inputs)
    return check_close("ONNX (onnxruntime)", expected, out, ATOL)
