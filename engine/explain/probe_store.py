"""Probe results in the run directory's ``probes/``, and the time-lapse reader the app uses.

numpy only (no torch): the GUI process reads these files, for live runs and reopened ones.

Layout, one file per probe round and one for the probe images themselves::

    probes/saliency-images.npz          images uint8 [N, H, W, C], labels, class_names
    probes/saliency-0000001234.npz      step, epoch, time, saliency/gradcam uint8 [N, h, w],
                                        their scales, predicted, confidence, labels, targets

Maps are stored as uint8 (display = value / 255; raw ≈ display * scale): a 2-second probe
interval over a long run makes thousands of files, so each must stay small. Every file is
written to a temporary name and renamed, so a reader never sees half a file."""
from __future__ import annotations

import io
import os
import re
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.explain.probe_result import ProbeResult
from engine.runs.atomic import write_bytes_atomic
from engine.runs.layout import PROBES

PREFIX = "saliency"
IMAGES = f"{PREFIX}-images.npz"
_FRAME = re.compile(rf"^{PREFIX}-(\d+)\.npz$")


@dataclass(frozen=True)
class ProbeFrame:
    step: int
    epoch: int
    time: float
    result: ProbeResult


@dataclass(frozen=True)
class ProbeImages:
    images: np.ndarray          # uint8 [N, H, W, C]
    labels: np.ndarray          # int64 [N]
    class_names: tuple[str, ...]


def _atomic_savez(path: Path, arrays: dict) -> None:
    # no fsync: a probe lost in a power cut is not worth a disk flush every two seconds
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue(), fsync=False)


def _to_u8(maps: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(maps, np.float32) * 255.0), 0, 255).astype(np.uint8)


class ProbeStore:
    """Appends probe rounds to ``run_dir/probes``. Written by rank 0 only (the caller's job).

    ``max_frames`` bounds the time-lapse of a long run while keeping it evenly spaced: when
    the kept frames exceed it, every other one is deleted (counting back from the newest) and
    from then on only every second round is kept, and so on. The newest round is always on
    disk, so a viewer following the directory sees every update."""

    def __init__(self, run_dir: str | os.PathLike, max_frames: int | None = 2000):
        self.dir = Path(run_dir) / PROBES
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_frames = max_frames
        self._kept = sorted(_scan(self.dir))   # frames of the evenly spaced time-lapse
        self._extra: int | None = None          # the newest round, when it is not one of them
        self._every = 1                         # keep one round in this many
        self._since_kept = 0                    # rounds since the last kept one

    def write_images(self, images: np.ndarray, labels: Sequence[int],
                     class_names: Sequence[str] = ()) -> Path:
        """The probe images as shown to the user: uint8 [N, H, W, C] (or [N, H, W] grayscale)."""
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(f"probe images must be uint8 [N, H, W, C], got {images.dtype} {images.shape}")
        if images.ndim == 3:
            images = images[..., None]
        path = self.dir / IMAGES
        _atomic_savez(path, {"images": images, "labels": np.asarray(labels, np.int64),
                             "class_names": np.asarray(list(class_names), dtype=str)})
        return path

    def append(self, result: ProbeResult, step: int, epoch: int, time: float | None = None) -> Path:
        step = int(step)
        path = self._path(step)
        _atomic_savez(path, {
            "step": np.int64(step), "epoch": np.int64(epoch),
            "time": np.float64(_time.time() if time is None else time),
            "saliency": _to_u8(result.saliency), "gradcam": _to_u8(result.gradcam),
            "saliency_scale": np.asarray(result.saliency_scale, np.float32),
            "gradcam_scale": np.asarray(result.gradcam_scale, np.float32),
            "predicted": np.asarray(result.predicted, np.int64),
            "confidence": np.asarray(result.confidence, np.float32),
            "labels": np.asarray(result.labels, np.int64),
            "targets": np.asarray(result.targets, np.int64),
        })
        if self._kept and step <= self._kept[-1]:
            # a resumed run repeating steps: start the spacing afresh from what is on disk
            self._kept, self._extra, self._every, self._since_kept = sorted(_scan(self.dir)), None, 1, 0
            return path
        if self._extra is not None and self._extra != step:
            self._delete(self._extra)
            self._extra = None
        self._since_kept += 1
        if self._since_kept >= self._every:
            self._kept.append(step)
            self._since_kept = 0
            self._thin()
        else:
            self._extra = step
        return path

    def _thin(self) -> None:
        if self.max_frames is None or len(self._kept) <= self.max_frames:
            return
        drop = self._kept[-2::-2]  # every other one, counting back from the newest
        for step in drop:
            self._delete(step)
        self._kept = self._kept[::-1][::2][::-1]
        self._every *= 2

    def _path(self, step: int) -> Path:
        return self.dir / f"{PREFIX}-{step:010d}.npz"

    def _delete(self, step: int) -> None:
        try:
            os.unlink(self._path(step))
        except FileNotFoundError:
            pass


def _scan(directory: Path) -> list[int]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [int(m.group(1)) for m in map(_FRAME.match, names) if m]


class ProbeTimeline:
    """The probe rounds of a run, oldest first: ``steps``, ``frame(i)``, ``images()``.

    Call ``refresh()`` to pick up rounds a live run wrote since; frames deleted by thinning
    in the meantime are skipped."""

    def __init__(self, run_dir: str | os.PathLike):
        self.dir = Path(run_dir) / PROBES
        self.steps: list[int] = []
        self.refresh()

    def refresh(self) -> list[int]:
        """Rescan; returns the steps that are new since the last scan."""
        old = set(self.steps)
        self.steps = sorted(_scan(self.dir))
        return [s for s in self.steps if s not in old]

    def __len__(self) -> int:
        return len(self.steps)

    def frame(self, i: int) -> ProbeFrame:
        """The round at index ``i`` of ``steps`` (negative counts from the end). If the live
        run thinned it away since the last scan, the nearest earlier round still there."""
        step = self.steps[i]
        try:
            return self._load(step)
        except FileNotFoundError:
            self.refresh()
            return self._load(self.steps[self.index_at(step)])

    def _load(self, step: int) -> ProbeFrame:
        with np.load(self.dir / f"{PREFIX}-{step:010d}.npz", allow_pickle=False) as z:
            result = ProbeResult(
                saliency=z["saliency"].astype(np.float32) / 255.0,
                gradcam=z["gradcam"].astype(np.float32) / 255.0,
                saliency_scale=z["saliency_scale"], gradcam_scale=z["gradcam_scale"],
                predicted=z["predicted"], confidence=z["confidence"], labels=z["labels"],
                targets=z["targets"])
            return ProbeFrame(int(z["step"]), int(z["epoch"]), float(z["time"]), result)

    def index_at(self, step: int) -> int:
        """Index of the last round at or before ``step`` (0 when the first is later)."""
        i = int(np.searchsorted(np.asarray(self.steps), step, side="right")) - 1
        return max(0, i)

    def images(self) -> ProbeImages | None:
        path = self.dir / IMAGES
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            return ProbeImages(z["images"], z["labels"], tuple(str(c) for c in z["class_names"]))
