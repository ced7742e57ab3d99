"""``builtin:shapes`` and ``builtin:waves``: generated offline, split, cached."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data import shapes, waves
from engine.data.cache import cache_key
from engine.data.config import DataConfig
from engine.data.split import limit_classes, remap_labels, stratified_split
from engine.data.store import Progress, open_or_build, write_arrays
from engine.errors import DatasetError


def builtin_shape(dc: DataConfig) -> tuple[int, ...]:
    if dc.source.name == "waves":
        return waves.NATIVE_SHAPE
    c, h, w = shapes.NATIVE_SHAPE
    return (dc.channels or c, *(dc.size or (h, w)))


def builtin_classes(name: str) -> tuple[str, ...]:
    return waves.CLASSES if name == "waves" else shapes.CLASSES


def open_builtin(dc: DataConfig, cache_dir: Path, progress: Progress | None) -> tuple[Path, dict]:
    name, v = dc.source.name, dc.values
    shape = builtin_shape(dc)
    version = waves.VERSION if name == "waves" else shapes.VERSION
    split_opts = _split_options(dc)
    key = cache_key("builtin", name, version, v["size"], v["seed"], shape, split_opts)

    def build(writer) -> dict:
        if progress:
            progress(0, 1, f"Generating {dc.source.text} ({v['size']:,} samples)")
        if name == "waves":
            x, y = waves.generate_waves(v["size"], v["seed"], shape[1])
        else:
            x, y = shapes.generate_shapes(v["size"], v["seed"], shape[1:], shape[0])
        classes = list(builtin_classes(name))
        parts, classes, warnings = split_in_memory(x, y, classes, dc)
        meta = write_arrays(writer, parts, image=name != "waves")
        if progress:
            progress(1, 1, "Generated")
        return dict(meta, source=dc.source.text, classes=classes, warnings=warnings, skipped=[])

    return open_or_build(cache_dir, "builtin", key, build)


def _split_options(dc: DataConfig) -> list:
    v = dc.values
    return [v["val_fraction"], v["test_fraction"], v["min_per_class"], v["max_per_class"], v["seed"]]


def split_in_memory(x: np.ndarray, y: np.ndarray, classes: list[str], dc: DataConfig, *, with_test: bool = True):
    """Class limits + stratified split of in-memory arrays -> ([(split, x, y)], classes, warnings)."""
    v = dc.values
    keep, kept, warnings = limit_classes(y, classes, min_per_class=v["min_per_class"],
                                         max_per_class=v["max_per_class"], seed=v["seed"])
    if len(kept) < 2:
        raise DatasetError(f"dataset.min_per_class: only {len(kept)} class(es) have at least "
                           f"{v['min_per_class']} samples; a classifier needs two or more",
                           key="dataset.min_per_class")
    x, y = x[keep], remap_labels(y[keep], classes, kept)
    fractions = [v["val_fraction"]] + ([v["test_fraction"]] if with_test and v["test_fraction"] > 0 else [])
    idx = stratified_split(y, fractions, v["seed"])
    names = ["train", "val", "test"][:len(idx)]
    return [(n, x[i], y[i]) for n, i in zip(names, idx)], kept, warnings
