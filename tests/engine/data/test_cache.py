"""The preprocessing cache: reused, invalidated by file and option changes, sized, cleared."""
import os
import time

import numpy as np
import pytest

import engine.data.folder as folder_mod
from engine.data import cache_entries, cache_size, clear_cache, open_dataset

from .conftest import make_tree, save_image


def count_decodes(monkeypatch) -> list:
    calls = []
    real = folder_mod.decode_file

    def counting(*a, **k):
        calls.append(a[0])
        return real(*a, **k)
    monkeypatch.setattr(folder_mod, "decode_file", counting)
    return calls


def open_tree(root, **cfg):
    return open_dataset({"source": f"folder:{root}", "val_fraction": 0.25, **cfg}, input_shape=(3, 8, 8))


def test_second_open_never_decodes(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 4, "b": 4})
    calls = count_decodes(monkeypatch)
    first = open_tree(tmp_path)
    assert len(calls) == 8
    second = open_tree(tmp_path)
    assert len(calls) == 8
    assert second.path == first.path
    assert np.array_equal(first.arrays("train")[0], second.arrays("train")[0])
    assert isinstance(second.arrays("train")[0], np.memmap)


def test_changed_added_or_removed_files_invalidate(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 4, "b": 4})
    calls = count_decodes(monkeypatch)
    base = open_tree(tmp_path)
    f = tmp_path / "a" / "000.png"
    save_image(f, np.full((12, 10, 3), 255, np.uint8))  # new content, new size and mtime
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    changed = open_tree(tmp_path)
    assert changed.path != base.path and len(calls) == 16
    save_image(tmp_path / "b" / "new.png", np.zeros((5, 5, 3), np.uint8))
    assert len(open_tree(tmp_path)) == 9
    (tmp_path / "b" / "new.png").unlink()
    assert open_tree(tmp_path).path == changed.path  # back to a file set seen before: reused


def test_options_make_their_own_entries(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 4, "b": 4})
    calls = count_decodes(monkeypatch)
    a = open_tree(tmp_path)
    b = open_tree(tmp_path, resize_mode="crop")
    c = open_tree(tmp_path, image_size=4)
    d = open_tree(tmp_path, seed=3)  # another split of the same pixels: rows copied, not decoded
    assert len({a.path, b.path, c.path, d.path}) == 4 and len(calls) == 24
    open_tree(tmp_path, seed=3, resize_mode="fill")
    open_tree(tmp_path, seed=4, resize_mode="fill")  # fill noise depends on the seed: decoded again
    assert len(calls) == 40
    assert open_tree(tmp_path, resize_mode="crop").path == b.path and len(calls) == 40


def test_a_damaged_entry_is_rebuilt(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 2, "b": 2})
    calls = count_decodes(monkeypatch)
    ds = open_tree(tmp_path)
    (ds.path / "meta.json").write_text("{not json")
    again = open_tree(tmp_path)
    assert len(calls) == 8 and again.split_size("train") == ds.split_size("train")


def test_size_listing_and_clear(tmp_path, cache_dir):
    make_tree(tmp_path, {"a": 3, "b": 3})
    assert cache_size() == 0 and clear_cache() == 0
    ds = open_tree(tmp_path)
    open_dataset({"source": "builtin:shapes", "size": 24})
    entries = cache_entries()
    assert {e["source"] for e in entries} == {f"folder:{tmp_path}", "builtin:shapes"}
    assert {e["samples"] for e in entries} == {6, 24}
    size = cache_size()
    assert size == sum(e["bytes"] for e in entries) > 24 * 3 * 32 * 32
    assert ds.stats()["cache_bytes"] > 0
    assert clear_cache() == size and cache_size() == 0 and cache_entries() == []
    assert open_tree(tmp_path).split_size("train") == ds.split_size("train")  # rebuilt on demand


def test_builtins_are_cached_too(monkeypatch):
    import engine.data.shapes as shapes
    open_dataset({"source": "builtin:shapes", "size": 24})
    monkeypatch.setattr(shapes, "generate_shapes", lambda *a, **k: pytest.fail("generated twice"))
    open_dataset({"source": "builtin:shapes", "size": 24})


def test_a_new_split_reuses_the_decoded_images(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 6, "b": 6})
    (tmp_path / "a" / "broken.png").write_bytes(b"xx")
    calls = count_decodes(monkeypatch)
    first = open_tree(tmp_path)
    assert len(calls) == 13
    other = open_tree(tmp_path, val_fraction=0.5, test_fraction=0.1)
    assert other.path != first.path and len(calls) == 14  # only the broken file is tried again
    assert len(other) == 12 and dict(other.skipped) == dict(first.skipped)
    pixels = lambda ds: sorted(r.tobytes() for s in ds.split_names for r in ds.arrays(s)[0])  # noqa: E731
    assert pixels(first) == pixels(other)
    open_tree(tmp_path, resize_mode="crop")  # different pixels: decoded again
    assert len(calls) == 27
