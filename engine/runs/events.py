"""The typed events of a run: what the trainer reports, whoever listens (the CLI's progress
bar, the engine worker's pipe to the app, tests). Plain data: numbers, text, numpy arrays.

Every event is a dataclass with a ``type`` tag; ``to_dict``/``from_dict`` give the form the
wire codec (engine.service.wire) carries. No torch: the app imports this module.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

EVENT_TYPES: dict[str, type["Event"]] = {}


class Event:
    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.type:
            EVENT_TYPES[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        d["type"] = self.type
        return d


def event_from_dict(d: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(d.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown event type {d.get('type')!r}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Started(Event):
    """The run is set up and about to take its first step."""
    type: ClassVar[str] = "started"
    run_dir: str | None
    epochs: int
    batches_per_epoch: int
    train_samples: int
    val_samples: int
    classes: list[str]
    device: str
    params: int
    start_epoch: int  # 1-based epoch the run starts (or resumes) in
    start_step: int  # global step already done (0 for a new run)
    pid: int


@dataclass
class StateChanged(Event):
    """running, paused, stopping (a stop was asked for: checkpointing, then finished)."""
    type: ClassVar[str] = "state"
    state: str


@dataclass
class Metrics(Event):
    """Per-step values of the steps since the last flush (a few flushes per second)."""
    type: ClassVar[str] = "metrics"
    epoch: int
    step: np.ndarray  # int64, global optimizer step (1-based)
    loss: np.ndarray  # float32
    accuracy: np.ndarray  # float32, 0..1
    lr: np.ndarray  # float64
    time: np.ndarray  # float64, Unix seconds
    images_per_s: float
    gpu_mem: int | None = None


@dataclass
class EpochEnd(Event):
    """Training part of an epoch done (validation, if due, follows)."""
    type: ClassVar[str] = "epoch_end"
    epoch: int
    epochs: int
    step: int
    loss: float
    accuracy: float
    images_per_s: float
    seconds: float
    lr: float


@dataclass
class Validation(Event):
    type: ClassVar[str] = "validation"
    epoch: int
    step: int
    loss: float
    accuracy: float
    confusion: np.ndarray  # int64 [classes, classes]: row = true class, column = predicted
    classes: list[str] = field(default_factory=list)


@dataclass
class CheckpointSaved(Event):
    type: ClassVar[str] = "checkpoint"
    path: str
    epoch: int
    step: int
    best: bool


@dataclass
class Log(Event):
    type: ClassVar[str] = "log"
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass
class Error(Event):
    """A classified failure (engine.runs.failures.Failure as a dict)."""
    type: ClassVar[str] = "error"
    failure: dict[str, Any]


@dataclass
class Finished(Event):
    """The last event of a run. ``state`` is one of engine.runs.status.STATES."""
    type: ClassVar[str] = "finished"
    state: str
    epoch: int
    step: int
    run_dir: str | None = None
    checkpoint: str | None = None  # the last good checkpoint (resume from it)
    best: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    seconds: float = 0.0
