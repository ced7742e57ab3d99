"""TensorBoard export (``training.tensorboard``): the run's scalars, and the live probes'
images when there are any, written to ``<run>/tensorboard/`` so ``tensorboard --logdir RUN``
shows the run. Optional: it needs the ``tensorboard`` package (torch's SummaryWriter writes
through it); without it the run is refused before it starts, with the fix in the message.

Per step: train/loss, train/accuracy, train/lr; per flush train/images_per_s; per epoch
epoch/loss, epoch/accuracy; per validation val/loss, val/accuracy; and images: probe set,
filters (first input channel), feature maps, saliency and Grad-CAM. A resumed run drops
what was written after the checkpoint it resumes from (``purge_step``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.errors import ConfigError
from engine.runs import events as ev
from engine.train.callbacks.base import Callback

KEY = "training.tensorboard"
FOLDER = "tensorboard"


def summary_writer() -> Callable[..., Any]:
    """torch's SummaryWriter class, or ConfigError saying how to get it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(f"{KEY}: TensorBoard export needs the tensorboard package, which is not installed: "
                          f"pip install tensorboard (or pip install 'layerstudio[tensorboard]'), or turn {KEY} off",
                          key=KEY) from None
    return SummaryWriter


def _unit(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Each image scaled to 0..1 on its own (weights and activations have no fixed range)."""
    a = np.nan_to_num(a.astype(np.float32))
    lo, hi = a.min(axis=axes, keepdims=True), a.max(axis=axes, keepdims=True)
    return (a - lo) / np.where(hi > lo, hi - lo, 1.0)


class TensorBoard(Callback):
    def __init__(self, log_dir: str | Path, writer_class: Callable[..., Any] | None = None) -> None:
        self.log_dir = Path(log_dir)
        self.writer_class = writer_class or summary_writer()
        self.writer = None

    def on_fit_start(self, trainer, event: ev.Started) -> None:
        kw = {"purge_step": event.start_step + 1} if event.start_step else {}
        self.writer = self.writer_class(log_dir=str(self.log_dir), **kw)

    def on_metrics(self, trainer, event: ev.Metrics) -> None:
        add = self.writer.add_scalar
        for step, loss, acc, lr in zip(event.step.tolist(), event.loss.tolist(), event.accuracy.tolist(),
                                       event.lr.tolist()):
            add("train/loss", loss, step)
            add("train/accuracy", acc, step)
            add("train/lr", lr, step)
        if len(event.step):
            add("train/images_per_s", event.images_per_s, int(event.step[-1]))

    def on_train_epoch_end(self, trainer, event: ev.EpochEnd) -> None:
        self.writer.add_scalar("epoch/loss", event.loss, event.step)
        self.writer.add_scalar("epoch/accuracy", event.accuracy, event.step)

    def on_validation_end(self, trainer, event: ev.Validation) -> None:
        self.writer.add_scalar("val/loss", event.loss, event.step)
        self.writer.add_scalar("val/accuracy", event.accuracy, event.step)

    def on_event(self, trainer, event: ev.Event) -> None:
        if self.writer is None:
            return
        images = self.writer.add_images
        if isinstance(event, ev.ProbeImages):
            images("probes/images", event.images, 0, dataformats="NHWC")
        elif isinstance(event, ev.Filters) and event.weights.ndim == 4:
            images(f"filters/{event.layer}", _unit(event.weights[:, :1], (1, 2, 3)), event.step, dataformats="NCHW")
        elif isinstance(event, ev.FeatureMaps) and event.maps.ndim == 3:
            images(f"feature_maps/{event.layer}", _unit(event.maps[:, None], (1, 2, 3)), event.step,
                   dataformats="NCHW")
        elif isinstance(event, ev.Saliency):
            images("saliency/saliency", event.saliency[:, None], event.step, dataformats="NCHW")
            if event.gradcam is not None:
                images("saliency/gradcam", event.gradcam[:, None], event.step, dataformats="NCHW")

    def on_checkpoint(self, trainer, event: ev.CheckpointSaved) -> None:
        self.writer.flush()

    def on_fit_end(self, trainer, event: ev.Finished) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
