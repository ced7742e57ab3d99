"""``verify``: build the project's model for real and run an example batch through it.

Payload: {"project": <project dict>, "batch_size": 2}. Result: {"params", "trainable_params",
"output_shape" (without the batch), "layer_names" (node id → submodule)}. Proves that what
the editor's pure-Python rules predict is what torch builds.
"""
from __future__ import annotations

from typing import Any


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    import torch

    from engine.build import build_module, example_inputs
    from engine.project.io import from_dict

    project = from_dict(payload["project"])
    model = build_module(project.graph)
    model.eval()
    with torch.inference_mode():
        out = model(*example_inputs(model, batch_size=int(payload.get("batch_size", 2))))
    return {"params": sum(p.numel() for p in model.parameters()),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "output_shape": list(out.shape[1:]), "layer_names": dict(getattr(model, "layer_names", {}))}
