"""Checkpoint files: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors, numbers, text and lists (no pickled objects):

    format, version        "layerstudio-checkpoint", 1
    model                  the model's state dict (keys = submodule names, e.g. "conv1.weight")
    optimizer, scheduler   their state dicts
    rng                    Python, numpy, torch and CUDA generator states (engine.train.rng)
    position               {"epoch", "batch", "step"}: where training resumes (see loop.Position)
    epoch_totals           running loss/accuracy sums of the epoch in progress (a mid-epoch stop)
    callbacks              each stateful callback's state (best value, early-stopping counter)
    validated              whether the epoch at ``position`` was already validated
    meta                   classes, torch version, time
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from engine.errors import RunDirError
from engine.runs.atomic import atomic_file, fsync_dir, temp_path_for

FORMAT = "layerstudio-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Temp file in the same folder, fsync, ``os.replace``: a reader sees the old file or the new."""
    path = Path(path)
    with atomic_file(path) as f:
        torch.save({"format": FORMAT, "version": VERSION, **state}, f)
    fsync_dir(path.parent)


def link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Make ``dst`` the same checkpoint as ``src``, atomically (a hard link, or a copy where the
    file system has none)."""
    src, dst = Path(src), Path(dst)
    fd, tmp = temp_path_for(dst)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            with open(src, "rb") as fi, open(tmp, "wb") as fo:
                while chunk := fi.read(1 << 20):
                    fo.write(chunk)
                fo.flush()
                os.fsync(fo.fileno())
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise RunDirError(f"{path}: no such checkpoint", key="checkpoint") from None
    except Exception as e:  # a truncated or foreign file: unpickling errors of every kind
        raise RunDirError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e})", key="checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise RunDirError(f"{path} is not a LayerStudio checkpoint", key="checkpoint")
    if state.get("version", 0) > VERSION:
        raise RunDirError(f"{path} was written by a newer LayerStudio (checkpoint version {state.get('version')})",
                          key="checkpoint")
    return state
