"""Weight initialization (``training.init``): PyTorch's default, Glorot/Xavier or Kaiming (He).

Applies to the weights of convolutions and linear layers, whose biases then start at zero;
other layers keep torch's initialization. It draws from the torch generator the trainer has
just seeded, so a seed gives the same weights every time.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)

SCHEMES: dict[str, Callable[[torch.Tensor], object]] = {
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    # He et al. for ReLU networks: variance 2 / fan_in
    "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu"),
    "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"),
}


@torch.no_grad()
def init_weights(model: nn.Module, scheme: str) -> int:
    """Re-initialize ``model`` in place; returns how many layers were initialized."""
    if scheme == "default":
        return 0
    fill = SCHEMES[scheme]
    count = 0
    for module in model.modules():
        if isinstance(module, LAYERS):
            fill(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
            count += 1
    return count
