"""Open a cache entry, or build it once: the common tail of every source (split order,
statistics, metadata, atomic commit)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from engine.data.cache import EntryWriter, entry_path, read_meta, touch
from engine.data.stats import channel_stats

Progress = Callable[[int, int, str], None]


def open_or_build(cache_dir: Path, kind: str, key: str, build: Callable[[EntryWriter], dict]) -> tuple[Path, dict]:
    path = entry_path(cache_dir, kind, key)
    meta = read_meta(path)
    if meta is not None:
        touch(path)
        return path, meta
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    writer = EntryWriter(cache_dir, kind, key)
    try:
        meta = build(writer)
        path = writer.commit(meta)
    except BaseException:
        writer.abort()
        raise
    return path, read_meta(path) or meta


def split_ranges(sizes: Sequence[tuple[str, int]]) -> dict[str, list[int]]:
    out, start = {}, 0
    for name, n in sizes:
        out[name] = [start, start + n]
        start += n
    return out


def write_arrays(writer: EntryWriter, parts: Sequence[tuple[str, np.ndarray, np.ndarray]], *,
                 image: bool) -> dict:
    """Write in-memory splits [(name, x, y)] in order; returns the meta fields they define."""
    total = sum(len(y) for _, _, y in parts)
    shape = tuple(parts[0][1].shape[1:])
    x_out = writer.array("x", (total,) + shape, parts[0][1].dtype)
    y_out = writer.array("y", (total,), np.int64)
    start = 0
    for _, x, y in parts:
        x_out[start:start + len(y)] = x
        y_out[start:start + len(y)] = y
        start += len(y)
    ranges = split_ranges([(name, len(y)) for name, _, y in parts])
    meta = finish(writer, x_out, ranges, image=image)
    x_out.flush()
    y_out.flush()
    return meta


def finish(writer: EntryWriter, x: np.ndarray, ranges: dict[str, list[int]], *, image: bool) -> dict:
    """Statistics of the train split, the mean sample, and the shape/range fields of meta."""
    a, b = ranges["train"]
    mean, std, mean_sample = channel_stats(x[a:b], scale=255.0 if image else 1.0)
    writer.save("mean", mean_sample)
    return {"splits": ranges, "sample_shape": list(x.shape[1:]), "mean": list(mean), "std": list(std),
            "kind": "image" if image else "signal"}
