"""``classify``: a run's trained model on one image, or on every image of a folder.

Payload: {"run_dir", "checkpoint": "best" | "last" | a checkpoint file of the run, and one of
"image_path" | "image" (a path or {"split", "index"}) | "split" + "index" | "folder"}, with
optional "k" (5) and "saliency" (true). The image goes through the training preprocessing with
the run's own graph snapshot and dataset statistics (engine.service.run_models).

Result for one image: {"top": [{"index", "class", "probability"}] best first, "probabilities"
float32 [classes], "image" uint8 [H, W, C] (what the network saw), "saliency" float32 [H, W]
in [0, 1] or None, "label" (dataset samples) or None, "classes", "checkpoint"}.
For a folder (progress and cancel): {"rows": [{"path", "label", "predicted", "confidence",
"top": [[index, probability]…]}], "skipped": [[path, why]…], "accuracy" and "confusion" int64
[classes, classes] (when it has class sub-folders, else None), "classes", "checkpoint"}."""
from __future__ import annotations

from typing import Any

from engine.service.request_context import NULL, RequestContext


def handle(payload: dict[str, Any], ctx: RequestContext = NULL) -> dict[str, Any]:
    from engine.explain.classify import classify_folder, classify_image
    from engine.service.run_models import run_model

    rm = run_model(payload.get("run_dir"), payload.get("checkpoint", "best"))
    k = _positive(payload.get("k", 5), "k")
    base = {"classes": list(rm.classes), "checkpoint": str(rm.checkpoint)}
    if payload.get("folder"):
        result = classify_folder(rm.model, payload["folder"], rm.preprocess, rm.classes, k=k,
                                 progress=ctx.fraction, cancel=ctx.cancelled)
        rows = [{"path": r.path, "label": r.label, "predicted": r.predicted, "confidence": r.confidence,
                 "top": [[i, p] for i, p in r.top]} for r in result.rows]
        return {**base, "rows": rows, "skipped": [list(s) for s in result.skipped], "accuracy": result.accuracy,
                "confusion": result.confusion}
    import torch
    x, label = rm.image(payload)
    c = classify_image(rm.model, torch.from_numpy(x), rm.preprocess, rm.classes, k=k,
                       with_saliency=bool(payload.get("saliency", True)))
    return {**base, "top": [{"index": i, "class": name, "probability": p} for i, name, p in c.top],
            "probabilities": c.probabilities, "image": rm.display(c.image), "label": label,
            "saliency": c.saliency.display[0] if c.saliency is not None else None}


def _positive(value: Any, key: str) -> int:
    from engine.errors import ExplainError
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExplainError(f"{key} must be a whole number of at least 1, got {value!r}", key=key)
    return value
