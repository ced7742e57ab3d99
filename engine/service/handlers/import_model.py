"""``import_model``: a torchvision model or a class in a .py file as a LayerStudio project
(traced with torch.fx, mapped to the catalog, shapes checked, laid out: engine.importer).

Payload: {"source": "torchvision:NAME" | "FILE.py:ClassName" (importing it runs the file),
"input_shape": [C, H, W] (optional; default 3, 224, 224)}.
Result: {"project": the project dict, "name", "nodes", "params"}."""
from __future__ import annotations

from typing import Any

from engine.errors import ImportModelError


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    from engine.graph.inference import Inference
    from engine.importer.load import import_source

    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ImportModelError("say what to import: torchvision:NAME or FILE.py:ClassName", key="source")
    shape = payload.get("input_shape")
    if shape is not None:
        if not isinstance(shape, (list, tuple)) or not shape or len(shape) > 8 or \
                not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
            raise ImportModelError(f"input_shape must be positive sizes such as [3, 224, 224], got {shape!r}",
                                   key="input_shape")
        shape = tuple(shape)
    project, _ = import_source(source.strip(), input_shape=shape)
    inference = Inference(project.graph)
    try:
        params = inference.totals().params
    finally:
        inference.close()
    return {"project": project.to_dict(), "name": project.name, "nodes": len(project.graph.nodes),
            "params": int(params)}
