"""BatchSource (torch): resident and streamed paths give the same batches; exact resume;
evaluation order; normalization; augmentation on batches matches the numpy preview."""
import math

import numpy as np
import pytest
import torch

from engine.data import open_dataset
from engine.data import augment as np_aug
from engine.data.batch_augment import color_jitter, rotate_zoom
from engine.data.loader import make_batch_source
from engine.errors import DatasetError

ALL = {"hflip": True, "crop_padding": 3, "rotation": 20.0, "scale": 0.1, "color_jitter": 0.3}


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return open_dataset({"source": "builtin:shapes", "size": 240, "val_fraction": 0.2},
                        cache_dir=tmp_path_factory.mktemp("loader-cache"))


def batches(src, epoch, start=0):
    return [(x.clone(), y.clone()) for x, y in src.epoch(epoch, start)]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


def source(ds, **kw):
    kw.setdefault("batch_size", 32)
    kw.setdefault("seed", 7)
    kw.setdefault("train", True)
    return make_batch_source(ds, kw.pop("split", "train"), device="cpu", **kw)


@pytest.mark.parametrize("augment", [{}, {"hflip": True, "crop_padding": 4}, ALL])
def test_resident_and_streamed_give_the_same_batches(ds, augment):
    r = source(ds, augment=augment, resident=True)
    s = source(ds, augment=augment, resident=False, num_workers=0)
    assert r.resident and not s.resident
    assert same(batches(r, 2), batches(s, 2))


def test_worker_processes_read_the_same_batches(ds):
    import multiprocessing
    r = source(ds, augment={"hflip": True}, resident=True)
    w = source(ds, augment={"hflip": True}, resident=False, num_workers=2)
    assert same(batches(r, 1), batches(w, 1))
    assert same(batches(r, 2, start=3), batches(w, 2, start=3))  # the same workers, the next epoch
    w.close()
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("resident", [True, False])
def test_exact_resume_mid_epoch(ds, resident):
    src = source(ds, augment=ALL, resident=resident, num_workers=0)
    full = batches(src, 3)
    assert same(full[2:], batches(src, 3, start=2))
    assert same(full, batches(src, 3))  # the same epoch again: identical
    assert batches(src, 3, start=src.batches_per_epoch) == []
    with pytest.raises(ValueError):
        list(src.epoch(0, start_batch=src.batches_per_epoch + 1))


def test_order_depends_on_seed_and_epoch_only(ds):
    a = source(ds, seed=1)
    b = source(ds, seed=1)
    c = source(ds, seed=2)
    assert same(batches(a, 0), batches(b, 0))
    assert not torch.equal(batches(a, 0)[0][1], batches(a, 1)[0][1])
    assert not torch.equal(batches(a, 0)[0][1], batches(c, 0)[0][1])


def test_train_drops_the_partial_batch_eval_keeps_order_and_everything(ds):
    tr = source(ds, batch_size=50)
    assert (tr.num_samples, tr.batches_per_epoch, len(tr)) == (192, 3, 3)
    got = batches(tr, 0)
    assert all(len(y) == 50 for _, y in got)
    ys = torch.cat([y for _, y in got])
    assert len(set(ys.tolist())) == 6
    ev = source(ds, split="val", batch_size=20, train=False, augment=ALL)
    got = batches(ev, 0)
    assert [len(y) for _, y in got] == [20, 20, 8]
    x, y = ds.arrays("val")
    want = (torch.from_numpy(np.asarray(x, np.float32)) / 255 - torch.tensor(ds.mean).view(1, 3, 1, 1)) \
        / torch.tensor(ds.std).view(1, 3, 1, 1)
    xs = torch.cat([b for b, _ in got])
    assert torch.equal(torch.cat([b for _, b in got]), torch.from_numpy(np.asarray(y)))
    torch.testing.assert_close(xs, want, rtol=1e-5, atol=1e-5)
    assert xs.dtype == torch.float32 and xs.is_contiguous() and got[0][1].dtype == torch.int64


def test_normalized_training_batches_are_near_zero_mean_unit_std(ds):
    xs = torch.cat([x for x, _ in source(ds, batch_size=40).epoch(0)])
    assert xs.mean((0, 2, 3)).abs().max() < 0.05 and (xs.std((0, 2, 3)) - 1).abs().max() < 0.05


def unnormalize(ds, x):
    m, s = torch.tensor(ds.mean).view(1, 3, 1, 1), torch.tensor(ds.std).view(1, 3, 1, 1)
    return torch.round((x * s + m) * 255).to(torch.int64).numpy()


def test_flip_and_crop_are_real_flips_and_shifted_windows(ds):
    x_all, y_all = ds.arrays("train")
    plain = source(ds, batch_size=160)
    flip = source(ds, batch_size=160, augment={"hflip": True, "crop_padding": 2})
    (px, _), = batches(plain, 5)
    (fx, _), = batches(flip, 5)  # the same order: order does not depend on augmentation
    orig, aug = unnormalize(ds, px), unnormalize(ds, fx)
    flipped = 0
    for o, a in zip(orig[:40], aug[:40]):
        padded = np.zeros((3, 36, 36), np.int64)
        padded[:, 2:34, 2:34] = o
        found = None
        for f in (False, True):
            src = padded[:, :, ::-1] if f else padded
            for dy in range(5):
                for dx in range(5):
                    if np.array_equal(src[:, dy:dy + 32, dx:dx + 32], a):
                        found = f
        assert found is not None
        flipped += found
    assert 8 < flipped < 32


