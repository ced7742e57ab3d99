"""``Dataset``: an opened dataset (arrays per split, classes, statistics) and the explorer API
the app uses. numpy only: samples are memory-mapped from the preprocessing cache."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.data.cache import folder_bytes, load_array
from engine.errors import DatasetError


class Dataset:
    """Images are uint8 [N, C, H, W] (``is_image``); signals are float32 [N, C, L].

    ``mean``/``std`` are per channel on the train split, in the units the loader normalizes
    (x / 255 for images, x for signals). ``settings`` is the resolved ``dataset`` section
    (flat keys); the loader reads augmentation, residency and workers from it by default.
    """

    def __init__(self, path: Path, meta: Mapping[str, Any], settings: Mapping[str, Any],
                 warnings: list[str] | None = None):
        self.path = Path(path)
        self.meta = dict(meta)
        self.settings = dict(settings)
        self.source: str = meta["source"]
        self.classes: list[str] = list(meta["classes"])
        self.num_classes = len(self.classes)
        self.sample_shape: tuple[int, ...] = tuple(meta["sample_shape"])
        self.is_image: bool = meta["kind"] == "image"
        self.dtype = "float32"  # what the model receives (the loader converts and normalizes)
        self.mean: tuple[float, ...] = tuple(meta["mean"])
        self.std: tuple[float, ...] = tuple(meta["std"])
        self.skipped: list[tuple[str, str]] = [tuple(s) for s in meta.get("skipped", [])]
        self.skipped_count: int = int(meta.get("skipped_count", len(self.skipped)))
        self.warnings: list[str] = list(meta.get("warnings", [])) + list(warnings or [])
        self._splits: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in meta["splits"].items()}
        self.split_names: tuple[str, ...] = tuple(k for k in ("train", "val", "test") if k in self._splits)
        self._x = load_array(self.path, "x")
        self._y = load_array(self.path, "y")
        self._mean_image: np.ndarray | None = None
        self._by_class: dict[tuple[str, int], np.ndarray] = {}

    # -- for training ----------------------------------------------------------------------
    def arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(x [N, *sample_shape], y int64 [N]); x is a memory map (copy-on-write) of the cache."""
        a, b = self._range(split)
        return self._x[a:b], self._y[a:b]

    def __len__(self) -> int:
        return sum(b - a for a, b in self._splits.values())

    def split_size(self, split: str) -> int:
        a, b = self._range(split)
        return b - a

    @property
    def augment(self) -> dict[str, Any]:
        """The project's augmentation options (``augment.*`` settings without the prefix)."""
        return {k.split(".", 1)[1]: v for k, v in self.settings.items() if k.startswith("augment.")}

    # -- explorer API (plain arrays for the app) ------------------------------------------
    def class_counts(self, split: str = "train") -> dict[str, int]:
        _, y = self.arrays(split)
        counts = np.bincount(np.asarray(y), minlength=self.num_classes)
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def samples(self, class_index: int, count: int, split: str = "train", start: int = 0) -> list[np.ndarray]:
        """Up to ``count`` samples of one class, from its ``start``-th: uint8 [H, W, C] images
        (signals: float32 [C, L])."""
        if not 0 <= class_index < self.num_classes:
            raise DatasetError(f"class index {class_index} out of range (0..{self.num_classes - 1})",
                               key="class_index")
        idx = self._class_indices(split, class_index)[max(0, start):max(0, start) + max(0, count)]
        x, _ = self.arrays(split)
        return [self._view(x[i]) for i in idx]

    def sample(self, split: str, index: int) -> tuple[np.ndarray, int]:
        x, y = self.arrays(split)
        if not -len(y) <= index < len(y):
            raise DatasetError(f"sample {index} out of range: the {split} split has {len(y)} samples",
                               key="index")
        return self._view(x[index]), int(y[index])

    def mean_image(self, split: str = "train") -> np.ndarray:
        """The mean sample, as an image (uint8 [H, W, C]) or a signal (float32 [C, L])."""
        if split == "train":
            if self._mean_image is None:
                self._mean_image = np.load(self.path / "mean.npy")
            mean = self._mean_image
        else:
            from engine.data.stats import channel_stats
            mean = channel_stats(self.arrays(split)[0], scale=1.0)[2]
        if self.is_image:
            return np.clip(mean + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
        return mean.astype(np.float32)

    def stats(self) -> dict[str, Any]:
        """Plain values for the app's summary."""
        return {
            "source": self.source,
            "classes": list(self.classes),
            "num_classes": self.num_classes,
            "shape": list(self.sample_shape),
            "kind": "image" if self.is_image else "signal",
            "splits": {k: b - a for k, (a, b) in self._splits.items()},
            "samples": len(self),
            "mean": list(self.mean),
            "std": list(self.std),
            "skipped": self.skipped_count,
            "warnings": list(self.warnings),
            "cache_path": str(self.path),
            "cache_bytes": folder_bytes(self.path),
        }

    # -- helpers --------------------------------------------------------------------------
    def _range(self, split: str) -> tuple[int, int]:
        try:
            return self._splits[split]
        except KeyError:
            raise DatasetError(f"this dataset has no {split!r} split (it has {', '.join(self.split_names)})",
                               key="split") from None

    def _class_indices(self, split: str, k: int) -> np.ndarray:
        key = (split, k)
        if key not in self._by_class:
            _, y = self.arrays(split)
            self._by_class[key] = np.flatnonzero(np.asarray(y) == k)
        return self._by_class[key]

    def _view(self, x: np.ndarray) -> np.ndarray:
        if self.is_image:
            return np.ascontiguousarray(np.asarray(x).transpose(1, 2, 0))
        return np.array(x, np.float32)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {self.split_size(k)}" for k in self.split_names)
        return f"<Dataset {self.source}: {self.num_classes} classes, {list(self.sample_shape)}, {sizes}>"
