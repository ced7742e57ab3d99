"""Probe rounds written to probes/ read back as a time-lapse, by a reader without torch."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.explain.probe_result import ProbeResult
from engine.explain.probe_store import ProbeStore, ProbeTimeline

ROOT = Path(__file__).resolve().parents[3]


def result(seed: int, n: int = 8) -> ProbeResult:
    rng = np.random.default_rng(seed)
    return ProbeResult(
        saliency=rng.random((n, 16, 16), dtype=np.float32), gradcam=rng.random((n, 16, 16), dtype=np.float32),
        saliency_scale=rng.random(n, dtype=np.float32), gradcam_scale=rng.random(n, dtype=np.float32),
        predicted=rng.integers(0, 6, n), confidence=rng.random(n, dtype=np.float32),
        labels=rng.integers(0, 6, n), targets=rng.integers(0, 6, n))


def test_time_lapse_round_trip(tmp_path):
    store = ProbeStore(tmp_path)
    images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    store.write_images(images, list(range(8)), ["a", "b", "c", "d", "e", "f"])
    written = {step: result(step) for step in (0, 50, 100)}
    for step, r in written.items():
        store.append(r, step=step, epoch=step // 50, time=1000.0 + step)
    tl = ProbeTimeline(tmp_path)
    assert tl.steps == [0, 50, 100] and len(tl) == 3
    for i, step in enumerate(tl.steps):
        f = tl.frame(i)
        r = written[step]
        assert (f.step, f.epoch, f.time) == (step, step // 50, 1000.0 + step)
        assert f.result.saliency.dtype == np.float32
        np.testing.assert_allclose(f.result.saliency, r.saliency, atol=0.5 / 255 + 1e-7)
        np.testing.assert_allclose(f.result.gradcam, r.gradcam, atol=0.5 / 255 + 1e-7)
        for name in ("saliency_scale", "gradcam_scale", "predicted", "confidence", "labels", "targets"):
            np.testing.assert_array_equal(getattr(f.result, name), getattr(r, name))
    assert tl.frame(-1).step == 100
    assert tl.index_at(75) == 1 and tl.index_at(100) == 2 and tl.index_at(-5) == 0
    imgs = tl.images()
    np.testing.assert_array_equal(imgs.images, images)
    assert imgs.class_names == ("a", "b", "c", "d", "e", "f")
    # a live run goes on: refresh reports only the new steps
    store.append(result(7), step=150, epoch=3)
    assert tl.refresh() == [150] and tl.steps[-1] == 150
    assert not [p for p in (tmp_path / "probes").iterdir() if p.name.startswith(".")]  # no temp files


def test_thinning_bounds_the_count_keeps_the_latest_and_stays_evenly_spaced(tmp_path):
    store = ProbeStore(tmp_path, max_frames=10)
    for step in range(0, 1000, 10):
        store.append(result(0, n=2), step=step, epoch=0)
        steps = ProbeTimeline(tmp_path).steps
        assert len(steps) <= 11 and steps[-1] == step   # 10 kept + the newest round
    assert steps[0] <= 160                              # the time-lapse still starts early
    gaps = np.diff(steps[:-1])
    assert gaps.min() == gaps.max()                     # evenly spaced


def test_a_frame_thinned_away_while_viewing_falls_back_to_an_earlier_one(tmp_path):
    store = ProbeStore(tmp_path)
    for step in (0, 10, 20):
        store.append(result(step, n=2), step=step, epoch=0)
    tl = ProbeTimeline(tmp_path)
    (tmp_path / "probes" / "saliency-0000000010.npz").unlink()
    assert tl.frame(1).step == 0 and tl.steps == [0, 20]


def test_empty_or_missing_probes_folder(tmp_path):
    tl = ProbeTimeline(tmp_path)
    assert tl.steps == [] and tl.images() is None


def test_reader_and_preprocess_import_no_torch(tmp_path):
    ProbeStore(tmp_path).append(result(1), step=5, epoch=0)
    code = ("import sys, json; from engine.explain.probe_store import ProbeTimeline; "
            "import engine.explain.preprocess; "
            f"f = ProbeTimeline({str(tmp_path)!r}).frame(0); "
            "print(json.dumps([f.step, 'torch' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [5, False]


def test_images_must_be_uint8(tmp_path):
    with pytest.raises(ValueError):
        ProbeStore(tmp_path).write_images(np.zeros((2, 8, 8, 3), np.float32), [0, 1])