def test_rotation_matches_the_preview_and_zero_is_identity():
    rng = np.random.default_rng(0)
    img = (rng.random((24, 24, 3)) * 255).astype(np.uint8)
    img[6:18, 10:14] = 255
    t = torch.from_numpy(img.transpose(2, 0, 1)[None].astype(np.float32) / 255)
    same_img = rotate_zoom(t, torch.zeros(1), torch.ones(1))
    torch.testing.assert_close(same_img, t, atol=1e-5, rtol=0)
    for angle, zoom in ((30.0, 1.0), (-45.0, 1.2)):
        ours = rotate_zoom(t, torch.tensor([math.radians(angle)]), torch.tensor([zoom]))[0].numpy()
        pil = np_aug._rotate_zoom(img, angle, zoom).transpose(2, 0, 1) / 255
        inner = (slice(None), slice(4, 20), slice(4, 20))
        assert np.abs(ours[inner] - pil[inner]).mean() < 0.02


def test_color_jitter_matches_the_preview():
    rng = np.random.default_rng(1)
    img = rng.random((8, 8, 3)).astype(np.float32)
    want = np_aug.jitter(img, 1.2, 0.8, 1.3)
    got = color_jitter(torch.from_numpy(img.transpose(2, 0, 1)[None].copy()), torch.tensor([[1.2, 0.8, 1.3]]))
    np.testing.assert_allclose(got[0].numpy().transpose(1, 2, 0), want, atol=1e-5)


def test_auto_residency_follows_the_memory_budget(ds):
    assert source(ds, memory_budget=10**12).resident
    assert not source(ds, memory_budget=1000, num_workers=0).resident
    assert source(ds).resident  # tiny data, default budget (half the available RAM)
    assert not torch.cuda.is_initialized()


def test_signals_are_normalized_and_never_augmented(tmp_path):
    ds = open_dataset({"source": "builtin:waves", "size": 120}, cache_dir=tmp_path)
    src = make_batch_source(ds, "train", batch_size=16, device="cpu", seed=0, train=True)
    x, y = next(iter(src.epoch(0)))
    assert x.shape == (16, 1, 128) and x.dtype == torch.float32
    with pytest.raises(DatasetError) as e:
        make_batch_source(ds, "train", batch_size=16, device="cpu", seed=0, train=True, augment={"hflip": True})
    assert e.value.key == "dataset.augment"


def test_dataset_settings_are_the_defaults(tmp_path):
    ds = open_dataset({"source": "builtin:shapes", "size": 60, "augment": {"hflip": True}, "resident": False,
                       "num_workers": 0}, cache_dir=tmp_path)
    src = make_batch_source(ds, "train", batch_size=8, device="cpu", seed=0, train=True)
    assert src.opts["hflip"] and not src.resident and src.num_workers == 0
    off = make_batch_source(ds, "train", batch_size=8, device="cpu", seed=0, train=True, augment=False)
    assert not off.opts["hflip"]


def test_large_image_crop_path_matches_the_flat_gather(ds, monkeypatch):
    import engine.data.batch_augment as ba
    aug = {"hflip": True, "crop_padding": 3}
    flat = batches(source(ds, augment=aug), 1)
    monkeypatch.setattr(ba, "_FLAT_GATHER_MAX", 0)  # the two-gather path used for big images
    assert same(flat, batches(source(ds, augment=aug), 1))


def test_color_jitter_follows_torchvision():
    from torchvision.transforms.v2 import functional as TF
    rng = np.random.default_rng(2)
    img = torch.from_numpy(rng.random((2, 3, 8, 8)).astype(np.float32))
    factors = torch.tensor([[1.3, 0.7, 1.4], [0.6, 1.2, 0.5]])
    got = color_jitter(img.clone(), factors)
    for i, (b, c, s) in enumerate(factors.tolist()):
        want = TF.adjust_saturation(TF.adjust_contrast(TF.adjust_brightness(img[i], b), c), s)
        torch.testing.assert_close(got[i], want, atol=2e-6, rtol=0)


def test_flip_and_crop_follow_torchvision():
    from torchvision.transforms.v2 import functional as TF
    from engine.data.batch_augment import flip_crop
    x = torch.randint(0, 255, (2, 3, 10, 12), dtype=torch.uint8)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    p = {"flip": torch.tensor([True, False]), "offset": torch.tensor([[0, 3], [4, 1]])}
    got = flip_crop(padded, p, 2, (10, 12))
    for i in range(2):
        want = TF.pad(TF.horizontal_flip(x[i]) if p["flip"][i] else x[i], [2])
        dy, dx = p["offset"][i].tolist()
        want = TF.crop(want, dy, dx, 10, 12)
        assert torch.equal(got[i], want)
