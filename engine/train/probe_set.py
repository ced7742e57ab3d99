"""The probe set: a few fixed validation images that the live probes follow through training
(saliency, Grad-CAM, feature maps), and a larger probe batch for statistics (dead units).

Chosen once per run, deterministically, taking the classes in turn (the first sample of each
class, then the second…) so a handful of probes shows every class. Both are normalized
exactly as the loader normalizes a batch and kept on the training device."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

PROBE_BATCH = 32  # samples of the probe batch (dead units): a third of a training step to run


@dataclass
class ProbeSet:
    split: str                # "val" (or "train" when there is no validation split)
    indices: np.ndarray       # int64 [B]: positions in the split; the probe images are the first N
    labels: np.ndarray        # int64 [B]
    images: np.ndarray | None  # uint8 [N, H, W, C] as the user sees them (None for signals)
    x: torch.Tensor           # float32 [N, *sample_shape], normalized, on the device
    batch: torch.Tensor       # float32 [B, *sample_shape], normalized, on the device (x is its start)
    classes: list[str]

    @property
    def count(self) -> int:
        return len(self.x)


def round_robin(labels: np.ndarray, count: int, num_classes: int) -> np.ndarray:
    """Up to ``count`` indices taking the classes in turn, each class in its own order."""
    labels = np.asarray(labels)
    per_class = [np.flatnonzero(labels == k) for k in range(num_classes)]
    out: list[int] = []
    depth = 0
    while len(out) < count and any(depth < len(p) for p in per_class):
        out += [int(p[depth]) for p in per_class if depth < len(p)]
        depth += 1
    return np.asarray(out[:count], np.int64)


def normalize(ds, x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Samples as the loader feeds them to the model: x * scale + shift, scale = 1 / (255 std)
    for images (1 / std for signals), shift = -mean / std (engine.data.batch_augment.to_float)."""
    t = torch.from_numpy(np.ascontiguousarray(x)).to(device)
    view = (1, len(ds.mean)) + (1,) * (t.dim() - 2)
    mean = torch.tensor(ds.mean, dtype=torch.float32).view(view)
    std = torch.tensor(ds.std, dtype=torch.float32).view(view)
    units = 255.0 if ds.is_image else 1.0
    scale, shift = (1 / (std * units)).to(device), (-mean / std).to(device)
    return torch.addcmul(shift, t.to(torch.float32), scale)


def build_probe_set(ds, device: torch.device, count: int, *, has_val: bool = True,
                    batch: int = PROBE_BATCH) -> ProbeSet | None:
    """``count`` probe images (and the probe batch) from the validation split; None when the
    split is empty."""
    split = "val" if has_val and "val" in ds.split_names and ds.split_size("val") else "train"
    x_all, y_all = ds.arrays(split)
    if len(y_all) == 0:
        return None
    idx = round_robin(np.asarray(y_all), max(count, batch), ds.num_classes)
    idx_sorted = np.sort(idx)  # memory-mapped rows read in file order, then put back in ours
    rows = np.asarray(x_all[idx_sorted])[np.argsort(np.argsort(idx))]
    labels = np.asarray(y_all[idx], np.int64)
    xb = normalize(ds, rows, device)
    n = min(count, len(idx))
    images = np.ascontiguousarray(rows[:n].transpose(0, 2, 3, 1)) if ds.is_image else None
    return ProbeSet(split, idx, labels, images, xb[:n], xb, [str(c) for c in ds.classes])
