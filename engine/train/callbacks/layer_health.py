"""Live layer health: per node, gradient norm, weight norm, update/weight ratio and the
fraction of dead ReLU units, with vanishing and exploding gradients flagged.

The update ratio is measured on the optimizer step that really happens (momentum, weight decay
and all): at a probe round the weights are copied on the device, and after the next step the
round is completed with that step's gradients and ||w_after - w_before|| / ||w_before||.
Norms come from ``torch._foreach_norm``, are combined per node on the device and reach the
host in one copy per round. Dead units are counted on the probe batch (32 validation samples)
in eval mode: a unit (a channel of a feature map, or a feature) is dead when it is never
positive for any sample at any position."""
from __future__ import annotations

import math

import numpy as np
import torch

from engine.runs import events as ev
from engine.train.callbacks.base import Callback
from engine.train.capture import capture, evaluating
from engine.train.probe_context import ProbeContext

RELU_FAMILY = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Hardswish")
VANISHING_RELATIVE = 1e-4  # of the last layer's gradient norm
VANISHING_FLOOR = 1e-9     # absolute: a gradient this small teaches nothing
EXPLODING_GRAD = 1e3       # absolute gradient norm
EXPLODING_RATIO = 1.0      # one step changed the weights by more than their own size


def flag_nodes(nodes: list[str], grad: np.ndarray, ratio: np.ndarray, has_grad: np.ndarray) -> dict[str, str]:
    """{node: "vanishing" | "exploding"} among the nodes with a gradient: vanishing when the
    gradient norm is orders of magnitude below the last such layer's (or below an absolute
    floor), exploding when it is huge or not finite, or when one step moved the weights by more
    than their own norm."""
    flags: dict[str, str] = {}
    with_grad = [i for i in range(len(nodes)) if has_grad[i]]
    last = float(grad[with_grad[-1]]) if with_grad else math.nan
    if not last <= EXPLODING_GRAD:  # an exploding last layer is no yardstick for the others
        last = math.nan
    for i in with_grad:
        g, r = float(grad[i]), float(ratio[i])
        if not math.isfinite(g) or g > EXPLODING_GRAD or r > EXPLODING_RATIO:  # NaN > x is False
            flags[nodes[i]] = "exploding"
        elif g < VANISHING_FLOOR or (math.isfinite(last) and g < VANISHING_RELATIVE * last):
            flags[nodes[i]] = "vanishing"
    return flags


def _dead_units(out: torch.Tensor) -> torch.Tensor:
    """0-d fraction of units of ``out`` [N, C, ...] (or [N, F]) that are never positive."""
    alive = (out > 0).transpose(0, 1).reshape(out.shape[1], -1).any(dim=1) if out.dim() > 1 \
        else (out > 0).any().reshape(1)
    return 1.0 - alive.float().mean()


