"""The Saliency dock: live probe events drawn within the latency budget, the Saliency/Grad-CAM
toggle, scrubbing and following, and the time-lapse of a reopened run read from probes/."""
from __future__ import annotations

import json

import numpy as np

from engine.explain.probe_result import ProbeResult
from engine.explain.probe_store import ProbeStore
from engine.runs import events as ev
from engine.runs.status import new_status
from test_window_fixtures import SAMPLE, home, no_torch, open_window, studio, window  # noqa: F401

CLASSES = ["circle", "square", "triangle", "cross", "ring", "star"]
N, H, W, h, w = 8, 32, 32, 16, 16


def probe_images() -> ev.ProbeImages:
    rng = np.random.default_rng(0)
    return ev.ProbeImages(images=rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8),
                          labels=np.arange(N, dtype=np.int64) % 6, classes=CLASSES)


def maps(seed: int) -> np.ndarray:
    """A bright spot per probe, somewhere that depends on ``seed``: frames are told apart."""
    m = np.zeros((N, h, w), np.float32)
    for i in range(N):
        m[i, (seed + i) % h, (2 * seed + i) % w] = 1.0
    return m


def saliency_event(step: int, wrong: int = 3, gradcam: bool = True) -> ev.Saliency:
    labels = np.arange(N, dtype=np.int64) % 6
    pred = labels.copy()
    pred[wrong] = (labels[wrong] + 1) % 6
    return ev.Saliency(epoch=1 + step // 100, step=step, saliency=maps(step),
                       gradcam=maps(step + 7) if gradcam else None, pred=pred,
                       confidence=np.linspace(0.5, 0.99, N).astype(np.float32), label=labels)


def live_handle(window):
    from studio.runs.handle import RunHandle
    handle = RunHandle(name="live run", parent=window.runs)
    handle._set_state("running")
    return handle


def shown_map(panel, index: int, view: str = "heatmap") -> np.ndarray:
    return panel.grid.view_items(index, view)[1].image


def test_live_events_update_the_dock_within_150_ms(window, qtbot):
    window.show_dock("saliency")
    panel = window.panel("saliency")
    qtbot.waitUntil(lambda: window.docks["saliency"].on_screen())
    handle = live_handle(window)
    window.runs.set_current(handle)
    assert panel.handle is handle and panel.stack.currentWidget() is panel.empty

    handle.event.emit(probe_images())
    with qtbot.waitSignal(panel.frame_shown, timeout=3000) as shown:
        handle.event.emit(saliency_event(100))
    assert shown.args == [100]
    qtbot.waitUntil(lambda: len(panel.latencies) == 1, timeout=3000)
    assert panel.latencies[0] <= 150, panel.latencies
    assert panel.stack.currentWidget() is panel.grid and panel.grid.count() == N
    images = probe_images().images
    for i in range(N):
        assert np.array_equal(panel.grid.view_items(i, "image")[0].image, images[i])
        assert np.array_equal(shown_map(panel, i), maps(100)[i])
        assert np.array_equal(shown_map(panel, i, "overlay"), maps(100)[i])
    captions = panel.grid.captions()
    assert captions[0] == "circle 50%" and "≠ cross" in captions[3]  # probe 3 is wrong
    assert "step 100" in panel.step_label.text()

    # Grad-CAM toggle: the same frame, the other map
    panel.findChild(type(panel.map_buttons.buttons()[1]), "map_gradcam").click()
    qtbot.waitUntil(lambda: np.array_equal(shown_map(panel, 0), maps(107)[0]))

    # a second round follows; scrubbing back stays put while a third arrives
    with qtbot.waitSignal(panel.frame_shown, timeout=3000):
        handle.event.emit(saliency_event(200))
    assert panel.slider.maximum() == 1 and panel.slider.value() == 1
    with qtbot.waitSignal(panel.frame_shown, timeout=3000) as shown:
        panel.slider.setValue(0)
    assert shown.args == [100] and not panel.following
    handle.event.emit(saliency_event(300))
    qtbot.waitUntil(lambda: panel.slider.maximum() == 2)
    assert panel.shown.step == 100 and panel.slider.value() == 0 and panel.live.isEnabled()
    with qtbot.waitSignal(panel.frame_shown, timeout=3000) as shown:
        panel.live.click()
    assert shown.args == [300] and panel.following
    assert np.array_equal(shown_map(panel, 2), maps(307)[2])

    # a run without a 2-D convolution sends no Grad-CAM: the toggle greys out, saliency shows
    with qtbot.waitSignal(panel.frame_shown, timeout=3000):
        handle.event.emit(saliency_event(400, gradcam=False))
    assert not panel.map_buttons.buttons()[1].isEnabled()
    assert np.array_equal(shown_map(panel, 0), maps(400)[0])

    window.runs.set_current(None)
    assert panel.stack.currentWidget() is panel.empty and panel.run_label.text() == "No run"
    assert no_torch()


