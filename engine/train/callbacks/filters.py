"""Live filters: the weights of every convolution (at most 16 layers, 64 x 64 channels each)
with their statistics, once per probe round, as ``Filters`` events and in probes/.

Statistics and the 32-bin histogram are computed on the device for every layer at once; the
round costs two device-to-host copies in all, whatever the number of layers."""
from __future__ import annotations

import torch

from engine.runs import events as ev
from engine.train.callbacks.base import Callback
from engine.train.probe_context import ProbeContext

CONV_TYPES = ("Conv1d", "Conv2d", "ConvTranspose2d")
MAX_LAYERS = 16
MAX_CHANNELS = 64
BINS = 32


def histogram(w: torch.Tensor, bins: int = BINS) -> tuple[torch.Tensor, torch.Tensor]:
    """(counts int64 [bins], edges float32 [bins + 1]) over [min, max] of ``w``, as
    ``np.histogram`` bins them (last bin closed; a constant tensor gets the range v ± 0.5),
    without reading min and max on the host."""
    flat = w.detach().flatten().float()
    lo, hi = torch.aminmax(flat)
    same = hi <= lo
    lo, hi = torch.where(same, lo - 0.5, lo), torch.where(same, hi + 0.5, hi)
    pos = ((flat - lo) / (hi - lo) * bins).floor().clamp_(0, bins - 1).long()
    counts = torch.bincount(pos, minlength=bins)
    edges = lo + (hi - lo) * torch.arange(bins + 1, device=flat.device, dtype=torch.float32) / bins
    return counts, edges


def conv_layers(ctx: ProbeContext, only: str | None) -> list[str]:
    convs = [n for n in ctx.order if ctx.node_type(n) in CONV_TYPES]
    if only is not None:
        return [only] if only in convs else []
    return convs[:MAX_LAYERS]


def filter_weights(module: torch.nn.Module, node_type: str) -> torch.Tensor:
    """[Cout, Cin, k...]: a transposed convolution stores [Cin, Cout, k...]."""
    w = module.weight.detach()
    return w.transpose(0, 1) if node_type == "ConvTranspose2d" else w


class FiltersProbe(Callback):
    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx

    def on_batch_end(self, trainer, position) -> None:
        ctx = self.ctx
        if not ctx.due(trainer, position.step, "filters"):
            return
        with ctx.running(trainer, "filters"):  # sending and writing count too: they hold the training thread
            events = self.probe(trainer)
            if ctx.writer is not None and events:
                ctx.writer.filters(events)
            for e in events:
                trainer.emit(e)

    def probe(self, trainer) -> list[ev.Filters]:
        ctx = self.ctx
        only = ctx.config["filter_layer"]
        nodes = conv_layers(ctx, only)
        if only is not None and not nodes:
            ctx.warn_once(trainer, f"filter_layer={only}", f"training.probes.filter_layer: {only!r} is not a "
                          "convolution of this network; showing none")
        if not nodes:
            return []
        module = ctx.module(trainer)
        layer_names = module.layer_names
        stats, sent, truncated = [], [], []
        for node in nodes:
            w = filter_weights(module.get_submodule(layer_names[node]), ctx.node_type(node))
            flat = w.float().flatten()
            counts, edges = histogram(flat)
            std, mean = torch.std_mean(flat, correction=0)
            stats.append(torch.cat([torch.stack([mean, std]).double(), counts.double(), edges.double()]))
            sent.append(w[:MAX_CHANNELS, :MAX_CHANNELS].float())
            truncated.append(w.shape[0] > MAX_CHANNELS or w.shape[1] > MAX_CHANNELS)
        host_stats = torch.stack(stats).cpu().numpy()
        host_w = torch.cat([s.flatten() for s in sent]).cpu().numpy()
        epoch, step = ctx.position(trainer)
        events, offset = [], 0
        for i, node in enumerate(nodes):
            n = sent[i].numel()
            row = host_stats[i]
            events.append(ev.Filters(
                epoch=epoch, step=step, layer=node, weights=host_w[offset:offset + n].reshape(sent[i].shape),
                truncated=truncated[i], mean=float(row[0]), std=float(row[1]),
                hist_counts=row[2:2 + BINS].astype("int64"), hist_edges=row[2 + BINS:].astype("float32")))
            offset += n
        return events
