"""One optimizer step: forward, loss, backward, update, with the options that live inside it.

- mixed precision: the forward pass under ``torch.autocast`` (bf16, or fp16 with a
  GradScaler whose skipped steps are counted on the device);
- gradient accumulation: the batch is split into micro-batches whose gradients add up to
  the whole batch's (each micro-loss is weighted by its share of the batch), so the update
  is the same with a fraction of the activation memory; under DDP only the last micro-batch
  all-reduces;
- gradient clipping by total norm (``clip_grad_norm_``: no host sync, the scale is applied
  on the device whether or not it clips);
- channels-last inputs.

The loop calls it and knows nothing of what it does. Nothing here reads a device value.
"""
from __future__ import annotations

import contextlib
import time
from typing import Callable

import torch

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class TrainStep:
    def __init__(self, model: torch.nn.Module, criterion: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                 clip_norm: float = 0.0, accumulation: int = 1, precision: str = "off",
                 device: torch.device | None = None, channels_last: bool = False,
                 on_first_step: Callable[[float], None] | None = None) -> None:
        self.model = model  # what runs forward: the module, or its DDP / compiled wrapper
        self.criterion = criterion
        self.optimizer = optimizer
        self.clip_norm = float(clip_norm)
        self.accumulation = max(int(accumulation), 1)
        self.channels_last = channels_last
        device = torch.device(device) if device is not None else next(
            (p.device for p in model.parameters()), torch.device("cpu"))
        dtype = AUTOCAST_DTYPES.get(precision)
        self._autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else contextlib.nullcontext
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
        #: optimizer steps the GradScaler skipped (inf/NaN gradients), on the device
        self.skipped_steps = torch.zeros((), dtype=torch.int64, device=device)
        self._params = [p for group in optimizer.param_groups for p in group["params"]]
        self._no_sync = getattr(model, "no_sync", None)  # DDP: all-reduce only the last micro-batch
        self._on_first_step = on_first_step

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One update. Returns (loss, logits) of the whole batch, both still on the device."""
        if self._on_first_step is not None:  # torch.compile compiles during the first step: time it
            t0, report, self._on_first_step = time.perf_counter(), self._on_first_step, None
            out = self._step(x, y)
            report(time.perf_counter() - t0)
            return out
        return self._step(x, y)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        self.optimizer.zero_grad(set_to_none=True)
        if self.accumulation == 1:
            with self._autocast():
                logits = self.model(x)
                loss = self.criterion(logits, y)
            self._backward(loss)
        else:
            loss, logits = self._accumulate(x, y)
        self._update()
        return loss, logits

    def _accumulate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = y.shape[0]
        parts = [(xs, ys) for xs, ys in zip(x.tensor_split(self.accumulation), y.tensor_split(self.accumulation))
                 if ys.shape[0]]
        losses, outputs = [], []
        for i, (xs, ys) in enumerate(parts):
            sync = self._no_sync is None or i == len(parts) - 1
            with contextlib.nullcontext() if sync else self._no_sync():
                with self._autocast():
                    out = self.model(xs)
                    # mean over the micro-batch × its share = its part of the whole batch's mean
                    part = self.criterion(out, ys) * (ys.shape[0] / n)
                self._backward(part)
            losses.append(part.detach())
            outputs.append(out.detach())
        return torch.stack(losses).sum(), torch.cat(outputs)

    def _backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def _update(self) -> None:
        scaler = self.scaler
        if scaler is None:
            if self.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(self._params, self.clip_norm, foreach=True)
            self.optimizer.step()
            return
        if self.clip_norm > 0:
            scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(self._params, self.clip_norm, foreach=True)
        # A skipped step lowers the scale. get_scale() would read it on the host; the tensor
        # itself (a private attribute, stable since torch 1.6) is compared on the device.
        before = scaler._scale.clone()
        scaler.step(self.optimizer)
        scaler.update()
        self.skipped_steps += (scaler._scale < before).to(torch.int64)
