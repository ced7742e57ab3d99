"""Splits: stratified, seeded, and the per-class limits."""
import numpy as np
import pytest

from engine.data import open_dataset
from engine.data.split import limit_classes, remap_labels, stratified_split
from engine.errors import DatasetError


def test_stratified_and_deterministic():
    y = np.repeat(np.arange(3), [50, 30, 20])
    tr, va, te = stratified_split(y, [0.2, 0.1], seed=5)
    assert np.bincount(y[va]).tolist() == [10, 6, 4]
    assert np.bincount(y[te]).tolist() == [5, 3, 2]
    assert len(np.intersect1d(tr, va)) == len(np.intersect1d(tr, te)) == len(np.intersect1d(va, te)) == 0
    assert len(tr) + len(va) + len(te) == 100
    again = stratified_split(y, [0.2, 0.1], seed=5)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again))
    other = stratified_split(y, [0.2, 0.1], seed=6)
    assert not np.array_equal(va, other[1])
    assert all(np.all(np.diff(p) > 0) for p in (tr, va, te))  # sorted: validation keeps the source order


def test_every_class_keeps_a_training_sample():
    y = np.array([0, 1, 1, 1])
    tr, va = stratified_split(y, [0.9], seed=0)
    assert 0 in y[tr] and 1 in y[tr]


def test_min_and_max_per_class():
    y = np.repeat(np.arange(3), [50, 3, 20])
    keep, kept, warnings = limit_classes(y, ["a", "b", "c"], min_per_class=5, max_per_class=10, seed=0)
    assert kept == ["a", "c"] and "b (3)" in warnings[0]
    new = remap_labels(y[keep], ["a", "b", "c"], kept)
    assert np.bincount(new).tolist() == [10, 10]


def test_limits_through_open_dataset():
    ds = open_dataset({"source": "builtin:shapes", "size": 120, "max_per_class": 10, "val_fraction": 0.2})
    assert sum(ds.class_counts("train").values()) + sum(ds.class_counts("val").values()) == 60
    with pytest.raises(DatasetError) as e:
        open_dataset({"source": "builtin:shapes", "size": 60, "min_per_class": 11})
    assert e.value.key == "dataset.min_per_class"


def test_splits_of_open_dataset_do_not_overlap_and_cover_everything():
    ds = open_dataset({"source": "builtin:shapes", "size": 120, "val_fraction": 0.2, "test_fraction": 0.1})
    sizes = {s: ds.split_size(s) for s in ds.split_names}
    assert sizes == {"train": 84, "val": 24, "test": 12}
    xs = [ds.arrays(s)[0].reshape(ds.split_size(s), -1) for s in ds.split_names]
    rows = {r.tobytes() for x in xs for r in x}
    assert len(rows) == 120


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 40), min_size=1, max_size=6), val=st.floats(0, 0.9),
       test=st.floats(0, 0.5), seed=st.integers(0, 2**31 - 1))
def test_split_is_a_stratified_partition(counts, val, test, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    parts = stratified_split(y, [val, test], seed)
    allidx = np.sort(np.concatenate(parts))
    assert np.array_equal(allidx, np.arange(len(y)))  # a partition
    for k, n in enumerate(counts):
        got = [int((y[p] == k).sum()) for p in parts]
        assert got[0] >= 1  # every class trains
        for i, f in enumerate((val, test), 1):
            assert abs(got[i] - n * f) <= 1 or got[0] == 1  # proportional, or capped to keep one
