"""Interpretability: attributions (Captum), live probes, classify, FGSM, activation maximization.

Torch code that runs in child processes (engine service, training workers) — except
``engine.explain.probe_store``, ``probe_result`` and ``preprocess``, which are numpy-only so the
app can read probes/ and preprocess images without torch. Names are imported lazily for that
reason: ``from engine.explain.probe_store import ProbeTimeline`` must not import torch.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "saliency": "attribution", "smoothgrad": "attribution", "integrated_gradients": "attribution",
    "grad_cam": "attribution", "occlusion": "attribution", "attribute": "attribution",
    "METHODS": "attribution",
    "Attribution": "maps",
    "Cost": "cost", "estimate_cost": "cost",
    "run_probes": "probes", "ProbeResult": "probe_result",
    "ProbeStore": "probe_store", "ProbeTimeline": "probe_store", "ProbeFrame": "probe_store",
    "ProbeImages": "probe_store",
    "Preprocess": "preprocess", "decode_image": "preprocess",
    "classify_image": "classify", "classify_folder": "classify", "Classification": "classify",
    "FolderResult": "classify",
    "load_weights": "checkpoint", "read_state_dict": "checkpoint",
    "fgsm": "adversarial", "Adversarial": "adversarial",
    "maximize_activation": "activation_max", "Synthesis": "activation_max",
    "unwrap": "model_state", "explaining": "model_state",
    "resolve_layer": "layers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.explain' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.explain.{module}"), name)
