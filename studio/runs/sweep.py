"""A sweep, as in DIGITS: comma-separated learning rates and batch sizes, one run per pair."""
from __future__ import annotations

import copy
import itertools
from typing import Iterable

from engine.errors import ConfigError


def parse_list(text: str, kind: type, key: str) -> list:
    """"0.1, 0.01 ,0.001" → [0.1, 0.01, 0.001]; empty → []; a bad item is a ConfigError."""
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = kind(float(part)) if kind is int and float(part).is_integer() else kind(part)
        except ValueError:
            raise ConfigError(f"{part!r} is not a {'number' if kind is float else 'whole number'}",
                              key=key) from None
        if value <= 0:
            raise ConfigError(f"{part} must be greater than 0", key=key)
        if value not in out:
            out.append(value)
    return out


def sweep_projects(project: dict, lrs: Iterable[float], batch_sizes: Iterable[int]) -> list[tuple[str, dict]]:
    """(run name, project) for every combination; an empty list keeps the project's own value."""
    lrs, batch_sizes = list(lrs), list(batch_sizes)
    base = project.get("name") or "run"
    out = []
    for lr, bs in itertools.product(lrs or [None], batch_sizes or [None]):
        p = copy.deepcopy(project)
        training = p.setdefault("training", {})
        tags = []
        if lr is not None:
            training.setdefault("optimizer", {})["lr"] = lr
            tags.append(f"lr{lr:g}")
        if bs is not None:
            training["batch_size"] = bs
            tags.append(f"bs{bs}")
        out.append(("-".join([base, *tags]), p))
    return out
