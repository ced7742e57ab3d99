"""``attribute``: an on-demand attribution (Integrated Gradients, SmoothGrad, Occlusion,
saliency, Grad-CAM) of one image with a run's trained model, its cost first.

Payload: {"run_dir", "checkpoint", the image ("image_path" | "image" | "split" + "index", as for
classify), "method", "options" (the method's own, e.g. {"steps": 32}), "target" (a class
index; default the predicted class), "mode": "estimate" | "run" (default)}.

"estimate" answers at once with {"method", "passes", "rows", "seconds"}; "run" reports
progress, can be cancelled, and answers {"method", "map" float32 [H, W] in [0, 1], "raw"
float32 [H, W], "scale", "target", "target_class", "image" uint8 [H, W, C], "label"}."""
from __future__ import annotations

from typing import Any

from engine.errors import ExplainError
from engine.service.request_context import NULL, RequestContext

LONG = {"smoothgrad", "integrated_gradients", "occlusion"}  # the methods that take progress/cancel
MAX_IG_STEPS = 1024


def handle(payload: dict[str, Any], ctx: RequestContext = NULL) -> dict[str, Any]:
    import torch

    from engine.explain.attribution import attribute
    from engine.explain.cost import estimate_cost
    from engine.service.run_models import run_model

    method = payload.get("method")
    options = payload.get("options") or {}
    if not isinstance(options, dict):
        raise ExplainError(f"options must be an object, got {type(options).__name__}", key="options")
    steps = options.get("steps")
    if method == "integrated_gradients" and isinstance(steps, int) and steps > MAX_IG_STEPS:
        # Captum's Gauss-Legendre weights cost steps² memory: beyond this it is a mistake, not patience
        raise ExplainError(f"steps: at most {MAX_IG_STEPS} for Integrated Gradients, got {steps}", key="steps")
    mode = payload.get("mode", "run")
    if mode not in ("estimate", "run"):
        raise ExplainError(f"mode must be 'estimate' or 'run', got {mode!r}", key="mode")
    rm = run_model(payload.get("run_dir"), payload.get("checkpoint", "best"))
    x, label = rm.image(payload)
    image = torch.from_numpy(x)
    if mode == "estimate":
        cost = estimate_cost(rm.model, image, method, **options)
        return {"method": cost.method, "passes": cost.passes, "rows": cost.rows, "seconds": cost.seconds}
    extra = {"progress": ctx.fraction, "cancel": ctx.cancelled} if method in LONG else {}
    if set(extra) & set(options):
        raise ExplainError("progress and cancel are not options", key="options")
    a = attribute(rm.model, image, method, payload.get("target"), **options, **extra)
    target = int(a.targets[0])
    return {"method": a.method, "map": a.display[0], "raw": a.raw[0], "scale": float(a.scale[0]),
            "target": target, "target_class": rm.classes[target] if target < len(rm.classes) else str(target),
            "image": rm.display(x), "label": label}
