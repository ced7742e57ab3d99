"""augment_preview (numpy, for the app) and the validation of augmentation options."""
import numpy as np
import pytest

from engine.data import augment_options, augment_preview, open_dataset
from engine.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return open_dataset({"source": "builtin:shapes", "size": 36}, cache_dir=tmp_path_factory.mktemp("c"))


def test_previews_are_uint8_images_deterministic_for_the_seed(ds):
    opts = {"hflip": True, "crop_padding": 4, "rotation": 15, "scale": 0.1, "color_jitter": 0.4}
    a = augment_preview(ds, 3, opts, 6, seed=1)
    b = augment_preview(ds, 3, opts, 6, seed=1)
    c = augment_preview(ds, 3, opts, 6, seed=2)
    assert len(a) == 6 and a[0].shape == (32, 32, 3) and a[0].dtype == np.uint8
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    orig, _ = ds.sample("train", 3)
    assert not all(np.array_equal(x, orig) for x in a)


def test_no_augmentation_returns_the_sample(ds):
    orig, _ = ds.sample("train", 0)
    for off in (None, False, {}):
        assert all(np.array_equal(x, orig) for x in augment_preview(ds, 0, off, 3, seed=0))


def test_flip_only_gives_the_sample_or_its_mirror(ds):
    orig, _ = ds.sample("train", 5)
    out = augment_preview(ds, 5, {"hflip": True}, 12, seed=0)
    assert all(np.array_equal(x, orig) or np.array_equal(x, orig[:, ::-1]) for x in out)
    assert any(np.array_equal(x, orig[:, ::-1]) for x in out)


def test_grayscale_previews(tmp_path):
    ds = open_dataset({"source": "builtin:shapes", "size": 24, "channels": 1}, cache_dir=tmp_path)
    out = augment_preview(ds, 0, {"rotation": 30, "color_jitter": 0.5}, 2, seed=0)
    assert out[0].shape == (32, 32, 1)


def test_bad_options_name_the_key():
    with pytest.raises(ConfigError) as e:
        augment_options({"rotation": 400})
    assert e.value.key == "dataset.augment.rotation" and "180" in str(e.value)
    with pytest.raises(ConfigError) as e:
        augment_options({"vflip": True})
    assert e.value.key == "dataset.augment.vflip" and "hflip" in str(e.value)
    with pytest.raises(ConfigError):
        open_dataset({"source": "builtin:shapes", "augment": {"crop_padding": -1}})


def test_signals_have_no_preview(tmp_path):
    ds = open_dataset({"source": "builtin:waves", "size": 40}, cache_dir=tmp_path)
    with pytest.raises(DatasetError):
        augment_preview(ds, 0, {"hflip": True}, 2, seed=0)
