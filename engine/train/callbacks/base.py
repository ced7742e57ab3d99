"""Callbacks carry everything around the loop (Lightning-style: every hook is a no-op).

Hooks receive the trainer and, where there is one, the typed event of engine.runs.events that
describes what happened, so a callback that streams events just forwards them. A callback
with state that must survive a resume implements ``state_dict``/``load_state_dict``.

``on_batch_end`` runs every step: keep it cheap and never sync with the device there. Only
callbacks that override a hook are called for it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from engine.runs import events as ev

if TYPE_CHECKING:  # pragma: no cover
    from engine.train.loop import Position
    from engine.train.trainer import Trainer


class Callback:
    #: key of this callback's state in checkpoints (None: stateless)
    state_key: str | None = None

    def on_fit_start(self, trainer: "Trainer", event: ev.Started) -> None: ...
    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_batch_end(self, trainer: "Trainer", position: "Position") -> None: ...
    def on_metrics(self, trainer: "Trainer", event: ev.Metrics) -> None: ...
    def on_train_epoch_end(self, trainer: "Trainer", event: ev.EpochEnd) -> None: ...
    def on_validation_start(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_validation_batch(self, trainer: "Trainer", x, y, logits) -> None:
        """Each validation batch with its logits, on the device (inference mode): keep what
        is needed there, never read it on the host here (that would sync every batch)."""
    def on_validation_end(self, trainer: "Trainer", event: ev.Validation) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_checkpoint(self, trainer: "Trainer", event: ev.CheckpointSaved) -> None: ...
    def on_state(self, trainer: "Trainer", event: ev.StateChanged) -> None: ...
    def on_log(self, trainer: "Trainer", event: ev.Log) -> None: ...
    def on_stop(self, trainer: "Trainer", reason: str) -> None: ...
    def on_failure(self, trainer: "Trainer", event: ev.Error) -> None: ...
    def on_fit_end(self, trainer: "Trainer", event: ev.Finished) -> None: ...
    def on_event(self, trainer: "Trainer", event: ev.Event) -> None:
        """Any other event (probes' images and the like, sent with ``trainer.emit``)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls a hook on every callback that overrides it, in order."""

    def __init__(self, callbacks: Iterable[Callback] = ()) -> None:
        self.callbacks: list[Callback] = list(callbacks)
        self._by_hook: dict[str, list] = {}
        self._index()

    def _index(self) -> None:
        self._by_hook = {h: [getattr(c, h) for c in self.callbacks
                             if getattr(type(c), h, None) is not getattr(Callback, h)] for h in HOOKS}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        self._index()

    def bound(self, hook: str) -> list:
        return self._by_hook[hook]

    def call(self, hook: str, *args) -> None:
        for fn in self._by_hook[hook]:
            fn(*args)

    def state_dict(self) -> dict[str, Any]:
        return {c.state_key: c.state_dict() for c in self.callbacks if c.state_key}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for c in self.callbacks:
            if c.state_key and c.state_key in state:
                c.load_state_dict(state[c.state_key])
