"""Evaluation after each validation: the confusion matrix, per-class accuracy and galleries of
the most confident correct and most confident wrong validation images, as an ``Evaluation``
event and in probes/.

The galleries are collected during the trainer's own validation pass (``on_validation_batch``):
the 16 best candidates so far stay on the device (confidence, position, prediction, label) and
each batch merges its own with one ``topk``, so the pass gains no host sync; the pixels are read
afterwards from the dataset, exactly as stored. The confusion matrix is the one the validation
itself computed, so it always agrees with the reported accuracy."""
from __future__ import annotations

import numpy as np
import torch

from engine.runs import events as ev
from engine.train.callbacks.base import Callback
from engine.train.probe_context import ProbeContext

GALLERY = 16


class TopConfident:
    """The ``k`` most confident predictions seen so far among the correct ones and among the
    wrong ones, kept on the device."""

    def __init__(self, k: int, device: torch.device) -> None:
        self.k, self.device = k, device
        # rows: confidence (-1 = empty), position in the split, predicted, true; [2 (correct, wrong), 4, k]
        self.best = torch.full((2, 4, k), -1.0, dtype=torch.float64, device=device)
        self.seen = 0

    def add(self, logits: torch.Tensor, y: torch.Tensor) -> None:
        n = y.shape[0]
        conf, pred = logits.detach().float().softmax(dim=1).max(dim=1)
        pos = torch.arange(self.seen, self.seen + n, device=self.device, dtype=torch.float64)
        self.seen += n
        right = pred == y
        rows = torch.stack([conf.double(), pos, pred.double(), y.double()])  # [4, n]
        merged = []
        for i, keep in enumerate((right, ~right)):
            score = torch.where(keep, rows[0], torch.full_like(rows[0], -1.0))
            cand = torch.cat([self.best[i], torch.cat([score[None], rows[1:]])], dim=1)  # [4, k + n]
            merged.append(cand[:, cand[0].topk(self.k).indices])
        self.best = torch.stack(merged)

    def result(self) -> np.ndarray:
        """[2, 4, k] on the host (one copy)."""
        return self.best.cpu().numpy()


def gallery(ds, split: str, rows: np.ndarray) -> dict[str, np.ndarray]:
    """One gallery from its [4, k] rows; images read from the dataset (uint8 [n, H, W, C])."""
    keep = (rows[0] >= 0) & ds.is_image  # signals have no pictures: their galleries are empty
    conf, pos, pred, true = rows[:, keep]
    x, _ = ds.arrays(split)
    c, *hw = ds.sample_shape if ds.is_image else (1, 1, 1)
    images = np.zeros((len(pos), *hw, c), np.uint8)
    for j, i in enumerate(pos.astype(np.int64)):
        images[j] = np.asarray(x[i]).transpose(1, 2, 0)
    return {"images": images, "true": true.astype(np.int64), "pred": pred.astype(np.int64),
            "prob": conf.astype(np.float32)}


class EvaluationProbe(Callback):
    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self._top: TopConfident | None = None

    def _active(self) -> bool:
        return self.ctx.config["enabled"] and self.ctx.config["evaluation"] and "evaluation" not in self.ctx.failed

    def on_validation_start(self, trainer, epoch: int) -> None:
        self._top = TopConfident(GALLERY, trainer.device) if self._active() else None

    def on_validation_batch(self, trainer, x, y, logits) -> None:
        if self._top is not None:
            with self.ctx.running(trainer, "evaluation", charge=False):
                self._top.add(logits, y)
            if "evaluation" in self.ctx.failed:
                self._top = None

    def on_validation_end(self, trainer, event: ev.Validation) -> None:
        top, self._top = self._top, None
        if top is None:
            return
        # not charged to the probe schedule: it comes with each validation, not every few seconds
        with self.ctx.running(trainer, "evaluation", charge=False):
            out = self.build(trainer, event, top)
            if self.ctx.writer is not None:
                self.ctx.writer.evaluation(out)
            trainer.emit(out)

    def build(self, trainer, event: ev.Validation, top: TopConfident) -> ev.Evaluation:
        cm = np.asarray(event.confusion, np.int64)
        totals = cm.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan).astype(np.float32)
        best = top.result()
        split = getattr(trainer.val_source, "split", "val")
        return ev.Evaluation(epoch=event.epoch, step=event.step, classes=list(event.classes or trainer.classes),
                             confusion=cm, per_class_accuracy=per_class,
                             confident_correct=gallery(trainer.dataset, split, best[0]),
                             confident_wrong=gallery(trainer.dataset, split, best[1]))
