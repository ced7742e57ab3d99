"""Compare an exported artefact's outputs with the engine's module on fresh inputs."""
from __future__ import annotations

import numpy as np
import torch

from engine.errors import ExportError


def check_close(what: str, expected: torch.Tensor, actual, atol: float) -> float:
    exp = expected.detach().cpu().numpy()
    act = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    if exp.shape != act.shape:
        raise ExportError(f"{what}: the exported model gives shape {list(act.shape)}, the engine's "
                          f"{list(exp.shape)}")
    diff = float(np.max(np.abs(exp - act))) if exp.size else 0.0
    if not np.isfinite(diff) or diff > atol:
        raise ExportError(f"{what}: the exported model's outputs differ from the engine's by {diff:.3g} "
                          f"(tolerance {atol:g})")
    return diff
