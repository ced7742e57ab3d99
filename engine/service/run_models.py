"""A trained model of a run, as the engine service's requests use it: built from the run's own
graph snapshot (project.json), with the weights of one of its checkpoints, the dataset's
normalization and class names. Cached per (run directory, checkpoint file), so a burst of
requests on the same run builds and loads once; a checkpoint rewritten by a live run (best.pt
after a new best) is noticed by its modification time and loaded again.

    rm = run_model("runs/lenet-…", "best")       # or "last", or a checkpoint file of the run
    rm.model, rm.preprocess, rm.classes, rm.image(payload) …
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from engine.errors import ExplainError, LayerStudioError, RunDirError
from engine.runs.checkpoints import best_checkpoint, latest_checkpoint
from engine.runs.layout import RunDir, open_run

CACHE_SIZE = 4  # models kept; a LeNet is tiny, a ResNet some hundred MB


@dataclass
class RunModel:
    run: RunDir
    checkpoint: Path
    model: nn.Module            # eval mode, on the CPU
    project: Any                # engine.project.Project (the run's snapshot)
    config: dict
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    _dataset: Any = field(default=None, repr=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.project.input_shape() or ())

    @property
    def preprocess(self):
        from engine.explain.preprocess import Preprocess
        return Preprocess(self.input_shape, self.mean, self.std)

    def dataset(self):
        """The run's dataset (opened once: generated data comes from the cache)."""
        if self._dataset is None:
            from engine.data import open_dataset
            self._dataset = open_dataset(self.project.dataset, input_shape=self.input_shape,
                                         base_dir=self.config.get("base_dir"))
        return self._dataset

    def image(self, payload: dict) -> tuple[np.ndarray, int | None]:
        """(normalized float32 [C, H, W], label or None) from ``image_path`` / ``image`` (a path,
        or {"split", "index"}) / ``split`` + ``index`` in the payload."""
        spec = payload.get("image_path", payload.get("image"))
        if spec is None and "index" in payload:
            spec = {"split": payload.get("split", "val"), "index": payload["index"]}
        if isinstance(spec, (str, os.PathLike)):
            return self.preprocess.load(spec), None
        if isinstance(spec, dict) and "index" in spec:
            index = spec["index"]
            if isinstance(index, bool) or not isinstance(index, int):
                raise ExplainError(f"index must be a whole number, got {index!r}", key="index")
            pixels, label = self.dataset().sample(str(spec.get("split", "val")), index)
            return self.preprocess.from_pixels(pixels), label
        raise ExplainError("say which image: image_path, or split and index of a dataset sample", key="image")

    def display(self, x: np.ndarray) -> np.ndarray:
        """Normalized [C, H, W] → uint8 [H, W, C], as the user sees the image."""
        return self.preprocess.to_display(x)


def resolve_checkpoint(run: RunDir, which: str | os.PathLike | None) -> Path:
    which = "best" if which is None else which
    if which == "best":
        path = best_checkpoint(run.checkpoints)
        if path is None:  # no validation yet (or none configured): the latest is the best there is
            latest = latest_checkpoint(run.checkpoints)
            path = latest.path if latest else None
    elif which == "last":
        latest = latest_checkpoint(run.checkpoints)
        path = latest.path if latest else None
    else:
        path = Path(which)
        path = path if path.is_absolute() else run.path / path
        if not path.is_file():
            raise RunDirError(f"{which}: no such checkpoint in {run.path}", key="checkpoint")
    if path is None:
        raise RunDirError(f"{run.path} has no checkpoint yet", key="checkpoint")
    return path


_cache: "OrderedDict[tuple, RunModel]" = OrderedDict()


def run_model(run_dir: str | os.PathLike | None, checkpoint: str | os.PathLike | None = "best") -> RunModel:
    if not run_dir:
        raise RunDirError("say which run (run_dir)", key="run_dir")
    run = open_run(run_dir)
    path = resolve_checkpoint(run, checkpoint)
    try:
        st = path.stat()
    except OSError as e:
        raise RunDirError(f"{path} cannot be read ({e.strerror})", key="checkpoint") from None
    key = (str(run.path.resolve()), str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    rm = _load(run, path)
    _cache[key] = rm
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return rm


def _load(run: RunDir, path: Path) -> RunModel:
    from engine.build import build_module
    from engine.explain.checkpoint import load_weights
    from engine.project.io import from_dict
    try:
        project = from_dict(run.read_json(run.project))
    except LayerStudioError as e:
        raise RunDirError(f"{run.path}: project.json is not a valid project ({e.message})", key="run_dir") from None
    config = run.read_json(run.config) if run.config.is_file() else {}
    model = build_module(project.graph)
    load_weights(model, path)
    model.eval()
    classes = [str(c) for c in config.get("classes") or []]
    norm = config.get("normalization") or {}
    rm = RunModel(run, path, model, project, config, classes, tuple(norm.get("mean") or ()),
                  tuple(norm.get("std") or ()))
    if not rm.mean or not rm.std or not rm.classes:  # a run recorded before these were written
        ds = rm.dataset()
        rm.mean, rm.std = tuple(np.ravel(ds.mean)), tuple(np.ravel(ds.std))
        rm.classes = rm.classes or [str(c) for c in ds.classes]
    return rm


def clear_cache() -> None:
    _cache.clear()

