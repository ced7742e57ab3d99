"""Event streaming: every hook's event goes to a sink (the CLI's progress bar, the worker's
pipe to the app, a test's list). The sink must not block for long: it runs on the loop."""
from __future__ import annotations

from typing import Callable

from engine.runs import events as ev
from engine.train.callbacks.base import Callback

Sink = Callable[[ev.Event], None]


class EventStream(Callback):
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def on_fit_start(self, trainer, event): self.sink(event)
    def on_metrics(self, trainer, event): self.sink(event)
    def on_train_epoch_end(self, trainer, event): self.sink(event)
    def on_validation_end(self, trainer, event): self.sink(event)
    def on_checkpoint(self, trainer, event): self.sink(event)
    def on_state(self, trainer, event): self.sink(event)
    def on_log(self, trainer, event): self.sink(event)
    def on_failure(self, trainer, event): self.sink(event)
    def on_fit_end(self, trainer, event): self.sink(event)
    def on_event(self, trainer, event): self.sink(event)
