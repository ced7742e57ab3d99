"""One optimizer step. The loop calls it and knows nothing of what it does, so the next issue's
mixed precision (autocast + GradScaler), gradient clipping and accumulation grow here."""
from __future__ import annotations

import torch


class TrainStep:
    def __init__(self, model: torch.nn.Module, criterion: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, loss, backward, update. Returns (loss, logits), both still on the device."""
        logits = self.model(x)
        loss = self.criterion(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss, logits
