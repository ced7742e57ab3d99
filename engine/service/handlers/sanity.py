"""The sanity tools as engine-service requests (engine.train.sanity).

``overfit_batch`` {"project": <project dict>, "steps": 200, "project_path": optional} →
{"losses": float32 [steps], "final_loss", "final_accuracy", "floor", "batch_size", "learned",
"seconds", "message"}: can the model drive one batch's loss near zero?

``gradcheck`` {"project": <project dict>} → {"ok", "message", "tensors", "elements",
"seconds", "details"}: backward against finite differences in float64 on a tiny input.
"""
from __future__ import annotations

from typing import Any

from engine.errors import ConfigError


def _steps(payload: dict[str, Any]) -> int:
    steps = payload.get("steps", 200)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise ConfigError(f"steps: expected a whole number, got {steps!r:.40}", key="steps")
    return steps


def overfit_batch(payload: dict[str, Any]) -> dict[str, Any]:
    from engine.project.io import from_dict
    from engine.train.sanity import overfit_batch as run

    return run(from_dict(payload["project"]), _steps(payload), project_path=payload.get("project_path")).as_dict()


def gradcheck(payload: dict[str, Any]) -> dict[str, Any]:
    from engine.project.io import from_dict
    from engine.train.sanity import gradient_check

    return gradient_check(from_dict(payload["project"])).as_dict()
