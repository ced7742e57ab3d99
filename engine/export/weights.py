"""Weights for an export: a run's checkpoint (best or last), checked against the graph.

A checkpoint's ``model`` entry is the state dict of ``engine.build.build_module`` (keys =
``safe_names`` of node ids), so it loads into both the built module and the exported class.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import nn

from engine.build.weights import mismatch, strip_wrappers
from engine.errors import ExportError, RunDirError
from engine.runs import open_run
from engine.runs.checkpoints import best_checkpoint, latest_checkpoint
from engine.train.checkpoint import load_checkpoint

CHECKPOINTS = ("best", "last")


def run_weights(run_dir: str | os.PathLike, which: str = "best") -> dict[str, torch.Tensor]:
    """The model state dict of ``run_dir``'s best or last checkpoint (``RunDirError`` if none)."""
    if which not in CHECKPOINTS:
        raise RunDirError(f"--checkpoint must be best or last, got {which!r}", key="checkpoint")
    run = open_run(run_dir)
    path = best_checkpoint(run.checkpoints) if which == "best" else None
    if path is None:
        last = latest_checkpoint(run.checkpoints)
        if which == "best" and last is not None:
            raise RunDirError(f"{run.path} has no best checkpoint yet (use --checkpoint last)", key="checkpoint")
        path = last.path if last else None
    if path is None:
        raise RunDirError(f"{run.path} has no checkpoint yet", key="checkpoint")
    state = load_checkpoint(path).get("model")
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise RunDirError(f"{path.name} holds no model weights", key="checkpoint")
    return strip_wrappers(state)


def load_matching(module: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Copy ``state`` into ``module`` or raise one ``ExportError`` saying what does not match."""
    problem = mismatch(module, state, f"the weights of {source}")
    if problem:
        raise ExportError(problem[0], node=problem[1], key="weights")
    module.load_state_dict(state, strict=True)


def tensors_only(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A plain dict of detached CPU tensors: what ``torch.load(weights_only=True)`` reads back."""
    return {k: v.detach().to("cpu").clone() for k, v in state.items()}
