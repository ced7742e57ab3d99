"""The explorer API the app uses: counts, samples by class, mean image, statistics."""
import numpy as np
import pytest

from engine.data import open_dataset
from engine.errors import DatasetError


@pytest.fixture
def ds():
    return open_dataset({"source": "builtin:shapes", "size": 120, "val_fraction": 0.2, "seed": 2})


def test_class_counts(ds):
    counts = ds.class_counts("train")
    assert list(counts) == ds.classes and sum(counts.values()) == ds.split_size("train")
    _, y = ds.arrays("train")
    assert list(counts.values()) == np.bincount(y, minlength=6).tolist()


def test_samples_by_class_are_hwc_uint8_of_that_class(ds):
    x, y = ds.arrays("train")
    imgs = ds.samples(2, 3, "train", start=1)
    idx = np.flatnonzero(y == 2)[1:4]
    assert len(imgs) == 3 and imgs[0].shape == (32, 32, 3) and imgs[0].dtype == np.uint8
    for img, i in zip(imgs, idx):
        assert np.array_equal(img, x[i].transpose(1, 2, 0))
    assert ds.samples(2, 5, start=10_000) == []
    with pytest.raises(DatasetError):
        ds.samples(6, 1)


def test_sample_and_mean_image(ds):
    x, y = ds.arrays("val")
    img, label = ds.sample("val", 4)
    assert np.array_equal(img, x[4].transpose(1, 2, 0)) and label == y[4]
    with pytest.raises(DatasetError):
        ds.sample("val", len(y))
    with pytest.raises(DatasetError) as e:
        ds.sample("test", 0)
    assert "no 'test' split" in str(e.value)
    xt, _ = ds.arrays("train")
    want = np.clip(xt.astype(np.float64).mean(0) + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    assert np.abs(ds.mean_image().astype(int) - want.astype(int)).max() <= 1
    assert ds.mean_image("val").shape == (32, 32, 3)


def test_normalization_statistics_match_numpy(ds):
    x, _ = ds.arrays("train")
    f = x.astype(np.float64) / 255
    np.testing.assert_allclose(ds.mean, f.mean((0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(ds.std, f.std((0, 2, 3)), rtol=1e-5)


def test_stats_are_plain_values(ds):
    s = ds.stats()
    assert s["num_classes"] == 6 and s["shape"] == [3, 32, 32] and s["splits"] == {"train": 96, "val": 24}
    assert s["skipped"] == 0 and s["cache_bytes"] > 96 * 3 * 32 * 32
    import json
    json.dumps(s)
