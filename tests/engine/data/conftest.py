"""Fixtures for engine.data tests: a private cache and small image trees made on the fly."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own cache (never the user's, never inside tmp_path where the test
    builds its image folders) and no data root of the user's."""
    d = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("LAYERSTUDIO_CACHE_DIR", str(d))
    monkeypatch.setenv("LAYERSTUDIO_DATA_ROOT", str(tmp_path_factory.mktemp("no-data-root")))
    return d


def save_image(path: Path, array: np.ndarray, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


def make_tree(root: Path, counts: dict[str, int], *, size=(12, 10), ext=".png", seed=0) -> Path:
    """root/<class>/<i>.<ext> with random RGB images of (H, W) = size; classes get distinct colours."""
    rng = np.random.default_rng(seed)
    for k, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = rng.integers(0, 60, size + (3,), dtype=np.uint8)
            a[..., k % 3] += np.uint8(150)
            save_image(root / name / f"{i:03d}{ext}", a)
    return root
