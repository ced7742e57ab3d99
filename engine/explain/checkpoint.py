"""Loading a run's weights into the model built from its graph snapshot, with one clear error
when they do not belong together (what classify shows for a mismatched checkpoint).

Reads safetensors files and ``torch.save`` files (``weights_only=True``: no pickle code runs),
either a bare state dict or a dict holding it under "model" or "state_dict"."""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import nn

from engine.build.weights import mismatch, strip_wrappers
from engine.errors import ExplainError
from engine.explain.model_state import unwrap


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise ExplainError(f"checkpoint {name} does not exist", key="checkpoint")
    try:
        if name.endswith(".safetensors"):
            from safetensors.torch import load_file
            state = load_file(name, device="cpu")
        else:
            state = torch.load(name, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt, truncated, or not a checkpoint at all: all mean the same
        raise ExplainError(f"{os.path.basename(name)} is not a readable checkpoint ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''})", key="checkpoint") from e
    for key in ("model", "state_dict"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExplainError(f"{os.path.basename(name)} holds no model weights", key="checkpoint")
    return dict(state)


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor] | str | os.PathLike) -> None:
    """Copy ``state`` (a state dict or a checkpoint file) into ``model``, or raise one
    ``ExplainError`` listing what does not match, naming the first node concerned."""
    if not isinstance(state, Mapping):
        state = read_state_dict(state)
    module = unwrap(model)
    state = strip_wrappers(state)
    problem = mismatch(module, state, "the checkpoint")
    if problem:
        message, node = problem
        raise ExplainError(message, node=node, key="checkpoint")
    module.load_state_dict(state, strict=True)
