"""The saliency history of one run as the Saliency dock replays it: frames that arrived live
(kept in memory) merged with the rounds the run saved in ``probes/`` (read on demand).

No Qt and no torch: the dock calls ``scan``/``load`` on a worker thread and the rest on the
GUI thread. A live run's newest frames are always in memory, so following a run never reads
the disk; scrubbing back to an older round reads its small ``.npz`` file.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.explain.probe_store import ProbeFrame, ProbeImages, ProbeTimeline

KEEP = 256  # live frames held in memory (8 maps of ≤ 64² each: ~8 MB at most)


@dataclass(frozen=True)
class SaliencyFrame:
    """One probe round: maps in [0, 1] (each by its own maximum), per probe."""
    step: int
    epoch: int
    saliency: np.ndarray            # float32 [N, h, w]
    gradcam: np.ndarray | None      # float32 [N, h, w]; None without a 2-D convolution
    pred: np.ndarray                # int64 [N]
    confidence: np.ndarray          # float32 [N]
    label: np.ndarray               # int64 [N]

    @classmethod
    def from_event(cls, e) -> "SaliencyFrame":
        """From an ``engine.runs.events.Saliency``."""
        gradcam = None if e.gradcam is None else np.asarray(e.gradcam, np.float32)
        return cls(int(e.step), int(e.epoch), np.asarray(e.saliency, np.float32), gradcam,
                   np.asarray(e.pred, np.int64), np.asarray(e.confidence, np.float32),
                   np.asarray(e.label, np.int64))

    @classmethod
    def from_probe(cls, f: ProbeFrame) -> "SaliencyFrame":
        """From a round saved in ``probes/`` (``ProbeTimeline.frame``)."""
        r = f.result
        gradcam = np.asarray(r.gradcam, np.float32)
        if gradcam.size == 0 or not np.any(np.asarray(r.gradcam_scale)):
            gradcam = None  # written without a Grad-CAM layer: all zeros
        return cls(f.step, f.epoch, np.asarray(r.saliency, np.float32), gradcam,
                   np.asarray(r.predicted, np.int64), np.asarray(r.confidence, np.float32),
                   np.asarray(r.labels, np.int64))


@dataclass(frozen=True)
class ProbeSet:
    """The probe images as the user sees them."""
    images: np.ndarray              # uint8 [N, H, W, C]
    labels: np.ndarray              # int64 [N]
    classes: tuple[str, ...]

    @classmethod
    def from_event(cls, e) -> "ProbeSet":
        return cls(np.asarray(e.images, np.uint8), np.asarray(e.labels, np.int64), tuple(e.classes))

    @classmethod
    def from_store(cls, p: ProbeImages) -> "ProbeSet":
        return cls(np.asarray(p.images, np.uint8), np.asarray(p.labels, np.int64), tuple(p.class_names))


@dataclass(frozen=True)
class DiskState:
    """What a scan of ``probes/`` found (built on a worker thread)."""
    steps: list[int]
    probe_set: ProbeSet | None
    newest: SaliencyFrame | None


class SaliencyHistory:
    """Steps of one run, oldest first, and the frames behind them."""

    def __init__(self, run_dir: str | os.PathLike | None, keep: int = KEEP) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.keep = keep
        self._memory: OrderedDict[int, SaliencyFrame] = OrderedDict()
        self._disk: list[int] = []
        self.steps: list[int] = []
        self._timeline: ProbeTimeline | None = None

    def __len__(self) -> int:
        return len(self.steps)

    # -- GUI thread ---------------------------------------------------------------------
    def add(self, frame: SaliencyFrame) -> int:
        """A live frame; returns its index in ``steps``."""
        self._memory[frame.step] = frame
        self._memory.move_to_end(frame.step)
        while len(self._memory) > self.keep:
            self._memory.popitem(last=False)  # still on disk (the store keeps the time-lapse)
        self._merge()
        return self.steps.index(frame.step)

    def merge_disk(self, steps: list[int]) -> None:
        self._disk = list(steps)
        self._merge()

    def _merge(self) -> None:
        self.steps = sorted(set(self._disk) | set(self._memory))

    def cached(self, index: int) -> SaliencyFrame | None:
        return self._memory.get(self.steps[index]) if 0 <= index < len(self.steps) else None

    def step(self, index: int) -> int:
        return self.steps[index]

    # -- worker thread ------------------------------------------------------------------
    def _timeline_(self) -> ProbeTimeline | None:
        if self.run_dir is None:
            return None
        if self._timeline is None:
            self._timeline = ProbeTimeline(self.run_dir)
        return self._timeline

    def scan(self, with_newest: bool = True) -> DiskState:
        """List the rounds on disk (and read the probe images and the newest round)."""
        timeline = self._timeline_()
        if timeline is None:
            return DiskState([], None, None)
        timeline.refresh()
        images = timeline.images()
        newest = None
        if with_newest and len(timeline):
            try:
                newest = SaliencyFrame.from_probe(timeline.frame(-1))
            except (OSError, ValueError, KeyError):
                newest = None  # being replaced right now: the next scan reads it
        return DiskState(list(timeline.steps), ProbeSet.from_store(images) if images else None, newest)

    def load(self, step: int) -> SaliencyFrame | None:
        """The saved round at ``step`` (or the nearest earlier one still on disk)."""
        timeline = self._timeline_()
        if timeline is None or not len(timeline):
            return None
        if step not in timeline.steps:
            timeline.refresh()
            if not len(timeline):
                return None
        return SaliencyFrame.from_probe(timeline.frame(timeline.index_at(step)))
