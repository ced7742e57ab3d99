"""The insight docks on a real tiny run started through ``window.runs`` (a real engine service
and training worker), then resumed for a second epoch, then reopened from its run directory.

The filters shown must be the weights the checkpoints hold. The design cannot pass by
accident: one batch per epoch makes each epoch a single optimizer step, and a new worker's
first step is always a probe round (the period is set far beyond the run's length, so there is
no other), so the run records filters at step 1 (epoch 1) and, once resumed, at step 2 (epoch
2) — exactly the steps of two checkpoints. Layer health completes a round on the step after
it (it measures that step's update), hence a third epoch. The dock's image for
each step is compared, in a subprocess that loads the checkpoint with torch
(``weights_only=True``; torch never enters this process), with the tiling of the checkpoint's
``conv1.weight``; and the two epochs' images must differ."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox

from test_window_fixtures import SAMPLE, no_torch

ROOT = Path(__file__).resolve().parents[2]
START_MS = 180_000  # the engine's first start imports torch in the fork server, on a busy machine
RUN_MS = 180_000
INSIGHT = ("filters", "feature_maps", "health", "evaluation")


def tiny_project() -> dict:
    doc = json.loads(SAMPLE.read_text())
    doc["name"] = "insight run"
    doc["dataset"] = {"source": "builtin:shapes", "size": 256, "val_fraction": 0.2, "seed": 0}
    # a batch larger than the training split: one step per epoch (see the module docstring)
    doc["training"] = {"epochs": 1, "batch_size": 256, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9},
                       "checkpoint": {"every": 1, "keep_last": 5}, "probes": {"period_s": 600}}
    return doc


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def engine_studio(qapp, tmp_path_factory):
    """A Studio with the real engine service, started once for the module."""
    from PySide6.QtCore import QEventLoop, QTimer

    from studio.app import Studio
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAYERSTUDIO_HOME", str(tmp_path_factory.mktemp("home")))
        studio = Studio()
        loop = QEventLoop()
        studio.engine_state_changed.connect(lambda state, _m: loop.quit() if state != "starting" else None)
        QTimer.singleShot(START_MS, loop.quit)
        studio.start_engine()
        if studio.engine_state == "starting":
            loop.exec()  # until the service answers (or fails): waits on the signal, never sleeps
        assert studio.engine_state == "ready", studio.engine_message
        server = studio.engine.host.server
        yield studio
        pids = [server.proc.pid, *server.pids.values()]
        studio.runs.close()
        studio.shutdown()
        QThreadPool.globalInstance().waitForDone(10_000)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QApplication.processEvents()
        assert not [p for p in pids if alive(p)], "engine or worker processes left running"
        studio.deleteLater()


@pytest.fixture
def live_window(engine_studio, qtbot, monkeypatch):
    """A main window of the Studio with the real engine; closed (without prompts) afterwards."""
    from studio.document import Document
    window = engine_studio.new_window(Document.open(SAMPLE))
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.painted, timeout=5000)
    yield window
    assert not engine_studio.runs.live(), "a run is still going"
    engine_studio.runs.set_current(None)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Discard)
    for w in list(engine_studio.windows):
        w.close()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


CHECK = r"""
import json, sys
import numpy as np, torch
from widgets.tiles import tile_filters
shown = np.load(sys.argv[1])
out = {}
for step in shown["steps"]:
    ckpt = torch.load(sys.argv[2] + f"/epoch-{step:04d}-step-{step:09d}.pt", weights_only=True, map_location="cpu")
    w = ckpt["model"]["conv1.weight"].numpy()
    out[int(step)] = {"position": ckpt["position"]["step"],
                      "weights_equal": bool(np.array_equal(w, shown[f"weights{step}"])),
                      "image_equal": bool(np.array_equal(tile_filters(w).image, shown[f"image{step}"], equal_nan=True))}
