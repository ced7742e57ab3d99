"""Whether a state dict belongs to a built module, said in words (export and classify both
load a run's weights into a module built from a graph, and refuse a mismatch the same way)."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def strip_wrappers(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys saved from a DDP or torch.compile wrapper carry a prefix; drop it."""
    return {k.removeprefix("module.").removeprefix("_orig_mod."): v for k, v in state.items()}


def mismatch(module: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> tuple[str, str | None] | None:
    """None when ``state`` loads strictly into ``module``; otherwise (what is wrong, the id of the
    first node concerned — or None when the module has no ``layer_names``)."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if not (missing or unexpected or wrong):
        return None
    problems = []
    if wrong:
        k = wrong[0]
        problems.append(f"{k} has shape {list(state[k].shape)} in {source} and {list(own[k].shape)} in the graph"
                        + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""))
    if missing:
        problems.append(f"{len(missing)} weight(s) of the graph are missing from {source}: {_few(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} weight(s) in {source} have no place in the graph: {_few(unexpected)}")
    attr = (wrong or missing or unexpected)[0].rpartition(".")[0]
    node = next((n for n, name in getattr(module, "layer_names", {}).items() if name == attr), None)
    return f"{source} and the graph do not match: " + "; ".join(problems), node


def _few(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (", …" if len(keys) > n else "")
