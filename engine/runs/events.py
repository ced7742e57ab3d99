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


# -- live probes (engine.train.callbacks: filters, feature_maps, layer_health, evaluation,
# saliency). Sent every few seconds of training (``training.probes.period_s``) or after each
# validation, and kept in the run's probes/ (engine.runs.probes reads them back). Arrays are
# small and downscaled: the app draws them as they are.

@dataclass
class Filters(Event):
    """One convolution's weights, one event per convolution per probe round."""
    type: ClassVar[str] = "filters"
    epoch: int
    step: int
    layer: str  # node id
    weights: np.ndarray  # float32 [Cout, Cin, kh, kw] (Conv1d: [Cout, Cin, k]), at most 64 x 64 channels
    truncated: bool  # True when channels were cut to 64
    mean: float  # of all the layer's weights (not only the ones sent)
    std: float
    hist_counts: np.ndarray  # int64 [32]
    hist_edges: np.ndarray  # float32 [33]


@dataclass
class FeatureMaps(Event):
    """A layer's activations for one probe image."""
    type: ClassVar[str] = "feature_maps"
    epoch: int
    step: int
    layer: str  # node id
    image_index: int  # into the probe set (ProbeImages)
    image: np.ndarray  # uint8 [H, W, C]: the input as the user sees it (not normalized)
    maps: np.ndarray  # float32 [C, h, w]: each side downscaled to <= 64, C capped at 64
    shape: list[int]  # the layer's true output shape (without the batch)


@dataclass
class LayerHealth(Event):
    """Per node: gradient and weight norms, update/weight ratio, dead ReLU units; NaN where a
    value does not apply (no parameters, no gradient, not a ReLU-family node)."""
    type: ClassVar[str] = "health"
    epoch: int
    step: int
    nodes: list[str]
    grad_norm: np.ndarray  # float32 [n]
    weight_norm: np.ndarray  # float32 [n]
    update_ratio: np.ndarray  # float32 [n]: ||Δw|| / ||w|| over the last optimizer step
    dead_fraction: np.ndarray  # float32 [n]: fraction of units never positive over the probe batch
    flags: dict[str, str] = field(default_factory=dict)  # node id -> "vanishing" | "exploding"


@dataclass
class Evaluation(Event):
    """After each validation: the confusion matrix and galleries of confident predictions.
    A gallery is {"images": uint8 [n, H, W, C], "true": int64 [n], "pred": int64 [n],
    "prob": float32 [n]}, n <= 16, most confident first."""
    type: ClassVar[str] = "evaluation"
    epoch: int
    step: int
    classes: list[str]
    confusion: np.ndarray  # int64 [K, K]: row = true class, column = predicted
    per_class_accuracy: np.ndarray  # float32 [K] (NaN for a class without validation samples)
    confident_correct: dict[str, np.ndarray]
    confident_wrong: dict[str, np.ndarray]


@dataclass
class Saliency(Event):
    """Saliency and Grad-CAM of the probe images (maps in [0, 1], each by its own maximum)."""
    type: ClassVar[str] = "saliency"
    epoch: int
    step: int
    saliency: np.ndarray  # float32 [N, h, w]
    gradcam: np.ndarray | None  # float32 [N, h, w]; None when the network has no 2-D convolution
    pred: np.ndarray  # int64 [N]
    confidence: np.ndarray  # float32 [N]
    label: np.ndarray  # int64 [N]
    layer: str | None = None  # the Grad-CAM layer (node id)


@dataclass
class ProbeImages(Event):
    """The probe set, once per run (before the first probe event)."""
    type: ClassVar[str] = "probe_images"
    images: np.ndarray  # uint8 [N, H, W, C]
    labels: np.ndarray  # int64 [N]
    classes: list[str]
    indices: list[int] = field(default_factory=list)  # positions in the validation split
