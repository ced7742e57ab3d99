"""What the engine service answers: request kind → handler, imported when first asked for.

A handler takes the request's payload (a dict) and returns a dict of JSON values and numpy
arrays; it raises a LayerStudioError for bad input (the app shows its message). To add a kind
(classify, attributions, import, export…), add one line here.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

#: kind -> "module:function"
HANDLERS: dict[str, str] = {
    "ping": "engine.service.requests:ping",
    "devices": "engine.service.handlers.devices:handle",
    "verify": "engine.service.handlers.verify:handle",
    # on a run's trained model (cached per run and checkpoint: engine.service.run_models)
    "classify": "engine.service.handlers.classify:handle",
    "attribute": "engine.service.handlers.attribute:handle",
    "fgsm": "engine.service.handlers.fgsm:handle",
    "activation_max": "engine.service.handlers.activation_max:handle",
    "export": "engine.service.handlers.export:handle",
    "import_model": "engine.service.handlers.import_model:handle",
    "overfit_batch": "engine.service.handlers.sanity:overfit_batch",
    "gradcheck": "engine.service.handlers.sanity:gradcheck",
}


def ping(payload: dict[str, Any]) -> dict[str, Any]:
    import os
    return {"pid": os.getpid()}


def resolve(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    target = HANDLERS.get(kind)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
