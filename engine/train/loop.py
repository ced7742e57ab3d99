"""The loop, in the style of torchvision's references/classification/train.py.

``train_one_epoch`` runs the steps of one epoch (from ``start_batch`` on a resume) and
``evaluate`` one pass over the validation data. Neither syncs with the host per step: the
per-step values go to ``StepMetrics`` and the caller's ``on_flush`` is called when a flush is
due or a pause/stop was asked for; it returns False to end the epoch early (a stop).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from engine.train.control import Control
from engine.train.metrics import StepMetrics
from engine.train.step import TrainStep


@dataclass
class Position:
    """Where training is. Saved in every checkpoint; what exact resume restarts from."""

    epoch: int = 0  # 0-based index of the epoch in progress (or about to start)
    batch: int = 0  # batches of that epoch already done
    step: int = 0  # optimizer steps done since the run began

    def as_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step}


def train_one_epoch(step_fn: TrainStep, source, position: Position, metrics: StepMetrics, control: Control,
                    on_flush: Callable[[], bool], *, scheduler=None,
                    batch_hooks: Sequence[Callable[[Position], None]] = ()) -> bool:
    """Train from ``position.batch`` to the end of epoch ``position.epoch``.

    Returns True when the epoch is complete, False when ``on_flush`` asked to stop.
    ``scheduler`` is given only when the learning rate advances every optimizer step.
    """
    step_fn.model.train()
    for x, y in source.epoch(position.epoch, start_batch=position.batch):
        lr = step_fn.lr
        loss, logits = step_fn(x, y)
        position.step += 1
        position.batch += 1
        metrics.add(position.step, loss, logits, y, lr)
        if scheduler is not None:
            scheduler.step()
        for hook in batch_hooks:
            hook(position)
        if control.pending or metrics.due():
            if not on_flush():
                return False
    return True


@torch.inference_mode()
def evaluate(model: torch.nn.Module, criterion: torch.nn.Module, source, num_classes: int, device: torch.device,
             batch_hooks: Sequence[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]] = ()
             ) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, confusion matrix [true, predicted]) over ``source``; one host sync.
    ``batch_hooks(x, y, logits)`` see every batch (the evaluation probe's galleries)."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=device)
    for x, y in source.epoch(0):
        logits = model(x)
        loss_sum += criterion(logits, y).double() * y.shape[0]
        confusion += torch.bincount(y * num_classes + logits.argmax(1), minlength=num_classes * num_classes)
        for hook in batch_hooks:
            hook(x, y, logits)
    model.train(was_training)
    cm = confusion.view(num_classes, num_classes).cpu().numpy()
    n = int(cm.sum())
    if n == 0:
        return float("nan"), float("nan"), cm
    return float(loss_sum.item()) / n, float(np.trace(cm)) / n, cm
