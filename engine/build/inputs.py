"""Example inputs for a built module: random floats, zeros for int64 token ids (a valid id
for every Embedding)."""
from __future__ import annotations

import torch


def example_inputs(gm: torch.nn.Module, batch_size: int = 2, device: str | torch.device = "cpu",
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    out = []
    for _, shape, dtype in gm.inputs:
        size = (batch_size, *shape)
        if dtype == "int64":
            out.append(torch.zeros(size, dtype=torch.int64, device=device))
        else:
            out.append(torch.randn(size, device=device, generator=generator))
    return tuple(out)
