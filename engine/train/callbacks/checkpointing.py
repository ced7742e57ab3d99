"""Checkpoints: every ``checkpoint.every`` epochs, at the last epoch, on a new best, and on a
stop; the best one is kept as ``best.pt`` and only the last ``checkpoint.keep_last`` others."""
from __future__ import annotations

import math
from pathlib import Path

from engine.runs.checkpoints import BEST, checkpoint_name, prune
from engine.train.callbacks.base import Callback
from engine.train.checkpoint import link_or_copy


class Checkpointing(Callback):
    state_key = "checkpointing"

    def __init__(self, folder: str | Path, *, keep_last: int = 2, every: int = 1, monitor: str = "val_accuracy") -> None:
        self.folder = Path(folder)
        self.keep_last, self.every, self.monitor = keep_last, every, monitor
        self.best: dict | None = None  # {"metric", "value", "epoch", "step"}
        self._new_best = False
        self._saved_step: int | None = None  # step of the last save (do not save twice)

    def _better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best["value"] if self.monitor == "val_loss" else value > self.best["value"]

    def on_validation_end(self, trainer, event) -> None:
        value = event.loss if self.monitor == "val_loss" else event.accuracy
        if self._better(value):
            self.best = {"metric": self.monitor, "value": value, "epoch": event.epoch, "step": event.step}
            self._new_best = True
            trainer.best = dict(self.best)

    def on_epoch_end(self, trainer, epoch: int) -> None:
        if epoch % self.every == 0 or epoch >= trainer.epochs or self._new_best or trainer.finish_early \
                or trainer.control.stop_reason:
            self.save(trainer)

    def on_stop(self, trainer, reason: str) -> None:
        self.save(trainer)

    def save(self, trainer) -> None:
        pos = trainer.position
        if self._saved_step == pos.step and not self._new_best:
            return
        epoch = pos.epoch if pos.batch == 0 else pos.epoch + 1  # 1-based epoch of the last step done
        path = self.folder / checkpoint_name(epoch, pos.step)
        best = self._new_best
        self._new_best = False
        if best:
            self.best["path"] = str(self.folder / BEST)
        trainer.write_checkpoint(path, best=best, finalize=lambda: self._finalize(path, best))
        self._saved_step = pos.step

    def _finalize(self, path: Path, best: bool) -> None:
        """After the numbered file is safely written: best.pt, then retention."""
        if best:
            link_or_copy(path, self.folder / BEST)
        prune(self.folder, self.keep_last, protect=path)

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state.get("best")
