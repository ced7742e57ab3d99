"""folder:PATH — formats, recursion, DIGITS resize modes, splits, and every bad input."""
import io
import os

import numpy as np
import pytest
from PIL import Image

from engine.data import decode, describe_dataset, open_dataset
from engine.errors import DatasetError

from .conftest import make_tree, save_image


def open_folder(root, **cfg):
    input_shape = cfg.pop("input_shape", (3, 8, 8))
    return open_dataset({"source": f"folder:{root}", **cfg}, input_shape=input_shape)


def test_formats_and_nested_folders(tmp_path):
    rng = np.random.default_rng(0)
    for k, cls in enumerate(("a", "b")):
        for i, (ext, fmt) in enumerate([(".png", "PNG"), (".jpg", "JPEG"), (".bmp", "BMP"), (".gif", "GIF"),
                                        (".tiff", "TIFF"), (".webp", "WEBP"), (".JPEG", "JPEG")]):
            a = rng.integers(0, 255, (9, 7, 3), dtype=np.uint8)
            save_image(tmp_path / cls / "deep" / "er" / f"{i}{ext}", a, fmt)
    ds = open_folder(tmp_path, val_fraction=0.0)
    assert ds.classes == ["a", "b"] and ds.split_size("train") == 14 and ds.skipped == []
    assert ds.arrays("train")[0].shape == (14, 3, 8, 8)


def wide_image() -> np.ndarray:
    """10 × 20 RGB: left quarter red, right quarter blue, middle green."""
    a = np.zeros((10, 20, 3), np.uint8)
    a[:, :5, 0] = 255
    a[:, 5:15, 1] = 255
    a[:, 15:, 2] = 255
    return a


@pytest.fixture
def wide_tree(tmp_path):
    for cls in ("x", "y"):
        save_image(tmp_path / cls / "w.png", wide_image())
    return tmp_path


def first(ds) -> np.ndarray:
    return ds.arrays("train")[0][0].transpose(1, 2, 0).astype(int)


def test_squash_stretches(wide_tree):
    img = first(open_folder(wide_tree, resize_mode="squash", val_fraction=0.0, input_shape=(3, 10, 10)))
    assert img[5, 0, 0] > 200 and img[5, 9, 2] > 200 and img[5, 5, 1] > 200


def test_crop_keeps_the_centre(wide_tree):
    img = first(open_folder(wide_tree, resize_mode="crop", val_fraction=0.0, input_shape=(3, 10, 10)))
    assert img[:, :, 1].min() > 200 and img[:, :, 0].max() < 60 and img[:, :, 2].max() < 60


def test_fill_pads_with_noise(wide_tree):
    img = first(open_folder(wide_tree, resize_mode="fill", val_fraction=0.0, input_shape=(3, 10, 10)))
    # the whole image, scaled to 5 × 10, sits in rows 2..6; rows 0-1 and 7-9 are noise
    assert img[4, 0, 0] > 200 and img[4, 9, 2] > 200
    noise = np.concatenate([img[:2], img[8:]])
    assert noise.std() > 50 and len(np.unique(noise)) > 50


def test_half_crop_crops_one_side_and_fills_the_other(wide_tree):
    img = first(open_folder(wide_tree, resize_mode="half_crop", val_fraction=0.0, input_shape=(3, 10, 10)))
    # scaled by 1.5: 7 × 13, cropped to 10 wide (a little red and blue left at the edges), filled to 10 high
    mid = img[5]
    assert mid[0, 0] > 150 and mid[9, 2] > 150 and mid[5, 1] > 200
    assert img[0].std() > 40  # a noise row


def test_fill_noise_is_deterministic(wide_tree, cache_dir):
    a = first(open_folder(wide_tree, resize_mode="fill", val_fraction=0.0, input_shape=(3, 10, 10)))
    b = first(open_dataset({"source": f"folder:{wide_tree}", "resize_mode": "fill", "val_fraction": 0.0},
                           input_shape=(3, 10, 10), cache_dir=cache_dir / "other"))
    assert np.array_equal(a, b)


def test_grayscale_and_explicit_size(tmp_path):
    make_tree(tmp_path, {"a": 3, "b": 3})
    ds = open_folder(tmp_path, channels=1, image_size=[6, 5], val_fraction=0.0)
    assert ds.sample_shape == (1, 6, 5) and len(ds.mean) == 1
    assert ds.samples(0, 1)[0].shape == (6, 5, 1)


def test_input_shape_is_the_default_size(tmp_path):
    make_tree(tmp_path, {"a": 3, "b": 3})
    assert open_folder(tmp_path, input_shape=(1, 7, 9)).sample_shape == (1, 7, 9)


def test_relative_path_is_relative_to_the_project(tmp_path):
    make_tree(tmp_path / "proj" / "imgs", {"a": 2, "b": 2})
    ds = open_dataset({"source": "folder:imgs", "val_fraction": 0.0}, base_dir=tmp_path / "proj",
                      input_shape=(3, 4, 4))
    assert ds.num_classes == 2
    assert describe_dataset({"source": "folder:imgs"}, base_dir=tmp_path / "proj").num_classes == 2


def test_validation_folder_and_test_split(tmp_path):
    make_tree(tmp_path / "train", {"a": 10, "b": 10, "c": 10})
    make_tree(tmp_path / "val", {"b": 2, "a": 3}, seed=1)
    ds = open_folder(tmp_path / "train", val_source=f"folder:{tmp_path / 'val'}", test_fraction=0.2)
    assert ds.split_names == ("train", "val", "test")
    assert ds.class_counts("val") == {"a": 3, "b": 2, "c": 0}
    assert ds.class_counts("test") == {"a": 2, "b": 2, "c": 2}
    assert ds.split_size("train") == 24
    make_tree(tmp_path / "val2", {"a": 1, "zebra": 1})
    with pytest.raises(DatasetError) as e:
        open_folder(tmp_path / "train", val_source=str(tmp_path / "val2"))
    assert e.value.key == "dataset.val_source" and "zebra" in str(e.value)


