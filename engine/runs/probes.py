"""The probe history of a run in its ``probes/`` folder: written by the training process (rank
0), read back by the app for a live run or a reopened one. numpy only, no torch.

    probes/filters-0000001234.npz      one probe round: every convolution's weights and statistics
    probes/features-0000001234.npz     one layer's activations for one probe image
    probes/evaluation-0000001234.npz   one validation: confusion matrix, per-class accuracy, galleries
    probes/health.jsonl                one line per probe round: per-node norms, ratios, dead units, flags
    probes/saliency-images.npz         the probe images (shared with engine.explain.probe_store,
    probes/saliency-0000001234.npz     which writes and reads the saliency rounds)

Frames are written atomically (temp file + rename). Long runs are thinned as ProbeStore thins
saliency: when a series holds more frames than it may, every other one is deleted and from
then on only every second round is kept, so the time-lapse stays evenly spaced and the newest
round is always on disk. The readers return the same event objects the live stream carries
(engine.runs.events), so a dock draws a reopened run exactly as a live one.

    history = ProbeHistory(run_dir)
    history.refresh()                       # pick up what a live run wrote since
    history.filter_steps, history.filters(-1)           # list[Filters] of the newest round
    history.feature_steps, history.feature_maps(i)      # FeatureMaps (with its image)
    history.health()                                    # HealthHistory: arrays over time
    history.evaluation_steps, history.evaluation(i)     # Evaluation
    history.probe_images()                              # ProbeImages or None
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from engine.runs import events as ev
from engine.runs.atomic import write_bytes_atomic
from engine.runs.layout import PROBES
from engine.runs.metrics import MetricsReader, keep_rows

FILTERS, FEATURES, EVALUATION, SALIENCY = "filters", "features", "evaluation", "saliency"
HEALTH = "health.jsonl"
IMAGES = "saliency-images.npz"  # the name engine.explain.probe_store gives the probe images
SERIES = (FILTERS, FEATURES, EVALUATION, SALIENCY)
SERIES_BYTES = 256 << 20  # disk a thinned series may use (a big network's filters are large)
MAX_FRAMES = 2000
MIN_FRAMES = 32


def frame_name(prefix: str, step: int) -> str:
    return f"{prefix}-{int(step):010d}.npz"


def scan(folder: Path, prefix: str) -> list[int]:
    """Steps of the frames of one series, sorted."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)\.npz$")
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for m in map(pattern.match, names) if m)


