"""The loss factory, keyed on ``training.loss``, and the warning for a final Softmax."""
from __future__ import annotations

from typing import Any, Mapping

import torch

LOSSES = {"cross_entropy": torch.nn.CrossEntropyLoss}

#: output layers that turn logits into probabilities: cross_entropy already applies log-softmax
PROBABILITY_LAYERS = ("Softmax", "LogSoftmax", "Softmin", "Sigmoid")


def make_loss(cfg: Mapping[str, Any]) -> torch.nn.Module:
    return LOSSES[cfg["loss"]](label_smoothing=cfg.get("label_smoothing", 0.0))


def final_softmax_warning(output_type: str | None, output_id: str | None, loss: str) -> str | None:
    if loss == "cross_entropy" and output_type in PROBABILITY_LAYERS:
        return (f"{output_id}: the model ends with {output_type}, but cross_entropy expects raw scores (logits) "
                f"and applies log-softmax itself; remove {output_id} for faster, more stable training")
    return None
