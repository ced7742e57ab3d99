"""Live saliency and Grad-CAM of the probe images, once per probe round, as ``Saliency``
events and in probes/ (engine.explain.ProbeStore, which the time-lapse reads back).

The maps come from ``engine.explain.run_probes``: one forward and one backward for the whole
probe set, on the unwrapped module in eval mode, leaving the model exactly as it was. Grad-CAM
explains ``training.probes.gradcam_layer`` (default: the last 2-D convolution); a network
without one gets saliency alone."""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import ExplainError
from engine.explain.inputs import as_batch, logits
from engine.explain.maps import downscale
from engine.explain.model_state import explaining
from engine.explain.probe_result import ProbeResult
from engine.explain.probe_store import ProbeStore
from engine.explain.probes import run_probes
from engine.runs import events as ev
from engine.train.callbacks.base import Callback
from engine.train.probe_context import ProbeContext


def saliency_only(module: torch.nn.Module, x: torch.Tensor, labels: np.ndarray, max_side: int = 64):
    """run_probes' result for a network without a 2-D convolution: saliency, zero Grad-CAM."""
    with explaining(module) as m:
        xb = as_batch(x, m)
        out = logits(m, xb)
        confidence, predicted = out.detach().softmax(dim=1).max(dim=1)
        (grad,) = torch.autograd.grad(out.gather(1, predicted[:, None]).sum(), xb)
        maps = downscale(grad.abs().amax(dim=1), max_side)
        scale = maps.flatten(1).amax(dim=1)
        maps = maps / torch.where(scale > 0, scale, torch.ones_like(scale))[:, None, None]
        host = torch.cat([maps.flatten(), scale, confidence, predicted.float()]).cpu().numpy()
    n, (h, w) = len(xb), maps.shape[-2:]
    sal = host[:n * h * w].reshape(n, h, w)
    rest = host[n * h * w:].reshape(3, n)
    zeros = np.zeros_like(sal)
    return ProbeResult(saliency=sal, gradcam=zeros, saliency_scale=rest[0].copy(),
                       gradcam_scale=np.zeros(n, np.float32), predicted=rest[2].astype(np.int64),
                       confidence=rest[1].copy(), labels=np.asarray(labels, np.int64),
                       targets=rest[2].astype(np.int64))


class SaliencyProbe(Callback):
    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self._store = None

    def on_batch_end(self, trainer, position) -> None:
        ctx = self.ctx
        if not ctx.due(trainer, position.step, "saliency"):
            return
        with ctx.running(trainer, "saliency"):
            event, result = self.probe(trainer)
            if event is None:
                return
            if ctx.writer is not None:
                if self._store is None:
                    self._store = ProbeStore(ctx.writer.dir.parent)
                self._store.append(result, event.step, event.epoch)
            trainer.emit(event)

    def gradcam_layer(self, trainer, module) -> str | None:
        """The node Grad-CAM explains, or None for saliency alone."""
        ctx = self.ctx
        chosen = ctx.config["gradcam_layer"]
        convs = [n for n in ctx.order if ctx.node_type(n) == "Conv2d"]
        if chosen is None:
            return convs[-1] if convs else None
        if chosen not in getattr(module, "layer_names", {}):
            ctx.warn_once(trainer, f"gradcam_layer={chosen}", f"training.probes.gradcam_layer: the network has "
                          f"no layer {chosen!r}; using {convs[-1] if convs else 'saliency alone'}")
            return convs[-1] if convs else None
        return chosen

    def probe(self, trainer):
        ctx = self.ctx
        ps = ctx.probe_set(trainer)
        if ps is None or ps.images is None:
            ctx.warn_once(trainer, "saliency:no-images", "saliency maps are shown for image datasets only",
                          "info")
            return None, None
        module = ctx.module(trainer)
        labels = ps.labels[:ps.count]
        layer = self.gradcam_layer(trainer, module)
        result = None
        if layer is not None:
            try:
                result = run_probes(module, ps.x, labels, layer=layer)
            except ExplainError as e:  # e.g. a chosen layer whose output is not a feature map
                ctx.warn_once(trainer, f"gradcam:{layer}", f"Grad-CAM on {layer!r}: {e.message}")
                layer = None
        if result is None:
            result = saliency_only(module, ps.x, labels)
        epoch, step = ctx.position(trainer)
        event = ev.Saliency(epoch=epoch, step=step, saliency=result.saliency,
                            gradcam=result.gradcam if layer is not None else None, pred=result.predicted,
                            confidence=result.confidence, label=result.labels, layer=layer)
        return event, result