print(json.dumps(out))
"""


def wait_finished(qtbot, handle) -> None:
    qtbot.waitUntil(lambda: handle.state in ("finished", "failed", "stopped", "interrupted"), timeout=RUN_MS)
    assert handle.state == "finished", handle.failure


def test_a_real_run_fills_the_docks_and_its_filters_are_the_checkpoints_weights(live_window, qtbot, tmp_path):
    window = live_window
    panels = {name: window.panel(name) for name in INSIGHT}
    project = tiny_project()
    handle = window.runs.train(project, tmp_path / "insight.json")
    assert window.runs.current() is handle
    wait_finished(qtbot, handle)
    for p in panels.values():
        p.flush()

    # epoch 1, live: every dock has the run's data
    filters, maps, health, evaluation = (panels[n] for n in INSIGHT)
    assert sorted(filters.frames) == ["conv1", "conv2"] and sorted(filters.frames["conv1"]) == [1]
    image1 = filters.displayed()
    assert image1 is not None and image1.shape == (11, 17, 3) and np.isfinite(image1).sum() == 6 * 5 * 5 * 3
    assert np.nanstd(image1) > 0.01  # trained weights, not a blank
    assert maps.frames and maps.view.image() is not None and maps.gallery.count() > 0
    assert maps.frame.layer == "conv1" and maps.frame.maps.shape == (6, 28, 28)
    validation = handle.latest["validation"]
    assert evaluation.rounds and evaluation.round.step == 1
    confusion = evaluation.matrix.values()
    assert confusion.sum() == handle.latest["started"].val_samples > 40  # every validation image, once
    assert np.isclose(np.trace(confusion) / confusion.sum(), validation.accuracy)
    assert evaluation.correct.count() + evaluation.wrong.count() > 0

    # two more epochs: the resumed worker's first step (step 2) is a probe round, completed
    # by layer health at step 3
    window.runs.resume(handle, epochs=3)
    wait_finished(qtbot, handle)
    for p in panels.values():
        p.flush()
    assert sorted(filters.frames["conv1"]) == [1, 2]
    assert health.rounds and not health.rounds[max(health.rounds)].flags  # LeNet-5 is healthy
    rows = health.table.model_
    assert "conv1" in rows.nodes and np.isfinite(rows.latest("grad_norm")[rows.nodes.index("conv1")])
    assert window.canvas.scene().node("conv1").health is not None  # the canvas badges the run's layers
    image2 = filters.displayed()
    assert filters.frame.epoch == 2 and not np.array_equal(image1, image2, equal_nan=True)
    live_weights = {s: filters.frames["conv1"][s].weights for s in (1, 2)}

    # reopened: the docks read the run's probes/ again (nothing live)
    window.runs.set_current(None)
    assert filters.frames == {} and all(v is None for v in
                                       (n.health for n in window.canvas.scene().nodes().values()))
    window.runs.set_current(handle)
    qtbot.waitUntil(lambda: all(not p.loading for p in panels.values()) and bool(filters.frames), timeout=10_000)
    for p in panels.values():
        p.flush()
    assert sorted(filters.frames["conv1"]) == [1, 2] and sorted(evaluation.rounds) == [1, 2, 3]
    assert maps.frames and health.rounds and maps.gallery.count() > 0
    shown = {"steps": np.array([1, 2])}
    for i, step in enumerate((1, 2)):
        filters.slider.set_index(i)
        assert filters.frame.step == step and np.array_equal(filters.frame.weights, live_weights[step])
        shown[f"image{step}"] = filters.displayed()
        shown[f"weights{step}"] = filters.frame.weights
    np.savez(tmp_path / "shown.npz", **shown)

    out = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "shown.npz"),
                          str(Path(handle.run_dir) / "checkpoints")], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {str(s): {"position": s, "weights_equal": True, "image_equal": True} for s in (1, 2)}
    assert no_torch()


def test_the_sanity_checks_run_in_the_engine_service(live_window, qtbot):
    from engine.project.io import from_dict
    from studio.document import Document
    window = live_window
    window.set_document(Document(from_dict(tiny_project())))
    panel = window.panel("sanity")
    panel.steps.setValue(60)
    panel.overfit.button.click()
    assert panel.overfit.busy.isVisibleTo(panel) and not panel.overfit.button.isEnabled()
    qtbot.waitUntil(lambda: panel.overfit.button.isEnabled(), timeout=RUN_MS)
    result = panel.overfit_result
    assert result is not None, panel.overfit.result.text()
    assert len(result["losses"]) == 60 and result["losses"][-1] < result["losses"][0]
    x, y = panel.loss_plot.curve.getOriginalDataset()
    assert np.allclose(y, result["losses"]) and result["message"][1:] in panel.overfit.result.text()

    panel.gradcheck.button.click()
    qtbot.waitUntil(lambda: panel.gradcheck.button.isEnabled(), timeout=RUN_MS)
    assert panel.gradcheck_result is not None and panel.gradcheck_result["ok"], panel.gradcheck.result.text()
    assert "✓" in panel.gradcheck.result.text()
    assert no_torch()
