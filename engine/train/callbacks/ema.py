"""Updates the weights' moving average (engine.train.ema) after every optimizer step."""
from __future__ import annotations

from engine.train.callbacks.base import Callback
from engine.train.ema import EMA


class EMAUpdate(Callback):
    def __init__(self, ema: EMA) -> None:
        self.ema = ema

    def on_batch_end(self, trainer, position) -> None:
        self.ema.update()
