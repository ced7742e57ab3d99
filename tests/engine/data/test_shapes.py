"""builtin:shapes: six classes, deterministic, varied, and the sizes/channels it can produce."""
import numpy as np

from engine.data import describe_dataset, open_dataset
from engine.data.shapes import CLASSES, generate_shapes


def test_six_classes_as_in_the_design():
    assert CLASSES == ("circle", "square", "triangle", "cross", "ring", "star")
    x, y = generate_shapes(60, seed=0)
    assert x.shape == (60, 3, 32, 32) and x.dtype == np.uint8
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [10] * 6


def test_deterministic_for_the_seed():
    a, ya = generate_shapes(300, seed=3)
    b, yb = generate_shapes(300, seed=3)
    c, _ = generate_shapes(300, seed=4)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert not np.array_equal(a, c)


def test_images_vary_in_position_colour_and_content():
    x, y = generate_shapes(600, seed=0)
    f = x.astype(np.float32)
    # not a constant picture per class: the per-class pixel std is large everywhere
    for k in range(6):
        assert f[y == k].std(0).mean() > 20
    # shapes differ in colour between images: the brightest pixel's colour varies a lot
    flat = f.reshape(len(f), 3, -1)
    brightest = np.take_along_axis(flat, flat.sum(1, keepdims=True).argmax(2)[..., None], 2)[..., 0]
    assert brightest.std(0).min() > 40
    # backgrounds are dark but tinted differently
    assert 2 < f[:, :, 0, 0].std(0).min() and f[:, :, 0, 0].mean() < 40
    # noise: neighbouring pixels of the background are not all equal
    assert (np.abs(np.diff(f[:, :, :4, :4], axis=3)) > 0).mean() > 0.3


def test_other_sizes_and_grayscale():
    x, _ = generate_shapes(12, seed=0, size=(20, 28), channels=1)
    assert x.shape == (12, 1, 20, 28)


def test_open_builtin_split_and_describe():
    ds = open_dataset({"source": "builtin:shapes", "size": 120, "val_fraction": 0.25, "seed": 1})
    assert ds.classes == list(CLASSES) and ds.num_classes == 6
    assert ds.sample_shape == (3, 32, 32) and ds.split_names == ("train", "val")
    x, y = ds.arrays("train")
    xv, yv = ds.arrays("val")
    assert len(y) == 90 and len(yv) == 30 and x.shape == (90, 3, 32, 32)
    assert list(ds.class_counts("val").values()) == [5] * 6
    d = describe_dataset({"source": "builtin:shapes"})
    assert (d.num_classes, d.sample_shape, d.warnings) == (6, (3, 32, 32), [])


def test_image_size_and_channels_settings_apply_to_shapes():
    ds = open_dataset({"source": "builtin:shapes", "size": 24, "channels": 1, "image_size": 28})
    assert ds.sample_shape == (1, 28, 28) and len(ds.mean) == 1


def test_a_mismatching_input_is_a_warning_naming_the_fix():
    ds = open_dataset({"source": "builtin:shapes", "size": 24}, input_shape=(1, 28, 28))
    assert any("dataset.image_size" in w and "[3, 32, 32]" in w for w in ds.warnings)
    d = describe_dataset({"source": "builtin:shapes"}, input_shape=(1, 28, 28))
    assert d.sample_shape == (3, 32, 32) and d.warnings
