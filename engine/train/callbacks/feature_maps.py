"""Live feature maps: one layer's activations for one probe image, once per probe round, as a
``FeatureMaps`` event and in probes/. The layer and the image are ``training.probes.
feature_layer`` / ``feature_image``, which the app changes while the run trains.

Any node can be shown (Add and Concat too): the graph runs up to it in eval mode on the
unwrapped module (engine.train.capture), and its output is cut to 64 channels and averaged
down to at most 64 x 64 before it leaves the device."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.runs import events as ev
from engine.train.callbacks.base import Callback
from engine.train.capture import capture, evaluating
from engine.train.probe_context import ProbeContext

MAX_CHANNELS = 64
MAX_SIDE = 64
DEFAULT_TYPES = ("Conv2d", "Conv1d", "ConvTranspose2d")


def as_maps(out: torch.Tensor) -> torch.Tensor:
    """One sample's activation [C, H, W] / [C, L] / [F] (/ more dims, flattened) as maps
    [C <= 64, h <= 64, w <= 64]: a signal is one row per channel, a vector one row."""
    a = out[0].detach().float()
    if a.dim() == 0:
        a = a.reshape(1, 1, 1)
    elif a.dim() == 1:
        a = a.reshape(1, 1, -1)
    elif a.dim() == 2:
        a = a.unsqueeze(1)
    elif a.dim() > 3:  # a volume: its slices side by side
        a = a.flatten(2)
    a = a[:MAX_CHANNELS]
    h, w = a.shape[-2:]
    scale = MAX_SIDE / max(h, w)
    if scale < 1:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        a = F.adaptive_avg_pool2d(a.unsqueeze(0), size)[0]
    return a


def default_layer(ctx: ProbeContext) -> str | None:
    """The first convolution: the most image-like maps of the network."""
    for n in ctx.order:
        if ctx.node_type(n) in DEFAULT_TYPES:
            return n
    return None


class FeatureMapsProbe(Callback):
    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx

    def on_batch_end(self, trainer, position) -> None:
        ctx = self.ctx
        if not ctx.due(trainer, position.step, "feature_maps"):
            return
        with ctx.running(trainer, "feature_maps"):
            event = self.probe(trainer)
            if event is not None:
                if ctx.writer is not None:
                    ctx.writer.feature_maps(event)
                trainer.emit(event)

    def probe(self, trainer) -> ev.FeatureMaps | None:
        ctx = self.ctx
        ps = ctx.probe_set(trainer)
        if ps is None or ps.images is None:
            ctx.warn_once(trainer, "feature_maps:no-images", "feature maps are shown for image datasets only",
                          "info")
            return None
        layer = ctx.config["feature_layer"] or default_layer(ctx)
        if layer is None:
            return None  # no convolution and nothing chosen: nothing worth showing
        module = ctx.module(trainer)
        fx_name = getattr(module, "node_names", {}).get(layer)
        if fx_name is None or ctx.node_type(layer) == "Input":
            ctx.warn_once(trainer, f"feature_layer={layer}",
                          f"training.probes.feature_layer: the network has no layer {layer!r}")
            return None
        index = ctx.config["feature_image"]
        if index >= ps.count:
            ctx.warn_once(trainer, f"feature_image={index}", f"training.probes.feature_image: there are "
                          f"{ps.count} probe images; showing image 0 instead of {index}")
            index = 0
        shape: list[int] = []

        def reduce(out):
            shape.extend(int(d) for d in out.shape[1:])
            return as_maps(out)

        with evaluating(module):
            maps = capture(module, ps.x[index:index + 1], {fx_name: reduce})[fx_name]
        epoch, step = ctx.position(trainer)
        return ev.FeatureMaps(epoch=epoch, step=step, layer=layer, image_index=index, image=ps.images[index],
                              maps=maps.cpu().numpy(), shape=shape)
