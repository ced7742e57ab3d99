"""Batches for training and evaluation (torch; imported only in child processes).

Two paths, same batches:
- resident: the whole split as uint8 (images) or float32 (signals) on the training device
  (GPU memory, or RAM on CPU); a batch is an ``index_select`` plus the batched augmentation
  and normalization there. No host sync per batch. Chosen when the data fits a memory budget.
- streamed: a ``DataLoader`` whose workers read whole batches from the memory-mapped cache
  into pinned memory; augmentation and normalization then run on the device as above.

Order and augmentation come from a generator seeded with (seed, epoch): batch b of epoch e is
a pure function of (dataset, seed, e, b), so ``epoch(e, start_batch=k)`` yields exactly the
batches k.. of a full ``epoch(e)`` (exact resume). Evaluation sources keep the order, never
augment and never drop a partial batch.
"""
from __future__ import annotations

import hashlib
import math
import os
from typing import Iterator, Mapping

import numpy as np
import torch

from engine.data.augment import augment_options, is_active
from engine.data.batch_augment import draw_params, flip_crop, to_float
from engine.data.dataset import Dataset
from engine.errors import DatasetError

CUDA_BUDGET_FRACTION = 0.4  # of free GPU memory: the model, activations and optimizer need the rest
RAM_BUDGET_FRACTION = 0.5  # of available RAM


def epoch_seed(seed: int, epoch: int) -> int:
    d = hashlib.blake2b(f"layerstudio-data/{seed}/{epoch}".encode(), digest_size=8).digest()
    return int.from_bytes(d, "little") & ((1 << 63) - 1)


