"""Early stopping: end the run when the monitored validation metric stops improving."""
from __future__ import annotations

import math

from engine.train.callbacks.base import Callback


class EarlyStopping(Callback):
    state_key = "early_stopping"

    def __init__(self, monitor: str = "val_accuracy", patience: int = 5, min_delta: float = 0.0) -> None:
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.best: float | None = None
        self.bad = 0  # validations in a row without improvement

    def improved(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.monitor == "val_loss":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_validation_end(self, trainer, event) -> None:
        value = event.loss if self.monitor == "val_loss" else event.accuracy
        if self.improved(value):
            self.best, self.bad = value, 0
            return
        self.bad += 1
        if self.bad >= self.patience:
            trainer.log(f"early stopping: {self.monitor} has not improved for {self.bad} validation(s) "
                        f"(best {self.best:.4g})")
            trainer.finish_early = True

    def state_dict(self):
        return {"best": self.best, "bad": self.bad}

    def load_state_dict(self, state):
        self.best, self.bad = state.get("best"), int(state.get("bad", 0))