def write_run(run_dir, steps) -> None:
    """A finished run directory whose probes/ holds ``steps`` rounds, as the trainer writes them."""
    run_dir.mkdir()
    status = dict(new_status(epochs=2), state="finished", epoch=2, step=steps[-1])
    (run_dir / "status.json").write_text(json.dumps(status))
    (run_dir / "config.json").write_text(json.dumps({"classes": CLASSES, "epochs": 2}))
    (run_dir / "project.json").write_text(SAMPLE.read_text())
    store = ProbeStore(run_dir)
    p = probe_images()
    store.write_images(p.images, p.labels, CLASSES)
    for step in steps:
        e = saliency_event(step)
        store.append(ProbeResult(saliency=e.saliency, gradcam=e.gradcam, saliency_scale=np.ones(N, np.float32),
                                 gradcam_scale=np.ones(N, np.float32), predicted=e.pred,
                                 confidence=e.confidence, labels=e.label, targets=e.pred),
                     step=step, epoch=e.epoch)


def test_time_lapse_replays_a_reopened_run(window, qtbot, tmp_path):
    steps = [10, 20, 30, 40, 50]
    run_dir = tmp_path / "shapes-20260101-000000"
    write_run(run_dir, steps)
    window.show_dock("saliency")
    panel = window.panel("saliency")
    qtbot.waitUntil(lambda: window.docks["saliency"].on_screen())

    window.runs.open_run_dir(run_dir)
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.step == 50, timeout=5000)
    assert panel.slider.maximum() == len(steps) - 1 and panel.slider.value() == len(steps) - 1
    assert panel.grid.count() == N and panel.play.isEnabled()
    assert np.array_equal(panel.grid.view_items(0, "image")[0].image, probe_images().images[0])
    assert np.allclose(shown_map(panel, 1), maps(50)[1], atol=1 / 255)
    assert panel.grid.captions()[0] == "circle 50%"

    # scrub: the round is read from disk
    with qtbot.waitSignal(panel.frame_shown, timeout=3000) as shown:
        panel.slider.setValue(1)
    assert shown.args == [20] and "(2/5)" in panel.step_label.text()
    assert np.allclose(shown_map(panel, 4), maps(20)[4], atol=1 / 255)

    # play from the start to the end, then it stops by itself
    panel.slider.setValue(0)
    seen = []
    panel.frame_shown.connect(seen.append)
    panel.play.click()
    qtbot.waitUntil(lambda: not panel.play.isChecked(), timeout=10_000)
    assert seen[-1] == 50 and sorted(set(seen)) == seen and set(seen) >= {20, 30, 40, 50}
    assert panel.following
    assert no_torch()


def test_opacity_and_colormap_change_the_overlay_only(window, qtbot):
    window.show_dock("saliency")
    panel = window.panel("saliency")
    panel.colormap.setCurrentText("viridis")
    panel.alpha.setValue(100)
    assert panel.grid.colormap == "viridis" and panel.grid.alpha == 1.0
    handle = live_handle(window)
    window.runs.set_current(handle)
    handle.event.emit(probe_images())
    with qtbot.waitSignal(panel.frame_shown, timeout=3000):
        handle.event.emit(saliency_event(5))
    heat, overlay = panel.grid.cells[0].heat["heatmap"], panel.grid.cells[0].heat["overlay"]
    assert heat.lut[0, 3] == 255 and overlay.lut[0, 3] == 0 and overlay.lut[-1, 3] == 255
    from widgets.heatmap import lookup_table
    assert np.array_equal(heat.lut[:, :3], lookup_table("viridis")[:, :3])
    assert not panel.slider.isEnabled()  # one round: nothing to scrub
