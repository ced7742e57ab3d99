"""Under DDP: every ``every`` optimizer steps the processes agree whether to stop, so all of
them stop at the same step (a process that stopped alone would leave the others waiting in
DDP's all-reduce). A stop is asked of one process (a signal, noted by ``AgreedControl``) or
of the run through its stop file (rank 0 looks for it). The exchange is a MAX all-reduce of
two flags over a gloo group: host memory only, no GPU sync, a fraction of a millisecond."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist

from engine.train.callbacks.base import Callback
from engine.train.ddp import AgreedControl

EVERY = 32


class StopAgreement(Callback):
    def __init__(self, control: AgreedControl, *, group=None, stop_file: str | Path | None = None,
                 every: int = EVERY) -> None:
        self.control, self.group, self.every = control, group, every
        self.stop_file = Path(stop_file) if stop_file else None

    def on_batch_end(self, trainer, position) -> None:
        if position.step % self.every == 0:
            self.agree()

    def agree(self) -> bool:
        """One exchange; True (and the control stopped) when any process asked to stop."""
        requested = self.control.requested
        by_file = self.stop_file is not None and self.stop_file.exists()
        flags = torch.tensor([requested is not None or by_file, requested == "stopped" or by_file],
                             dtype=torch.int32)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.group)
        if not flags[0]:
            return False
        self.control.agree("stopped" if flags[1] else "interrupted")
        if by_file:
            self.stop_file.unlink(missing_ok=True)
        return True