class BatchSource:
    """Iterate with ``epoch(e, start_batch=0)``; yields (x float32 normalized, y int64) on the
    device, x contiguous."""

    def __init__(self, ds: Dataset, split: str, *, batch_size: int, device: str | torch.device, seed: int,
                 train: bool, augment: Mapping | bool | None = None, resident: bool | str | None = None,
                 num_workers: int | None = None, memory_budget: int | None = None):
        if batch_size < 1:
            raise DatasetError(f"batch size must be at least 1, got {batch_size}", key="training.batch_size")
        self.ds, self.split, self.train, self.seed = ds, split, train, seed
        self.device = torch.device(device)
        self.batch_size = batch_size
        x, y = ds.arrays(split)
        self._x_host, self._y_host = x, y
        self.num_samples = len(y)
        self.drop_last = train and self.num_samples > batch_size  # constant batch shapes while training
        self.batches_per_epoch = (self.num_samples // batch_size if self.drop_last
                                  else math.ceil(self.num_samples / batch_size))
        self.opts = augment_options(ds.augment if augment is None or augment is True else augment) \
            if train else augment_options(None)
        if is_active(self.opts) and not ds.is_image:
            raise DatasetError(f"{ds.source} is 1-D signals; augmentation applies to images: turn dataset.augment "
                               f"off", key="dataset.augment")
        self.pad = self.opts["crop_padding"] if train else 0
        self._hw = tuple(ds.sample_shape[1:])
        c = ds.sample_shape[0]
        view = (1, c) + (1,) * (len(ds.sample_shape) - 1)
        mean = torch.tensor(ds.mean, dtype=torch.float32).view(view)
        std = torch.tensor(ds.std, dtype=torch.float32).view(view)
        units = 255.0 if ds.is_image else 1.0
        self._scale = (1 / (std * units)).to(self.device)
        self._shift = (-mean / std).to(self.device)
        self.resident = self._choose_resident(resident, memory_budget)
        if num_workers is None:
            num_workers = int(ds.settings.get("num_workers", 0))
        self.num_workers = num_workers
        self._loader = None
        if self.resident:
            self._x_dev, self._y_dev = self._to_device()

    # -- public ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.batches_per_epoch

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if not 0 <= start_batch <= self.batches_per_epoch:
            raise ValueError(f"start_batch {start_batch} outside 0..{self.batches_per_epoch}")
        order, params = self._plan(epoch)
        if self.resident:
            return self._resident_batches(order, params, start_batch)
        return self._streamed_batches(order, params, start_batch)

    def close(self) -> None:
        """Stop the loader's worker processes (they also stop when this object is collected)."""
        loader, self._loader = self._loader, None
        if loader is not None and getattr(loader, "_iterator", None) is not None:
            loader._iterator._shutdown_workers()

    # -- the plan of one epoch ------------------------------------------------------------
    def _plan(self, epoch: int) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
        if not self.train:
            return None, {}
        gen = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
        order = torch.randperm(self.num_samples, generator=gen)
        params = draw_params(gen, self.num_samples, self.opts)
        return order, params

    def _bounds(self, b: int) -> tuple[int, int]:
        """Epoch positions [a, z) of batch b. Every path slices order and random values with it:
        engine.train.ddp.ShardedBatchSource narrows it to one process's share."""
        a = b * self.batch_size
        return a, min(a + self.batch_size, self.num_samples)

    # -- resident -------------------------------------------------------------------------
    def _choose_resident(self, resident: bool | str | None, budget: int | None) -> bool:
        if resident is None:
            resident = self.ds.settings.get("resident", "auto")
        if isinstance(resident, bool):
            return resident
        if resident != "auto":
            raise DatasetError(f"dataset.resident: expected auto, true or false, got {resident!r}",
                               key="dataset.resident")
        return self._host_bytes() <= (budget if budget is not None else memory_budget(self.device))

    def _host_bytes(self) -> int:
        x = self._x_host
        n, per = len(x), x[0].nbytes if len(x) else 0
        if self.pad:
            c, h, w = x.shape[1:]
            per = c * (h + 2 * self.pad) * (w + 2 * self.pad) * x.itemsize
        return n * per + n * 8

    def _to_device(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self._x_host, self._y_host
        n = len(y)
        shape = tuple(x.shape[1:])
        if self.pad:
            p = self.pad
            shape = (shape[0], shape[1] + 2 * p, shape[2] + 2 * p)
        dtype = torch.uint8 if self.ds.is_image else torch.float32
        dev = torch.zeros((n,) + shape, dtype=dtype, device=self.device) if self.pad else \
            torch.empty((n,) + shape, dtype=dtype, device=self.device)
        # copy in chunks: never a second full copy of the data in host memory
        step = max(1, (64 << 20) // max(1, x[0].nbytes if n else 1))
        for a in range(0, n, step):
            chunk = torch.from_numpy(np.ascontiguousarray(x[a:a + step]))
            if self.device.type == "cuda":
                chunk = chunk.pin_memory()
            target = dev[a:a + step]
            if self.pad:
                p = self.pad
                target = target[:, :, p:-p, p:-p]
            target.copy_(chunk, non_blocking=self.device.type == "cuda")
        yd = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)).to(self.device)
        if self.device.type == "cuda":
            torch.cuda.current_stream(self.device).synchronize()  # pinned chunks are freed after this
        return dev, yd

    def _resident_batches(self, order, params, start_batch):
        dev = self.device
        if order is not None:
            order = order.to(dev, non_blocking=True)
            params = {k: v.to(dev, non_blocking=True) for k, v in params.items()}
        for b in range(start_batch, self.batches_per_epoch):
            a, z = self._bounds(b)
            if order is None:
                xb, yb = self._x_dev[a:z], self._y_dev[a:z]
            else:
                idx = order[a:z]
                xb, yb = self._x_dev.index_select(0, idx), self._y_dev.index_select(0, idx)
            yield self._finish(xb, {k: v[a:z] for k, v in params.items()}), yb

    def _finish(self, xb: torch.Tensor, p: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if not self.ds.is_image:
            return torch.addcmul(self._shift, xb.to(torch.float32), self._scale)
        if self.pad or "flip" in p:
            xb = flip_crop(xb, p, self.pad, self._hw)
        return to_float(xb, p, self._scale, self._shift)

    # -- streamed -------------------------------------------------------------------------
    def _streamed_batches(self, order, params, start_batch):
        batches = [self._batch_indices(order, b) for b in range(start_batch, self.batches_per_epoch)]
        cuda = self.device.type == "cuda"
        if self.num_workers == 0:
            rows = _Rows(self._x_host, self._y_host)
            loader = (_pinned(rows[i]) if cuda else rows[i] for i in batches)
        else:
            loader = self._worker_loader(batches)
        # the epoch's random values go to the device once (a copy per batch from pageable
        # memory would wait for the GPU every step)
        params = {k: v.to(self.device) for k, v in params.items()}
        for b, (xb, yb) in zip(range(start_batch, self.batches_per_epoch), loader):
            a, z = self._bounds(b)
            xb = xb.to(self.device, non_blocking=cuda)  # pinned: asynchronous
            yb = yb.to(self.device, non_blocking=cuda)
            p = {k: v[a:z] for k, v in params.items()}
            if self.pad:
                xb = torch.nn.functional.pad(xb, (self.pad,) * 4)
            yield self._finish(xb, p), yb

    def _batch_indices(self, order, b: int) -> np.ndarray | slice:
        a, z = self._bounds(b)
        if order is None:
            return slice(a, z)
        return order[a:z].numpy()

    def _worker_loader(self, batches: list):
        """One DataLoader with persistent workers; each epoch hands its batch list to the
        sampler (iterated in this process), so workers start once, not every epoch."""
        if self._loader is None:
            from torch.utils.data import DataLoader
            self._sampler = _BatchList()
            self._loader = DataLoader(_Rows(self._x_host, self._y_host), batch_size=None, sampler=self._sampler,
                                      num_workers=self.num_workers, pin_memory=self.device.type == "cuda",
                                      persistent_workers=True, prefetch_factor=4)
        self._sampler.batches = batches
        return iter(self._loader)


class _BatchList(torch.utils.data.Sampler):
    """The row indices of each batch of the current epoch."""

    def __init__(self):
        self.batches: list = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _pinned(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch[0].pin_memory(), batch[1].pin_memory()


class _Rows(torch.utils.data.Dataset):
    """Whole batches from the memory-mapped cache. Pickles as the file name, not the data."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = x, y

    def __getitem__(self, rows) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(rows, slice):
            x, y = self.x[rows], self.y[rows]
        else:
            # read in file order (sequential pages), then put back in the batch's order
            order = np.argsort(rows, kind="stable")
            x = np.empty((len(rows),) + self.x.shape[1:], self.x.dtype)
            x[order] = self.x[rows[order]]
            y = np.asarray(self.y[rows])
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.array(y, np.int64))

    def __len__(self) -> int:
        return len(self.y)

    def __getstate__(self):
        return {"x": _mapped(self.x), "y": _mapped(self.y)}

    def __setstate__(self, state):
        self.x, self.y = (_reopen(state[k]) for k in ("x", "y"))


def _mapped(a: np.ndarray):
    """How to pickle an array: a contiguous slice of a memory map travels as (file, offset)."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if isinstance(root, np.memmap) and getattr(root, "filename", None) and a.flags.c_contiguous:
        # numpy does not update .offset when slicing: derive it from the data pointers
        offset = root.offset + (a.__array_interface__["data"][0] - root.__array_interface__["data"][0])
        return ("memmap", root.filename, offset, a.shape, a.dtype.str)
    return ("array", np.asarray(a))


def _reopen(state):
    if state[0] == "memmap":
        _, name, offset, shape, dtype = state
        return np.memmap(name, dtype=np.dtype(dtype), mode="r", offset=offset, shape=shape)
    return state[1]


def memory_budget(device: torch.device) -> int:
    """Bytes the resident path may use on ``device``. CUDA is only queried for a CUDA device."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * CUDA_BUDGET_FRACTION)
    return int(available_ram() * RAM_BUDGET_FRACTION)


def available_ram() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def make_batch_source(ds: Dataset, split: str, *, batch_size: int, device: str | torch.device, seed: int,
                      train: bool, augment: Mapping | bool | None = None, resident: bool | str | None = None,
                      num_workers: int | None = None, memory_budget: int | None = None) -> BatchSource:
    """``augment``: a mapping {hflip, crop_padding, rotation, scale, color_jitter}, False/{} for
    none, or None for the dataset's own settings (``dataset.augment``); ignored when ``train``
    is false. ``resident``: True/False, or None/"auto" to decide by the memory budget.
    ``num_workers``: None for ``dataset.num_workers``."""
    return BatchSource(ds, split, batch_size=batch_size, device=device, seed=seed, train=train, augment=augment,
                       resident=resident, num_workers=num_workers, memory_budget=memory_budget)
