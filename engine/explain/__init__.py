"""Interpretability: attributions (Captum), live probes, classify, FGSM, activation maximization.

Torch code that runs in child processes (engine service, training workers) — except
``probe_store``, ``probe_result`` and ``preprocess``, which are numpy-only so the app can read
probes/ and preprocess images without torch. Names are imported lazily for that reason:
``from engine.explain.probe_store import ProbeTimeline`` must not import torch.

Models are plain ``nn.Module`` classifiers (``torch.compile`` / DDP / DataParallel wrappers are
unwrapped); a layer is a node id (via ``gm.layer_names``), a dotted submodule path or a module.
Images are normalized float tensors [C, H, W] or [N, C, H, W]. Every call leaves the model as
it was (train/eval flags, requires_grad, gradients, hooks, global RNG), also on error/cancel.

    attribute(model, x, "saliency" | "smoothgrad" | "integrated_gradients" | "grad_cam" |
              "occlusion", target=None, **options)         → Attribution(raw, display, scale, targets)
    estimate_cost(model, image, method, **options)          → Cost(passes, rows, seconds)
    run_probes(model, images, labels, layer=None)           → ProbeResult (training worker)
    ProbeStore(run_dir).append(result, step, epoch)          → probes/saliency-<step>.npz (rank 0)
    ProbeTimeline(run_dir).steps / .frame(i) / .images()     → the time-lapse (app, no torch)
    load_weights(model, checkpoint_path_or_state_dict)       → ExplainError naming the node on mismatch
    classify_image(model, path | pixels | tensor, Preprocess(shape, mean, std), class_names)
    classify_folder(model, folder, preprocess, class_names)  → FolderResult(rows, accuracy, confusion)
    fgsm(model, images, labels, epsilon, mean=, std=)        → Adversarial
    maximize_activation(model, shape, layer=, channel= | class_index=)  → Synthesis

Long calls take ``progress(fraction)`` and ``cancel() -> bool`` callables and raise
``engine.errors.Cancelled``; user mistakes raise ``engine.errors.ExplainError``.
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
