"""Data-parallel training (DDP) under ``torchrun``: one process per GPU (or several on the CPU
with gloo), each training on its share of every batch.

- The batch order is global: every process plans the same epoch (same seed) and takes rows
  ``[r·B/W, (r+1)·B/W)`` of each global batch of ``training.batch_size`` rows, so W
  processes make the same updates as one process with the same batches (gradients are
  averaged), to rounding, for a model without BatchNorm (whose statistics are per process).
- Every process starts from the same seed (identical weights and random streams, which the
  checkpoint of rank 0 therefore restores for all), evaluates the whole validation set (so
  early stopping decides alike everywhere) and only rank 0 writes the run directory.
- A stop must happen at the same step everywhere: see ``AgreedControl``.

``python -m engine.train.ddp [torchrun options] -m engine.cli.main train …`` is torchrun
(torch.distributed.run) with its own log lines silenced (a failed worker has already said
why) and a store per restart attempt, without which restarted gloo workers cannot connect.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import torch
import torch.distributed as dist

from engine.data.loader import BatchSource
from engine.errors import ConfigError
from engine.train.control import Control


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_distributed() -> bool:
    return world_size() > 1


def restart_count() -> int:
    """How many times torchrun restarted the workers (0 on the first attempt)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)


def check_batch(cfg: dict[str, Any], world: int) -> None:
    """The global batch must split evenly between the processes."""
    batch = cfg["batch_size"]
    if batch % world:
        raise ConfigError(f"training.batch_size: {batch} does not split evenly between {world} processes; use a "
                          f"multiple of {world}", key="training.batch_size")


def init_distributed(device: torch.device) -> torch.device:
    """Join the process group torchrun set up; the device of this process (cuda:LOCAL_RANK)."""
    if device.type == "cuda":
        index = local_rank()
        if index >= torch.cuda.device_count():
            raise ConfigError(f"training.device: process {rank()} needs GPU cuda:{index} but this machine has "
                              f"{torch.cuda.device_count()}; start fewer processes per node", key="training.device")
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def control_group():
    """A gloo group for the host-side agreements (no GPU sync); the default group on the CPU."""
    return None if dist.get_backend() == "gloo" else dist.new_group(backend="gloo")


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel as DDP
    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class ShardedBatchSource(BatchSource):
    """A BatchSource yielding this process's share of each global batch. Batch b's rows come
    from the same bounds as everywhere else (order, augmentation draws), narrowed to the share."""

    def __init__(self, *args, rank: int, world: int, **kw) -> None:
        self.shard_rank, self.shard_world = rank, world
        super().__init__(*args, **kw)

    def _bounds(self, b: int) -> tuple[int, int]:
        a, z = super()._bounds(b)
        n = z - a
        return a + n * self.shard_rank // self.shard_world, a + n * (self.shard_rank + 1) // self.shard_world


class AgreedControl(Control):
    """Under DDP a process that stops early leaves the others waiting in an all-reduce. A stop
    asked of one process (a signal, the stop file) is only noted here; the StopAgreement
    callback turns it into a stop at the same step on every process."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: str | None = None

    def stop(self, reason: str = "stopped", *, wake: bool = True) -> None:
        if self.requested is None:
            self.requested = reason

    def agree(self, reason: str) -> None:
        Control.stop(self, reason)


def _torchrun(argv: list[str]) -> int:
    """torch.distributed.run without its log lines and its error report (the workers speak)."""
    os.environ.setdefault("LOGLEVEL", "ERROR")  # torch.distributed.elastic's loggers read it at import
    # workers that share the agent's store find the previous attempt's addresses after a restart
    # and cannot connect (pytorch/pytorch#135712): give each attempt a store of its own
    os.environ.setdefault("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1")
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    try:
        run(parse_args(argv))
    except ChildFailedError as e:
        codes = [f.exitcode for f in e.failures.values()]
        return next((c for c in codes if c > 0), 3)
    return 0


if __name__ == "__main__":
    sys.exit(_torchrun(sys.argv[1:]))