class LayerHealthProbe(Callback):
    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self._ready = False
        self._before: list[torch.Tensor] | None = None  # weights after the round's step
        self._before_norm: list[torch.Tensor] | None = None

    def _setup(self, trainer) -> None:
        """Which nodes, which parameters each owns (in one flat list), which are ReLUs."""
        ctx = self.ctx
        module = ctx.module(trainer)
        layer_names = getattr(module, "layer_names", {})
        node_names = getattr(module, "node_names", {})
        self.nodes, self.params, owner, relu = [], [], [], []
        for n in ctx.order:
            params = list(module.get_submodule(layer_names[n]).parameters()) if n in layer_names else []
            is_relu = ctx.node_type(n) in RELU_FAMILY and n in node_names
            if not params and not is_relu:
                continue
            j = len(self.nodes)
            self.nodes.append(n)
            self.params += params
            owner += [j] * len(params)
            if is_relu:
                relu.append((j, node_names[n]))
        self.owner_host = owner
        self.owner = torch.tensor(owner, dtype=torch.long, device=trainer.device)
        self._owner_of_grads: dict[tuple[bool, ...], torch.Tensor] = {}
        self.has_params = np.bincount(np.asarray(owner, np.int64), minlength=len(self.nodes)) > 0
        self.relu = relu
        self._ready = True

    def on_batch_end(self, trainer, position) -> None:
        ctx = self.ctx
        if self._before is not None:  # the step after a round: finish it
            with ctx.running(trainer, "health"):
                event = self.finish(trainer)
                if ctx.writer is not None:
                    ctx.writer.health(event)
                trainer.emit(event)
            return
        if ctx.due(trainer, position.step, "health"):
            with ctx.running(trainer, "health"):
                self.start(trainer)

    def on_fit_end(self, trainer, event) -> None:
        self._before = self._before_norm = None  # a round the run did not finish: free the copy

    def start(self, trainer) -> None:
        if not self._ready:
            self._setup(trainer)
        with torch.no_grad():
            self._before = [p.detach().clone() for p in self.params]
            self._before_norm = torch._foreach_norm(self._before) if self._before else []

    def _owners(self, has_grad: list[bool]) -> torch.Tensor:
        """Owner node of each parameter that has a gradient (made once per pattern: a host to
        device copy would wait for the device)."""
        if all(has_grad):
            return self.owner
        key = tuple(has_grad)
        if key not in self._owner_of_grads:
            self._owner_of_grads[key] = torch.tensor([o for o, g in zip(self.owner_host, has_grad) if g],
                                                     dtype=torch.long, device=self.owner.device)
        return self._owner_of_grads[key]

    def _per_node(self, norms: list[torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
        """sqrt(sum of squares) of the parameters' norms, per node ([n], on the device)."""
        out = torch.zeros(len(self.nodes), dtype=torch.float32, device=self.owner.device)
        if norms:
            out.index_add_(0, owner, torch.stack(norms).float().pow(2))
        return out.sqrt()

    def finish(self, trainer) -> ev.LayerHealth:
        n = len(self.nodes)
        with torch.no_grad():
            current = [p.detach() for p in self.params]
            has_grad = [p.grad is not None for p in self.params]
            grads = [p.grad.detach() for p in self.params if p.grad is not None]
            grad_norm = self._per_node(torch._foreach_norm(grads) if grads else [], self._owners(has_grad))
            weight_norm = self._per_node(torch._foreach_norm(current), self.owner)
            torch._foreach_sub_(self._before, current)  # in place: no third copy of the weights
            delta = self._per_node(torch._foreach_norm(self._before), self.owner)
            before = self._per_node(self._before_norm, self.owner)
        self._before = self._before_norm = None
        dead = self._dead(trainer) if self.relu else torch.zeros(0, device=self.owner.device)
        host = torch.cat([torch.stack([grad_norm, weight_norm, delta, before]).flatten(), dead]).cpu().numpy()
        grad_n, weight_n, delta_n, before_n = host[:4 * n].reshape(4, n)
        owned_grad = np.bincount(np.asarray([o for o, g in zip(self.owner_host, has_grad) if g], np.int64),
                                 minlength=n) > 0
        grad_n = np.where(owned_grad, grad_n, np.nan).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(before_n > 0, delta_n / before_n, np.where(delta_n > 0, np.inf, 0.0))
        ratio = np.where(self.has_params, ratio, np.nan).astype(np.float32)
        weight_n = np.where(self.has_params, weight_n, np.nan).astype(np.float32)
        dead_fraction = np.full(n, np.nan, np.float32)
        for k, (j, _) in enumerate(self.relu):
            dead_fraction[j] = host[4 * n + k]
        epoch, step = self.ctx.position(trainer)
        return ev.LayerHealth(epoch=epoch, step=step, nodes=list(self.nodes), grad_norm=grad_n,
                              weight_norm=weight_n, update_ratio=ratio, dead_fraction=dead_fraction,
                              flags=flag_nodes(self.nodes, grad_n, ratio, owned_grad))

    def _dead(self, trainer) -> torch.Tensor:
        ps = self.ctx.probe_set(trainer)
        if ps is None:
            return torch.full((len(self.relu),), float("nan"), device=self.owner.device)
        module = self.ctx.module(trainer)
        with evaluating(module):
            found = capture(module, ps.batch, {name: _dead_units for _, name in self.relu})
        return torch.stack([found[name] for _, name in self.relu]).float()
