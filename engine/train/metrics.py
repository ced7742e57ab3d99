"""Per-step loss and accuracy kept on the device, flushed as host arrays a few times a second.

A step appends two 0-d device tensors (the loss, and the number of correct predictions) and
host numbers it already has (batch size, lr, wall time): no ``.item()``, no host sync. A flush
stacks the pending tensors and copies them to the host in one transfer, which is also where
the non-finite check happens: the first non-finite loss names the step it came from.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from engine.runs.events import Metrics

FLUSH_INTERVAL_S = 0.25
MAX_PENDING = 2048  # steps; bounds the memory held between flushes on very fast loops


class StepMetrics:
    def __init__(self, device: torch.device, interval: float = FLUSH_INTERVAL_S) -> None:
        self.device = device
        self.interval = interval
        self._loss: list[torch.Tensor] = []
        self._correct: list[torch.Tensor] = []
        self._count: list[int] = []
        self._step: list[int] = []
        self._lr: list[float] = []
        self._time: list[float] = []
        self._next_flush = 0.0  # monotonic deadline; 0 = flush after the very first step
        self._window_start = time.time()
        self.first_bad_step: int | None = None
        # totals of the epoch in progress (host side, updated at each flush)
        self.epoch_loss_sum = 0.0
        self.epoch_correct = 0
        self.epoch_count = 0

    def add(self, step: int, loss: torch.Tensor, logits: torch.Tensor, target: torch.Tensor, lr: float) -> None:
        self._loss.append(loss.detach())
        self._correct.append(torch.eq(logits.detach().argmax(1), target).sum())
        self._count.append(target.shape[0])
        self._step.append(step)
        self._lr.append(lr)
        self._time.append(time.time())

    def due(self) -> bool:
        return time.monotonic() >= self._next_flush or len(self._loss) >= MAX_PENDING

    def __len__(self) -> int:
        return len(self._loss)

    def start_window(self) -> None:
        """Images/s of the next flush are counted from now (an epoch starts, a pause ends)."""
        self._window_start = time.time()

    def reset_epoch(self, loss_sum: float = 0.0, correct: int = 0, count: int = 0) -> None:
        self.epoch_loss_sum, self.epoch_correct, self.epoch_count = loss_sum, correct, count

    def flush(self, epoch: int) -> Metrics | None:
        """The pending steps as a Metrics event (None if there are none); one device→host copy."""
        self._next_flush = time.monotonic() + self.interval
        if not self._loss:
            return None
        host = torch.stack([torch.stack(self._loss).float(), torch.stack(self._correct).float()]).cpu().numpy()
        loss, correct = host[0], host[1]
        counts = np.asarray(self._count, dtype=np.int64)
        steps = np.asarray(self._step, dtype=np.int64)
        bad = ~np.isfinite(loss)
        if bad.any() and self.first_bad_step is None:
            self.first_bad_step = int(steps[np.argmax(bad)])
        now = time.time()
        n = int(counts.sum())
        rate = n / max(now - self._window_start, 1e-9)
        self._window_start = now
        self.epoch_loss_sum += float(np.dot(loss.astype(np.float64), counts))
        self.epoch_correct += int(round(float(correct.sum())))
        self.epoch_count += n
        gpu_mem = None
        if self.device.type == "cuda":
            gpu_mem = int(torch.cuda.max_memory_allocated(self.device))
            torch.cuda.reset_peak_memory_stats(self.device)
        event = Metrics(epoch=epoch, step=steps, loss=loss.astype(np.float32),
                        accuracy=(correct / counts).astype(np.float32), lr=np.asarray(self._lr, dtype=np.float64),
                        time=np.asarray(self._time, dtype=np.float64), images_per_s=float(rate), gpu_mem=gpu_mem)
        self._loss, self._correct, self._count, self._step, self._lr, self._time = [], [], [], [], [], []
        return event

    @property
    def epoch_loss(self) -> float:
        return self.epoch_loss_sum / self.epoch_count if self.epoch_count else float("nan")

    @property
    def epoch_accuracy(self) -> float:
        return self.epoch_correct / self.epoch_count if self.epoch_count else float("nan")