def save_npz(path: Path, arrays: dict) -> int:
    """Atomic, no fsync (a probe lost in a power cut is not worth a disk flush every round)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    write_bytes_atomic(path, data, fsync=False)
    return len(data)


def _strings(items: Iterable[str]) -> np.ndarray:
    items = [str(s) for s in items]
    return np.asarray(items, dtype=str) if items else np.zeros(0, dtype="<U1")


# -- writing ---------------------------------------------------------------------------------

class FrameSeries:
    """Appends the frames of one series, thinning it to at most ``max_frames`` (by default as
    many as fit in ``max_bytes``, judged from the first frame)."""

    def __init__(self, folder: Path, prefix: str, *, max_frames: int | None = None,
                 max_bytes: int = SERIES_BYTES) -> None:
        self.folder, self.prefix = folder, prefix
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self._kept = scan(folder, prefix)  # the evenly spaced frames
        self._extra: int | None = None     # the newest round, when it is not one of them
        self._every = 1                    # keep one round in this many
        self._since_kept = 0

    def append(self, step: int, arrays: dict) -> Path:
        step = int(step)
        path = self.folder / frame_name(self.prefix, step)
        size = save_npz(path, arrays)
        if self.max_frames is None:
            self.max_frames = int(min(MAX_FRAMES, max(MIN_FRAMES, self.max_bytes // max(1, size))))
        if self._kept and step <= self._kept[-1]:  # steps repeated (a resume): start the spacing afresh
            self._kept, self._extra, self._every, self._since_kept = scan(self.folder, self.prefix), None, 1, 0
            return path
        if self._extra is not None and self._extra != step:
            self._delete(self._extra)
            self._extra = None
        self._since_kept += 1
        if self._since_kept >= self._every:
            self._kept.append(step)
            self._since_kept = 0
            if len(self._kept) > self.max_frames:
                for s in self._kept[-2::-2]:  # every other one, counting back from the newest
                    self._delete(s)
                self._kept = self._kept[::-1][::2][::-1]
                self._every *= 2
        else:
            self._extra = step
        return path

    def _delete(self, step: int) -> None:
        try:
            os.unlink(self.folder / frame_name(self.prefix, step))
        except FileNotFoundError:
            pass


def _jsonable(a: np.ndarray) -> list:
    return [None if not math.isfinite(v) else v for v in np.asarray(a, np.float64).tolist()]


class ProbeWriter:
    """What the probe callbacks write. Rank 0 only (the caller's job)."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.dir = Path(run_dir) / PROBES  # made at the first write: the trainer creates the run later
        self._series: dict[str, FrameSeries] = {}
        self._health_nodes: list[str] | None = None

    def _ready(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir

    def series(self, prefix: str) -> FrameSeries:
        self._ready()
        if prefix not in self._series:
            # validations are few (one per epoch or less) and are all kept
            limit = {EVALUATION: 10**9}.get(prefix)
            self._series[prefix] = FrameSeries(self.dir, prefix, max_frames=limit)
        return self._series[prefix]

    def drop_after(self, step: int) -> None:
        """Forget what was recorded after ``step`` (a run resumed from a checkpoint there)."""
        for prefix in SERIES:
            for s in scan(self.dir, prefix):
                if s > step:
                    try:
                        os.unlink(self.dir / frame_name(prefix, s))
                    except FileNotFoundError:
                        pass
        keep_rows(self.dir / HEALTH, lambda r: int(r.get("step", 0)) <= step)
        self._series.clear()

    def probe_images(self, e: ev.ProbeImages) -> None:
        save_npz(self._ready() / IMAGES, {"images": e.images, "labels": np.asarray(e.labels, np.int64),
                                     "class_names": _strings(e.classes),
                                     "indices": np.asarray(e.indices, np.int64)})

    def filters(self, round_: list[ev.Filters], time: float | None = None) -> None:
        if not round_:
            return
        first = round_[0]
        arrays = {"step": np.int64(first.step), "epoch": np.int64(first.epoch),
                  "time": np.float64(_time.time() if time is None else time),
                  "layers": _strings(e.layer for e in round_),
                  "truncated": np.asarray([e.truncated for e in round_], bool),
                  "mean": np.asarray([e.mean for e in round_], np.float32),
                  "std": np.asarray([e.std for e in round_], np.float32),
                  "hist_counts": np.stack([np.asarray(e.hist_counts, np.int64) for e in round_]),
                  "hist_edges": np.stack([np.asarray(e.hist_edges, np.float32) for e in round_])}
        for i, e in enumerate(round_):
            arrays[f"w{i}"] = np.asarray(e.weights, np.float32)
        self.series(FILTERS).append(first.step, arrays)

    def feature_maps(self, e: ev.FeatureMaps, time: float | None = None) -> None:
        # float16: display data, and half the disk of a long run
        self.series(FEATURES).append(e.step, {
            "step": np.int64(e.step), "epoch": np.int64(e.epoch),
            "time": np.float64(_time.time() if time is None else time), "layer": np.asarray(e.layer),
            "image_index": np.int64(e.image_index), "image": np.asarray(e.image, np.uint8),
            "maps": np.asarray(e.maps, np.float16), "shape": np.asarray(e.shape, np.int64)})

    def evaluation(self, e: ev.Evaluation, time: float | None = None) -> None:
        arrays = {"step": np.int64(e.step), "epoch": np.int64(e.epoch),
                  "time": np.float64(_time.time() if time is None else time), "classes": _strings(e.classes),
                  "confusion": np.asarray(e.confusion, np.int64),
                  "per_class_accuracy": np.asarray(e.per_class_accuracy, np.float32)}
        for name, gallery in (("correct", e.confident_correct), ("wrong", e.confident_wrong)):
            for key, value in gallery.items():
                arrays[f"{name}_{key}"] = np.asarray(value)
        self.series(EVALUATION).append(e.step, arrays)

    def health(self, e: ev.LayerHealth, time: float | None = None) -> None:
        row = {"step": int(e.step), "epoch": int(e.epoch), "time": _time.time() if time is None else time,
               "grad_norm": _jsonable(e.grad_norm), "weight_norm": _jsonable(e.weight_norm),
               "update_ratio": _jsonable(e.update_ratio), "dead_fraction": _jsonable(e.dead_fraction),
               "flags": dict(e.flags)}
        if list(e.nodes) != self._health_nodes:  # the node list once, and again if it changes
            row["nodes"] = self._health_nodes = list(e.nodes)
        with open(self._ready() / HEALTH, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, separators=(",", ":"), allow_nan=False) + "\n")


# -- reading ---------------------------------------------------------------------------------

@dataclass
class HealthHistory:
    """Layer health over time: row t is the probe round at ``steps[t]``; column j is ``nodes[j]``
    (a node missing from a round, after a resume with another graph, is NaN there)."""
    nodes: list[str] = field(default_factory=list)
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    epochs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    grad_norm: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    weight_norm: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    update_ratio: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    dead_fraction: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    flags: list[dict[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)

    def event(self, t: int) -> ev.LayerHealth:
        """Round ``t`` as the live stream sent it."""
        return ev.LayerHealth(epoch=int(self.epochs[t]), step=int(self.steps[t]), nodes=list(self.nodes),
                              grad_norm=self.grad_norm[t], weight_norm=self.weight_norm[t],
                              update_ratio=self.update_ratio[t], dead_fraction=self.dead_fraction[t],
                              flags=dict(self.flags[t]))


_HEALTH_ARRAYS = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction")


class _HealthReader:
    """Follows health.jsonl like MetricsReader follows metrics.jsonl (complete lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reader = MetricsReader(path)
        self.rows: list[tuple[list[str], dict]] = []
        self._nodes: list[str] = []
        self._inode: int | None = None
        self._cache: HealthHistory | None = None

    def refresh(self) -> int:
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            inode = None
        if inode != self._inode:  # created, or replaced by a resume that dropped rows
            if self._inode is not None:
                self.reader, self.rows, self._nodes, self._cache = MetricsReader(self.path), [], [], None
            self._inode = inode
        new = self.reader.read_new()
        for row in new:
            if isinstance(row.get("nodes"), list):
                self._nodes = [str(n) for n in row["nodes"]]
            self.rows.append((self._nodes, row))
        if new:
            self._cache = None
        return len(new)

    def history(self) -> HealthHistory:
        if self._cache is not None:
            return self._cache
        nodes: list[str] = []
        for names, _ in self.rows:
            nodes += [n for n in names if n not in nodes]
        col = {n: j for j, n in enumerate(nodes)}
        t = len(self.rows)
        arrays = {k: np.full((t, len(nodes)), np.nan, np.float32) for k in _HEALTH_ARRAYS}
        steps, epochs, times, flags = np.zeros(t, np.int64), np.zeros(t, np.int64), np.zeros(t), []
        for i, (names, row) in enumerate(self.rows):
            steps[i], epochs[i], times[i] = int(row.get("step", 0)), int(row.get("epoch", 0)), float(row.get("time", 0))
            idx = [col[n] for n in names]
            for k in _HEALTH_ARRAYS:
                values = row.get(k) or []
                if len(values) == len(idx):
                    arrays[k][i, idx] = [np.nan if v is None else v for v in values]
            flags.append({str(n): str(f) for n, f in (row.get("flags") or {}).items()})
        self._cache = HealthHistory(nodes, steps, epochs, times, flags=flags, **arrays)
        return self._cache


class ProbeHistory:
    """Everything the probes of a run recorded, oldest first; ``refresh()`` for a live run."""

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.dir = Path(run_dir) / PROBES
        self.filter_steps: list[int] = []
        self.feature_steps: list[int] = []
        self.evaluation_steps: list[int] = []
        self._health = _HealthReader(self.dir / HEALTH)
        self._images: ev.ProbeImages | None = None
        self._images_mtime: int | None = None
        self.refresh()

    def refresh(self) -> dict[str, list[int]]:
        """Rescan; returns the new steps of each series ("filters", "features", "evaluation",
        and "health" with the number of new rounds as a one-item list when there are any)."""
        new = {}
        for name, prefix in (("filter_steps", FILTERS), ("feature_steps", FEATURES),
                             ("evaluation_steps", EVALUATION)):
            old = set(getattr(self, name))
            steps = scan(self.dir, prefix)
            setattr(self, name, steps)
            new[prefix] = [s for s in steps if s not in old]
        n = self._health.refresh()
        new["health"] = [n] if n else []
        return new

    # -- series of frames --------------------------------------------------------------------
    def _load(self, prefix: str, steps: list[int], i: int) -> np.lib.npyio.NpzFile:
        """Frame ``i`` of a series; if a live run thinned it away meanwhile, the nearest earlier
        one still there."""
        step = steps[i]
        try:
            return np.load(self.dir / frame_name(prefix, step), allow_pickle=False)
        except FileNotFoundError:
            self.refresh()
            steps = getattr(self, {FILTERS: "filter_steps", FEATURES: "feature_steps",
                                   EVALUATION: "evaluation_steps"}[prefix])
            if not steps:
                raise
            j = max(0, int(np.searchsorted(np.asarray(steps), step, side="right")) - 1)
            return np.load(self.dir / frame_name(prefix, steps[j]), allow_pickle=False)

    def filters(self, i: int) -> list[ev.Filters]:
        """The convolutions' filters of probe round ``i`` (negative counts from the end)."""
        with self._load(FILTERS, self.filter_steps, i) as z:
            step, epoch = int(z["step"]), int(z["epoch"])
            return [ev.Filters(epoch=epoch, step=step, layer=str(layer), weights=z[f"w{j}"],
                               truncated=bool(z["truncated"][j]), mean=float(z["mean"][j]),
                               std=float(z["std"][j]), hist_counts=z["hist_counts"][j],
                               hist_edges=z["hist_edges"][j])
                    for j, layer in enumerate(z["layers"])]

    def feature_maps(self, i: int) -> ev.FeatureMaps:
        with self._load(FEATURES, self.feature_steps, i) as z:
            return ev.FeatureMaps(epoch=int(z["epoch"]), step=int(z["step"]), layer=str(z["layer"]),
                                  image_index=int(z["image_index"]), image=z["image"],
                                  maps=z["maps"].astype(np.float32), shape=[int(v) for v in z["shape"]])

    def evaluation(self, i: int) -> ev.Evaluation:
        with self._load(EVALUATION, self.evaluation_steps, i) as z:
            def gallery(name: str) -> dict[str, np.ndarray]:
                return {k: z[f"{name}_{k}"] for k in ("images", "true", "pred", "prob") if f"{name}_{k}" in z}
            return ev.Evaluation(epoch=int(z["epoch"]), step=int(z["step"]),
                                 classes=[str(c) for c in z["classes"]], confusion=z["confusion"],
                                 per_class_accuracy=z["per_class_accuracy"],
                                 confident_correct=gallery("correct"), confident_wrong=gallery("wrong"))

    def index_at(self, steps: list[int], step: int) -> int:
        """Index in ``steps`` of the last frame at or before ``step`` (0 when all are later)."""
        return max(0, int(np.searchsorted(np.asarray(steps), step, side="right")) - 1)

    # -- the rest ------------------------------------------------------------------------------
    def health(self) -> HealthHistory:
        return self._health.history()

    def probe_images(self) -> ev.ProbeImages | None:
        path = self.dir / IMAGES
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        if self._images is None or mtime != self._images_mtime:
            with np.load(path, allow_pickle=False) as z:
                self._images = ev.ProbeImages(
                    images=z["images"], labels=z["labels"], classes=[str(c) for c in z["class_names"]],
                    indices=[int(v) for v in z["indices"]] if "indices" in z else [])
            self._images_mtime = mtime
        return self._images
