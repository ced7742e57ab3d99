"""Loading a run's weights into the model built from its graph snapshot, with one clear error
when they do not belong together (what classify shows for a mismatched checkpoint).

Reads safetensors files and ``torch.save`` files (``weights_only=True``: no pickle code runs),
either a bare state dict or a dict holding it under "model" or "state_dict"."""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import nn

from engine.errors import ExplainError
from engine.explain.layers import node_id_of
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
    # DDP/compile wrappers saved as-is prefix every key; accept those too
    state = {k.removeprefix("module.").removeprefix("_orig_mod."): v for k, v in state.items()}
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        problems = []
        if wrong:
            k = wrong[0]
            problems.append(f"{k} has shape {list(state[k].shape)} in the checkpoint and "
                            f"{list(own[k].shape)} in the graph"
                            + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""))
        if missing:
            problems.append(f"{len(missing)} weight(s) missing from the checkpoint: {_few(missing)}")
        if unexpected:
            problems.append(f"{len(unexpected)} weight(s) the graph has no place for: {_few(unexpected)}")
        first = (wrong or missing or unexpected)[0]
        raise ExplainError("the checkpoint does not match the graph: " + "; ".join(problems),
                           node=node_id_of(module, first.rpartition(".")[0]), key="checkpoint")
    module.load_state_dict(state, strict=True)


def _few(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (", …" if len(keys) > n else "")