def test_stratified_fraction_split(tmp_path):
    make_tree(tmp_path, {"a": 20, "b": 10})
    ds = open_folder(tmp_path, val_fraction=0.2)
    assert ds.class_counts("val") == {"a": 4, "b": 2}


# -- bad input -------------------------------------------------------------------------
def test_corrupt_truncated_and_non_image_files_are_skipped_and_reported(tmp_path):
    make_tree(tmp_path, {"a": 4, "b": 4})
    (tmp_path / "a" / "garbage.png").write_bytes(os.urandom(300))
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    (tmp_path / "b" / "truncated.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (tmp_path / "b" / "readme.txt").write_text("not an image")
    (tmp_path / "a" / ".DS_Store").write_bytes(b"\0\0")
    (tmp_path / "loose.png").write_bytes(buf.getvalue())
    ds = open_folder(tmp_path, val_fraction=0.0)
    assert ds.split_size("train") == 8
    reasons = dict(ds.skipped)
    assert set(reasons) == {"a/garbage.png", "b/truncated.png", "b/readme.txt", "loose.png"}
    assert "truncated" in reasons["b/truncated.png"] or "corrupt" in reasons["b/truncated.png"]
    assert ds.skipped_count == 4 and any("4 file(s) skipped" in w for w in ds.warnings)
    assert ds.stats()["skipped"] == 4


def test_symlink_loops_do_not_hang(tmp_path):
    make_tree(tmp_path, {"a": 2, "b": 2})
    os.symlink(tmp_path, tmp_path / "a" / "up")
    os.symlink(tmp_path / "b", tmp_path / "a" / "sideways")
    (tmp_path / "b" / "self").symlink_to(tmp_path / "b")
    ds = open_folder(tmp_path, val_fraction=0.0)
    assert ds.class_counts() == {"a": 2, "b": 2}
    assert {p for p, _ in ds.skipped} == {"a/up", "a/sideways", "b/self"}


def test_images_over_the_pixel_limit_are_skipped(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 2, "b": 2}, size=(6, 6))
    save_image(tmp_path / "a" / "big.png", np.zeros((40, 40, 3), np.uint8))
    monkeypatch.setattr(decode, "MAX_PIXELS", 1000)
    ds = open_folder(tmp_path, val_fraction=0.0)
    assert ds.split_size("train") == 4 and "too large" in dict(ds.skipped)["a/big.png"]


def test_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 1, "b": 1}, size=(6, 6))
    save_image(tmp_path / "a" / "big.jpg", np.full((64, 64, 3), 200, np.uint8))
    monkeypatch.setattr(decode, "MAX_PIXELS", 1100)  # 64×64 is over; the 1/2 draft (32×32) is under
    ds = open_folder(tmp_path, val_fraction=0.0)
    assert ds.split_size("train") == 3 and ds.skipped == []


@pytest.mark.parametrize("case, fragment", [
    ("missing", "does not exist"),
    ("file", "is a file"),
    ("empty", "is empty"),
    ("loose", "no class sub-folders"),
    ("single", "needs two or more"),
    ("empty_class", "without images"),
    ("all_corrupt", "no readable training image"),
])
def test_unusable_folders_give_one_clear_error(tmp_path, case, fragment):
    root = tmp_path / "data"
    if case == "file":
        root.write_text("x")
    elif case == "empty":
        root.mkdir()
    elif case == "loose":
        save_image(root / "a.png", np.zeros((4, 4, 3), np.uint8))
    elif case == "single":
        make_tree(root, {"only": 3})
    elif case == "empty_class":
        make_tree(root, {"a": 2, "b": 2})
        (root / "c").mkdir()
    elif case == "all_corrupt":
        make_tree(root, {"a": 2})
        (root / "b").mkdir()
        (root / "b" / "x.png").write_bytes(b"broken")
    with pytest.raises(DatasetError) as e:
        open_folder(root)
    assert fragment in str(e.value) and e.value.key == "dataset.source"


def test_min_per_class_leaves_small_classes_out(tmp_path):
    make_tree(tmp_path, {"a": 5, "b": 5, "c": 1})
    (tmp_path / "d").mkdir()
    ds = open_folder(tmp_path, min_per_class=2, val_fraction=0.0)
    assert ds.classes == ["a", "b"] and any("c (1)" in w for w in ds.warnings)


def test_describe_is_cheap_and_does_not_decode(tmp_path, monkeypatch):
    make_tree(tmp_path, {"a": 2, "b": 2, "c": 1})
    def no_decoding(*a, **k):
        raise AssertionError("describe_dataset opened an image")
    monkeypatch.setattr(Image, "open", no_decoding)
    d = describe_dataset({"source": f"folder:{tmp_path}"}, input_shape=(1, 16, 16))
    assert (d.num_classes, d.sample_shape, d.classes) == (3, (1, 16, 16), ["a", "b", "c"])
    d = describe_dataset({"source": f"folder:{tmp_path / 'nope'}"})
    assert d.num_classes is None and "not on this machine" in d.warnings[0]


def test_a_non_image_input_shape_is_a_warning(tmp_path):
    make_tree(tmp_path, {"a": 2, "b": 2})
    ds = open_dataset({"source": f"folder:{tmp_path}", "val_fraction": 0.0}, input_shape=(784,))
    assert ds.sample_shape == (3, 32, 32) and any("[C, H, W]" in w for w in ds.warnings)
