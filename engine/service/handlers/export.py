"""``export``: the project's network as PyTorch code, ONNX, TorchScript or torch.export, with a
run's trained weights or fresh ones, verified against the engine's own module before anything
is written (engine.export.exporter).

Payload: {"project" (a project dict), "to": "py" | "onnx" | "torchscript" | "pt2", "output" (the
file to write), optional "weights_run_dir" and "checkpoint" ("best" | "last")}.
Result: {"files": [paths written], "max_difference", "trained"}."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ExportError

FORMATS = ("py", "onnx", "torchscript", "pt2")


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    from engine.export.exporter import export
    from engine.project.io import from_dict

    to, output = payload.get("to"), payload.get("output")
    if to not in FORMATS:
        raise ExportError(f"export to one of {', '.join(FORMATS)}; got {to!r}", key="to")
    if not output or not isinstance(output, str):
        raise ExportError("say where to write the export (output)", key="output")
    if not Path(output).parent.is_dir():
        raise ExportError(f"{Path(output).parent} is not a folder", key="output")
    checkpoint = payload.get("checkpoint", "best")
    if checkpoint not in ("best", "last"):
        raise ExportError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}", key="checkpoint")
    project = from_dict(payload.get("project"))
    result = export(project, to, output, run_dir=payload.get("weights_run_dir") or None, checkpoint=checkpoint)
    return {"files": [str(p) for p in result.files], "max_difference": float(result.max_difference),
            "trained": bool(result.trained)}
