"""``activation_max``: the input that most excites a channel of a layer, or a class, of a
run's trained model (gradient ascent with jitter and regularization).

Payload: {"run_dir", "checkpoint", "layer" (a node id; default the last 2-D convolution) with
"channel", or "class_index"; optional "steps" (128), "lr", "jitter", "l2", "tv", "seed"}.
Reports progress, can be cancelled. Result: {"target" (its description), "image" uint8
[H, W, C], "activation" (of the result), "random_activation", "random_std", "random_max" (of
32 images of uniform noise, for comparison), "history" float32 [steps]}."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ExplainError
from engine.service.request_context import NULL, RequestContext

OPTIONS = ("steps", "lr", "jitter", "l2", "tv", "seed")
RANDOM_IMAGES = 32


def handle(payload: dict[str, Any], ctx: RequestContext = NULL) -> dict[str, Any]:
    import torch

    from engine.explain.activation_max import maximize_activation, objective_fn
    from engine.explain.model_state import explaining
    from engine.service.run_models import run_model

    rm = run_model(payload.get("run_dir"), payload.get("checkpoint", "best"))
    target = {k: payload[k] for k in ("layer", "channel", "class_index") if payload.get(k) is not None}
    for key in ("channel", "class_index"):
        if key in target and (isinstance(target[key], bool) or not isinstance(target[key], int)):
            raise ExplainError(f"{key} must be a whole number, got {target[key]!r}", key=key)
    options = {k: payload[k] for k in OPTIONS if k in payload}
    for key, value in options.items():
        whole = key in ("steps", "jitter", "seed")
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value < 0:
            raise ExplainError(f"{key} must be a {'whole ' if whole else ''}number ≥ 0, got {value!r}", key=key)
    shape = rm.input_shape
    if len(shape) != 3:
        raise ExplainError(f"activation maximization synthesizes images [C, H, W]; this network takes "
                           f"{list(shape)}", key="input")
    s = maximize_activation(rm.model, shape, **target, **options, mean=rm.mean, std=rm.std,
                            progress=ctx.fraction, cancel=ctx.cancelled)
    # the same objective on random images (uniform pixels): what "far above" is measured against
    gen = torch.Generator().manual_seed(int(options.get("seed", 0)))
    pixels = torch.rand(RANDOM_IMAGES, *shape, generator=gen)
    m, sd = (torch.as_tensor(np.ravel(v), dtype=torch.float32).expand(shape[0])[:, None, None]
             for v in (rm.mean, rm.std))
    with explaining(rm.model) as module, torch.no_grad():
        _, f = objective_fn(module, **target)
        noise = f((pixels - m) / sd).double()
    return {"target": s.target, "image": rm.display(s.image), "activation": s.activation,
            "random_activation": float(noise.mean()), "random_std": float(noise.std()),
            "random_max": float(noise.max()), "history": s.history}
