"""The live probes a run gets: filters, feature maps, layer health, evaluation, saliency
(engine.train.callbacks), sharing one ProbeContext. Rank 0 only: under torchrun the other
processes train and nothing else.

They are always installed (each costs a clock read per step while idle) so that the app can
switch any of them on during a run; ``training.probes.enabled`` and the per-kind switches
decide what runs."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.train.callbacks.base import Callback
from engine.train.callbacks.evaluation import EvaluationProbe
from engine.train.callbacks.feature_maps import FeatureMapsProbe
from engine.train.callbacks.filters import FiltersProbe
from engine.train.callbacks.layer_health import LayerHealthProbe
from engine.train.callbacks.saliency import SaliencyProbe
from engine.train.probe_config import ProbeConfig
from engine.train.probe_context import ProbeContext

if TYPE_CHECKING:  # pragma: no cover
    from engine.train.trainer import Trainer


def probe_callbacks(trainer: "Trainer", config: ProbeConfig | None = None) -> list[Callback]:
    if trainer.rank != 0:
        return []
    config = config if config is not None else ProbeConfig()
    config.load(trainer.cfg)
    ctx = ProbeContext(trainer, config)
    # the clean-up before anything is written; saliency next: it sends the probe images first
    return [_ResumeCleanup(ctx), SaliencyProbe(ctx), FiltersProbe(ctx), FeatureMapsProbe(ctx),
            LayerHealthProbe(ctx), EvaluationProbe(ctx)]


class _ResumeCleanup(Callback):
    """A resumed run forgets the probes recorded after the checkpoint it resumes from (they
    would repeat), as metrics.jsonl does."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def on_fit_start(self, trainer, event) -> None:
        if self.ctx.writer is not None and trainer.resume_from is not None:
            self.ctx.writer.drop_after(event.start_step)
