"""Datasets: built-in generators, image folders, torchvision datasets; the preprocessing
cache; the explorer API of the app.

Everything imported here is numpy + Pillow (the GUI process uses it and never imports
torch). The training loader, which uses torch, is ``engine.data.loader`` (child processes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from engine.data.augment import augment_options, preview as _preview
from engine.data.cache import cache_entries, cache_size, clear_cache, default_cache_dir
from engine.data.config import fit_warning, read_config
from engine.data.dataset import Dataset
from engine.data.describe import DatasetDescription, describe_dataset
from engine.errors import DatasetError

Progress = Callable[[int, int, str], None]


def open_dataset(cfg: Mapping, *, input_shape: tuple[int, ...] | None = None, base_dir: Path | str | None = None,
                 data_root: Path | str | None = None, cache_dir: Path | str | None = None,
                 progress: Progress | None = None) -> Dataset:
    """Open the project's ``dataset`` section: generate, scan/decode or read it once into the
    cache, then memory-map it. ``input_shape`` (the graph Input's) gives the default image
    size and channels. ``progress(done, total, message)`` is called from this thread (total 0:
    not known yet); an exception raised by it cancels the work, and nothing is left in the cache.

    Raises ConfigError (an invalid setting) or DatasetError (data that cannot be used); both
    carry the key of the setting that fixes it.
    """
    dc = read_config(cfg, input_shape, Path(base_dir) if base_dir else None)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    kind = dc.source.kind
    if kind == "builtin":
        from engine.data.builtin import open_builtin
        path, meta = open_builtin(dc, cache, progress)
    elif kind == "folder":
        from engine.data.folder import open_folder
        path, meta = open_folder(dc, cache, progress)
    else:
        from engine.data.tvsets import open_torchvision
        path, meta = open_torchvision(dc, cache, data_root, progress)
    ds = Dataset(path, meta, dc.values, warnings=dc.warnings)
    misfit = fit_warning(ds.source, ds.sample_shape, input_shape) if kind == "builtin" else None
    if misfit and misfit not in ds.warnings:
        ds.warnings.append(misfit)
    return ds


def default_data_root() -> Path:
    """Where torchvision datasets are looked for and downloaded when no data root is set."""
    from engine.data.tvsets import default_data_root as root  # urllib, tarfile: only when needed
    return root()


def augment_preview(ds: Dataset, index: int, augment: Mapping[str, Any] | bool | None, count: int,
                    seed: int) -> list[np.ndarray]:
    """``count`` augmented versions (uint8 [H, W, C]) of training sample ``index``."""
    if not ds.is_image:
        raise DatasetError(f"{ds.source} is 1-D signals; augmentation applies to images", key="dataset.augment")
    img, _ = ds.sample("train", index)
    return _preview(img, augment, count, seed, index)


__all__ = ["Dataset", "DatasetDescription", "DatasetError", "augment_options", "augment_preview", "cache_entries",
           "cache_size", "clear_cache", "default_cache_dir", "default_data_root", "describe_dataset", "open_dataset"]
