"""builtin:waves: four classes of 1-D signals, deterministic."""
import numpy as np

from engine.data import describe_dataset, open_dataset
from engine.data.waves import CLASSES, generate_waves


def test_classes_shape_and_determinism():
    assert CLASSES == ("sine", "square", "sawtooth", "chirp")
    x, y = generate_waves(80, seed=0)
    assert x.shape == (80, 1, 128) and x.dtype == np.float32 and np.bincount(y).tolist() == [20] * 4
    x2, y2 = generate_waves(80, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, generate_waves(80, seed=1)[0])


def test_square_waves_have_two_levels_and_chirps_change_frequency():
    x, y = generate_waves(400, seed=0)
    # random phase: the class mean is flat, what a linear classifier cannot use
    for k in range(4):
        assert np.abs(x[y == k, 0].mean(0)).max() < 0.5
    sq = x[y == 1, 0]
    assert np.median(np.abs(np.diff(sq, axis=1))) < np.median(np.abs(np.diff(x[y == 0, 0], axis=1))) * 2


def test_open_waves_statistics_are_in_signal_units():
    ds = open_dataset({"source": "builtin:waves", "size": 200, "test_fraction": 0.1})
    assert ds.sample_shape == (1, 128) and not ds.is_image and ds.split_names == ("train", "val", "test")
    x, _ = ds.arrays("train")
    assert x.dtype == np.float32
    np.testing.assert_allclose(ds.mean, [x.mean()], atol=1e-5)
    np.testing.assert_allclose(ds.std, [x.std()], rtol=1e-4)
    sig = ds.samples(3, 2)
    assert len(sig) == 2 and sig[0].shape == (1, 128)
    assert describe_dataset({"source": "builtin:waves"}).num_classes == 4


def test_an_image_input_is_a_warning():
    ds = open_dataset({"source": "builtin:waves", "size": 40}, input_shape=(3, 32, 32))
    assert any("[1, 128]" in w for w in ds.warnings)
