"""``fgsm``: an adversarial example of one image by the fast gradient sign method, with a
run's trained model.

Payload: {"run_dir", "checkpoint", the image ("image" | "image_path" | "split" + "index"),
"eps" (a fraction of the pixel range, 0..1), "label" (the class to attack; default: the
dataset label of a dataset sample, else the predicted class)}.
Result: {"epsilon", "original" and "adversarial" uint8 [H, W, C], "perturbation" float32
[H, W, C] (adversarial − original in pixel units, within ±eps), "label", "original_class",
"original_confidence", "adversarial_class", "adversarial_confidence", "original_loss",
"adversarial_loss", "classes"}."""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import ExplainError


def handle(payload: dict[str, Any]) -> dict[str, Any]:
    import torch

    from engine.explain.adversarial import fgsm
    from engine.service.run_models import run_model

    eps = payload.get("eps", payload.get("epsilon"))
    if eps is None:
        raise ExplainError("say how strong the attack is: eps, a fraction of the pixel range (0..1)", key="eps")
    rm = run_model(payload.get("run_dir"), payload.get("checkpoint", "best"))
    x, label = rm.image(payload)
    image = torch.from_numpy(x)
    target = payload.get("label", label)
    if target is None:
        with torch.no_grad():
            target = int(rm.model(image[None]).argmax(1)[0])
    a = fgsm(rm.model, image, [target], eps, mean=rm.mean, std=rm.std)
    std = np.asarray(rm.preprocess.std, np.float32)[:, None, None]
    pixels = (a.perturbation[0] * std).transpose(1, 2, 0)  # normalized units → pixel units
    return {"epsilon": a.epsilon, "original": rm.display(a.original[0]), "adversarial": rm.display(a.adversarial[0]),
            "perturbation": np.ascontiguousarray(pixels, np.float32), "label": int(a.labels[0]),
            "original_class": int(a.original_class[0]), "original_confidence": float(a.original_confidence[0]),
            "adversarial_class": int(a.adversarial_class[0]),
            "adversarial_confidence": float(a.adversarial_confidence[0]),
            "original_loss": float(a.original_loss[0]), "adversarial_loss": float(a.adversarial_loss[0]),
            "classes": list(rm.classes)}
