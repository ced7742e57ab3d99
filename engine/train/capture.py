"""The values of chosen graph nodes for one forward pass, for the probes (feature maps, dead
units), on the built ``torch.fx.GraphModule`` in eval mode without gradients.

An ``fx.Interpreter`` runs the graph node by node and keeps what is asked for, so no hook is
ever put on the training module (a hook would make a compiled model recompile, and DDP must
never see a probe), any node can be read (also Add/Concat, which own no module), and the pass
stops as soon as the last wanted node has run."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

import torch
import torch.fx as fx
from torch import nn


class _Done(Exception):
    pass


class _Recorder(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, wanted: Mapping[str, Callable[[torch.Tensor], object]]) -> None:
        super().__init__(gm, garbage_collect_values=True)
        self.wanted = dict(wanted)
        self.values: dict[str, object] = {}

    def run_node(self, n: fx.Node):
        out = super().run_node(n)
        reduce = self.wanted.get(n.name)
        if reduce is not None:
            self.values[n.name] = reduce(out)  # reduced at once: the full activation is freed early
            if len(self.values) == len(self.wanted):
                raise _Done
        return out


def capture(gm: fx.GraphModule, x: torch.Tensor,
            wanted: Mapping[str, Callable[[torch.Tensor], object]]) -> dict[str, object]:
    """{fx node name: reduce(value)} for each wanted node (call inside ``evaluating``)."""
    if not wanted:
        return {}
    rec = _Recorder(gm, wanted)
    try:
        rec.run(x)
    except _Done:
        pass
    return rec.values


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode and no autograd for one probe; every module's own train/eval flag comes back."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        with torch.no_grad():
            yield module
    finally:
        for m, training in modes:
            m.training = training
