"""The live insight docks fed with probe events: Filters, Feature maps, Layer health (and the
canvas badges), Evaluation, and the Sanity dock's engine requests; plus a reopened run whose
probes/ history was written by the engine's own ProbeWriter."""
from __future__ import annotations

import json
import time

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel

from engine.runs import events as ev
from widgets.confusion import row_normalize
from widgets.health_view import COLORS
from widgets.tiles import tile_feature_maps, tile_filters
from test_window_fixtures import SAMPLE, home, no_torch, open_window, studio, window  # noqa: F401

CLASSES = ["circle", "square", "triangle", "cross", "ring", "star"]
PROJECT = json.loads(SAMPLE.read_text())
HEALTH_NODES = ["conv1", "relu1", "conv2", "relu2", "fc1", "relu3", "fc2", "relu4", "fc3"]


def filters(layer: str, step: int, shape=(6, 3, 5, 5), seed: int = 0) -> ev.Filters:
    w = np.random.default_rng(seed + step).normal(0, 0.1, shape).astype(np.float32)
    counts, edges = np.histogram(w, bins=32)
    return ev.Filters(epoch=1 + step // 10, step=step, layer=layer, weights=w, truncated=False,
                      mean=float(w.mean()), std=float(w.std()), hist_counts=counts.astype(np.int64),
                      hist_edges=edges.astype(np.float32))


def feature_maps(step: int, layer: str = "conv1", image: int = 0, channels: int = 6) -> ev.FeatureMaps:
    maps = np.random.default_rng(step * 10 + image).random((channels, 28, 28)).astype(np.float32)
    return ev.FeatureMaps(epoch=1, step=step, layer=layer, image_index=image,
                          image=np.full((32, 32, 3), 40 * image, np.uint8), maps=maps, shape=[channels, 28, 28])


def probe_images(n: int = 8) -> ev.ProbeImages:
    rng = np.random.default_rng(3)
    return ev.ProbeImages(images=rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                          labels=np.arange(n, dtype=np.int64) % 6, classes=CLASSES)


def health(step: int, flags=None, dead_relu1: float = 0.0) -> ev.LayerHealth:
    n = len(HEALTH_NODES)
    dead = np.full(n, np.nan, np.float32)
    dead[[i for i, x in enumerate(HEALTH_NODES) if x.startswith("relu")]] = 0.1
    dead[HEALTH_NODES.index("relu1")] = dead_relu1
    grad = np.where([x.startswith("relu") for x in HEALTH_NODES], np.nan, 0.5 + step / 100).astype(np.float32)
    return ev.LayerHealth(epoch=1, step=step, nodes=list(HEALTH_NODES), grad_norm=grad,
                          weight_norm=grad * 10, update_ratio=grad / 1000, dead_fraction=dead,
                          flags=dict(flags or {}))


def gallery(n: int, wrong: bool) -> dict:
    true = np.arange(n, dtype=np.int64) % 6
    return {"images": np.full((n, 32, 32, 3), 200, np.uint8), "true": true,
            "pred": (true + 1) % 6 if wrong else true, "prob": np.linspace(0.99, 0.6, n).astype(np.float32)}


def evaluation(step: int, seed: int = 0) -> ev.Evaluation:
    rng = np.random.default_rng(seed)
    confusion = rng.integers(0, 5, (6, 6)).astype(np.int64) + np.diag(rng.integers(10, 20, 6))
    acc = (np.diag(confusion) / confusion.sum(axis=1)).astype(np.float32)
    return ev.Evaluation(epoch=step // 10, step=step, classes=CLASSES, confusion=confusion, per_class_accuracy=acc,
                         confident_correct=gallery(4, False), confident_wrong=gallery(3, True))


class Worker:
    """What RunHandle.send reaches: the commands a live worker would receive."""

    def __init__(self) -> None:
        self.is_done = False
        self.sent: list[dict] = []

    def _send(self, command: dict) -> None:
        self.sent.append(command)

    def configure_probes(self, **config) -> None:
        self._send({"cmd": "probe_config", "config": config})


def live_run(window, live: bool = True):
    from studio.runs.handle import RunHandle
    handle = RunHandle(name="live run", project=json.loads(json.dumps(PROJECT)), parent=window.runs)
    handle.classes = list(CLASSES)
    if live:
        handle.training = Worker()
    handle._set_state("running")
    window.runs.set_current(handle)
    return handle


def panel_of(window, qtbot, name: str):
    window.show_dock(name)
    panel = window.panel(name)
    qtbot.waitUntil(lambda: window.docks[name].on_screen())
    return panel


def nan_equal(a, b) -> bool:
    return a is not None and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# -- Filters -------------------------------------------------------------------------------------

def test_filters_dock_tiles_the_weights_with_their_statistics_and_history(window, qtbot):
    panel = panel_of(window, qtbot, "filters")
    assert "No run" in panel.message.text()
    handle = live_run(window)
    assert [panel.combo.itemData(i) for i in range(panel.combo.count())] == ["conv1", "conv2"]
    first = filters("conv1", 5)
    handle.event.emit(first)
    handle.event.emit(filters("conv2", 5, shape=(16, 6, 5, 5)))
    panel.flush()
    assert panel.layer == "conv1" and panel.frame is first
    assert nan_equal(panel.displayed(), tile_filters(first.weights).image)
    assert panel.displayed().shape == (2 * 6 - 1, 3 * 6 - 1, 3)  # six RGB filters, 2 x 3
    x, y = panel.hist_curve.getData()
    assert np.array_equal(y, first.hist_counts) and np.allclose(x, first.hist_edges)
    assert y.sum() == first.weights.size
    assert f"mean {first.mean:.4g}" in panel.stats.text() and "step 5" in panel.stats.text()

    second = filters("conv1", 15)
    handle.event.emit(second)
    panel.flush()
    assert nan_equal(panel.displayed(), tile_filters(second.weights).image)  # the slider follows the newest
    assert panel.slider.slider.maximum() == 1 and "epoch 2 · step 15" in panel.slider.label.text()
    panel.slider.set_index(0)
    assert nan_equal(panel.displayed(), tile_filters(first.weights).image)
    handle.event.emit(filters("conv1", 25))
    panel.flush()
    assert panel.frame is first  # scrubbed back: a new round does not pull the view away

    panel.per_tile.setChecked(True)
    assert nan_equal(panel.displayed(), tile_filters(first.weights, per_tile=True).image)
    panel.combo.setCurrentIndex(1)
    panel.combo.activated.emit(1)
    assert panel.layer == "conv2" and panel.displayed().shape == (16 * 6 - 1, 6 * 6 - 1)  # gray, 16 x 6
    assert handle.training.sent == []  # conv2 is streamed already: nothing to ask for
    assert "output channel 3, input channel 2" == panel._describe(3 * 6 + 2)

    window.runs.set_current(None)
    panel.flush()
    assert panel.displayed() is None and "No run" in panel.message.text()


def test_filters_dock_asks_a_live_run_for_a_layer_it_does_not_stream(window, qtbot):
    panel = panel_of(window, qtbot, "filters")
    project = json.loads(json.dumps(PROJECT))
    project["graph"]["nodes"].insert(5, {"id": "conv_x", "type": "Conv1d", "params": {"out_channels": 4,
                                                                                     "kernel_size": 3}})
    handle = live_run(window)
    handle.project = project
    window.runs.set_current(None)
    window.runs.set_current(handle)
    handle.event.emit(filters("conv1", 5))
    i = panel.combo.findData("conv_x")
    panel.combo.setCurrentIndex(i)
    panel.combo.activated.emit(i)
    assert handle.training.sent == [{"cmd": "probe_config", "config": {"filter_layer": "conv_x"}}]
    panel.flush()
    assert panel.displayed() is None and "No filters recorded yet" in panel.message.text()
    handle.event.emit(filters("conv_x", 8, shape=(4, 2, 3)))
    panel.flush()
    assert panel.displayed().shape == (2 * 3 - 1, 2 * 4 - 1)  # Conv1d: four 2 x 3 tiles


# -- Feature maps ------------------------------------------------------------------------------------

def test_feature_maps_dock_shows_the_chosen_layer_and_image_and_tells_the_worker(window, qtbot):
    panel = panel_of(window, qtbot, "feature_maps")
    handle = live_run(window)
    handle.event.emit(probe_images())
    first = feature_maps(3)
    handle.event.emit(first)
    panel.flush()
    assert panel.gallery.count() == 8 and panel.gallery.captions()[:3] == CLASSES[:3]
    assert nan_equal(panel.view.image(), tile_feature_maps(first.maps).image)
    assert panel.combo.currentData() == "conv1" and panel.gallery.currentRow() == 0
    assert "output 6×28×28" in panel.shape_label.text() and not panel.input_view.pixmap().isNull()

    panel.gallery.setCurrentRow(3)  # the user picks probe image 3
    assert handle.training.sent[-1] == {"cmd": "probe_config", "config": {"feature_layer": "conv1",
                                                                           "feature_image": 3}}
    panel.flush()
    assert panel.view.image() is None and "Waiting for the next probe round" in panel.message.text()
    chosen = feature_maps(4, image=3)
    handle.event.emit(chosen)
    panel.flush()
    assert panel.frame is chosen and nan_equal(panel.view.image(), tile_feature_maps(chosen.maps).image)

    i = panel.combo.findData("relu2")
    panel.combo.setCurrentIndex(i)
    panel.combo.activated.emit(i)
    assert handle.training.sent[-1]["config"] == {"feature_layer": "relu2", "feature_image": 3}
    relu2 = feature_maps(5, layer="relu2", image=3, channels=16)
    handle.event.emit(relu2)
    panel.per_tile.setChecked(False)
    panel.flush()
    assert nan_equal(panel.view.image(), tile_feature_maps(relu2.maps, per_tile=False).image)
    assert panel.slider.slider.maximum() == 0  # one round of relu2 for image 3 so far


# -- Layer health ----------------------------------------------------------------------------------

def health_colors(window) -> dict:
    scene = window.canvas.scene()
    return {n: item.health for n, item in scene.nodes().items()}


def test_health_flags_colour_the_table_and_the_canvas_and_clear_without_a_run(window, qtbot):
    panel = panel_of(window, qtbot, "health")
    handle = live_run(window)
    handle.event.emit(health(10))
    handle.event.emit(health(20, flags={"conv1": "vanishing", "fc1": "exploding"}, dead_relu1=0.8))
    panel.flush()
    colors = health_colors(window)
    assert colors["conv1"] == COLORS["vanishing"] and colors["fc1"] == COLORS["exploding"]
    assert colors["relu1"] == COLORS["dead"] and colors["conv2"] == COLORS["ok"]
    assert colors["input"] is None and colors["flatten"] is None  # not reported: no badge
    model = panel.table.model_
    assert model.nodes == HEALTH_NODES and model.status[:2] == ["vanishing", "dead"]
    assert model.index(0, 5).data() == "vanishing gradient"
    assert model.index(4, 1).data() == f"{0.5 + 20 / 100:.3g}"  # fc1's latest gradient norm
    values, log = model.spark(model.index(4, 1))
    assert log and np.allclose(values, [0.6, 0.7])  # the sparkline's history
    assert model.index(1, 1).data() == "—" and model.index(1, 4).data() == "80%"
    assert "conv1</b>: vanishing" in panel.summary.text() and "fc1</b>: exploding" in panel.summary.text()
    assert model.flags(model.index(0, 1)) & Qt.ItemFlag.ItemIsEnabled  # Qt's flags(), not shadowed by data
    assert not panel.table.grab().isNull()  # every cell painted through the sparkline delegate

    handle.event.emit(health(30))  # the flags went away
    assert health_colors(window)["conv1"] == COLORS["ok"]
    window.runs.set_current(None)
    assert all(c is None for c in health_colors(window).values())
    panel.flush()
    assert panel.table.model_.rowCount() == 0 and "No run" in panel.summary.text()


# -- Evaluation ------------------------------------------------------------------------------------

def test_evaluation_dock_draws_the_confusion_matrix_accuracies_and_galleries(window, qtbot):
    panel = panel_of(window, qtbot, "evaluation")
    handle = live_run(window)
    e = evaluation(10)
    handle.event.emit(ev.Validation(epoch=1, step=10, loss=1.0, accuracy=0.5, confusion=e.confusion,
                                    classes=CLASSES))
    handle.event.emit(e)
    panel.flush()
    total = int(e.confusion.sum())
    assert np.array_equal(panel.matrix.values(), e.confusion) and panel.matrix.values().sum() == total
    assert panel.round is e and f"of {total} validation images" in panel.summary.text()
    assert f"{np.trace(e.confusion) / total:.1%}" in panel.summary.text()
    assert np.allclose(panel.bars.counts, np.round(e.per_class_accuracy * 100, 1))
    assert panel.bars.labels == CLASSES
    panel.normalized.setChecked(True)
    assert np.allclose(panel.matrix.values().sum(axis=1), 1) and np.allclose(panel.matrix.values(),
                                                                               row_normalize(e.confusion))
    assert np.array_equal(panel.matrix.image.image, panel.matrix.values())
    n = int(e.confusion[1, 2])
    assert panel.matrix.describe(1, 2).startswith(f"true square, predicted triangle: {n} image")
    # hovering the cell shows the same words
    view = panel.matrix.getPlotItem().getViewBox()
    panel.matrix._moved(view.mapViewToScene(QPointF(2, 1)))
    assert panel.matrix.toolTip() == panel.matrix.describe(1, 2)

    assert panel.correct.count() == 4 and panel.wrong.count() == 3
    assert panel.correct.captions()[0] == "circle\n99%" and panel.wrong.captions()[0] == "circle→square\n99%"
    bottom = panel.matrix.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [i for i, _ in bottom] == list(range(6)) and all(CLASSES[i].startswith(t.rstrip("…")) or t == str(i)
                                                            for i, t in bottom)
    assert "predicted square with probability 99.0%" in panel.wrong.item(0).toolTip()

    later = evaluation(20, seed=1)
    handle.event.emit(later)
    panel.flush()
    assert np.allclose(panel.matrix.values(), row_normalize(later.confusion)) and panel.slider.slider.maximum() == 1


def test_evaluation_falls_back_to_validation_matrices_and_ignores_empty_ones(window, qtbot):
    panel = panel_of(window, qtbot, "evaluation")
    handle = live_run(window, live=False)
    handle.event.emit(ev.Validation(epoch=1, step=4, loss=1.0, accuracy=0.5, confusion=np.zeros((0, 0), np.int64)))
    panel.flush()
    assert panel.round is None and "No validation yet" in panel.message.text()
    c = np.eye(6, dtype=np.int64) * 5
    c[0, 1] = 5
    handle.event.emit(ev.Validation(epoch=1, step=4, loss=1.0, accuracy=0.5, confusion=c, classes=CLASSES))
    panel.flush()
    assert np.array_equal(panel.matrix.values(), c) and panel.bars.counts[0] == 50.0
    assert panel.correct.count() == 0 and "not recorded" in panel.correct_title.text()


# -- Sanity ----------------------------------------------------------------------------------------

class ReplyingEngine(QObject):
    """The request side of EngineService: records requests, the test answers them."""
    reply = Signal(int, object)
    failed = Signal(int, object)
    running = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[int, str, dict]] = []

    def request(self, kind, payload=None) -> int:
        self.requests.append((len(self.requests) + 1, kind, payload))
        return len(self.requests)

    def shutdown(self, timeout: float = 5.0) -> None:
        pass


def test_sanity_dock_sends_the_checks_and_shows_their_answers(window, qtbot, monkeypatch):
    panel = panel_of(window, qtbot, "sanity")
    panel.overfit.button.click()  # the fake engine of the window tests answers no requests
    assert "engine service is not running" in panel.overfit.result.text() and panel.overfit.button.isEnabled()

    engine = ReplyingEngine()
    monkeypatch.setattr(window.studio, "engine", engine)
    panel.steps.setValue(120)
    panel.overfit.button.click()
    rid, kind, payload = engine.requests[-1]
    assert kind == "overfit_batch" and payload["steps"] == 120
    assert payload["project"] == window.document.project.to_dict()
    assert panel.overfit.busy.isVisible() and not panel.overfit.button.isEnabled()
    losses = np.geomspace(1.8, 0.002, 120).astype(np.float32)
    engine.reply.emit(rid, {"losses": losses, "final_loss": 0.0019, "final_accuracy": 1.0, "floor": 0.0,
                            "batch_size": 64, "learned": True, "seconds": 2.5,
                            "message": "the model drove one batch of 64 from loss 1.8 to 0.0019 in 120 steps: "
                                       "it can learn"})
    assert not panel.overfit.busy.isVisible() and panel.overfit.button.isEnabled()
    x, y = panel.loss_plot.curve.getOriginalDataset()
    assert np.allclose(y, losses) and np.array_equal(x, np.arange(1, 121)) and panel.loss_plot.isVisible()
    assert panel.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()  # a loss falling by decades
    text = panel.overfit.result.text()
    assert "✓" in text and "The model drove one batch" in text and "accuracy on the batch 100%, 2.5 s" in text

    panel.gradcheck.button.click()
    rid, kind, payload = engine.requests[-1]
    assert kind == "gradcheck" and set(payload) == {"project"}
    assert panel.gradcheck.busy.isVisible()
    engine.failed.emit(rid, {"message": "conv1: the graph has errors", "details": "Traceback …"})
    assert "✗" in panel.gradcheck.result.text() and "Conv1: the graph has errors" in panel.gradcheck.result.text()
    assert "Traceback" not in panel.gradcheck.result.text() and not panel.gradcheck.busy.isVisible()
    panel.gradcheck.button.click()
    engine.reply.emit(engine.requests[-1][0], {"ok": False, "message": "the gradients do not match finite "
                                               "differences (Jacobian mismatch)", "tensors": 3, "elements": 40,
                                               "seconds": 0.4, "details": ["Jacobian mismatch", "numerical: 1.0"]})
    assert "✗" in panel.gradcheck.result.text() and "The gradients do not match" in panel.gradcheck.result.text()
    details = panel.findChild(QLabel, "gradcheck_details")
    assert details is not None and details.text() == "Jacobian mismatch\nnumerical: 1.0"
    panel.gradcheck.button.click()
    assert panel.findChild(QLabel, "gradcheck_details") is None or not panel.findChild(
        QLabel, "gradcheck_details").isVisible()
    engine.reply.emit(engine.requests[-1][0], {"ok": True, "message": "gradients check out in float64",
                                               "tensors": 3, "elements": 40, "seconds": 0.4, "details": []})
    assert "✓" in panel.gradcheck.result.text() and "Gradients check out in float64 (0.4 s)" in \
        panel.gradcheck.result.text()


# -- A reopened run ----------------------------------------------------------------------------------

def test_a_reopened_run_shows_its_probe_history_read_off_the_gui_thread(window, qtbot, tmp_path):
    from engine.runs.probes import ProbeWriter
    from engine.runs.status import new_status
    path = tmp_path / "runs" / "old-run"
    path.mkdir(parents=True)
    (path / "project.json").write_text(json.dumps(PROJECT))
    (path / "config.json").write_text(json.dumps({"classes": CLASSES, "epochs": 2}))
    (path / "status.json").write_text(json.dumps(dict(new_status(epochs=2), state="finished", epoch=2, step=20)))
    writer = ProbeWriter(path)
    writer.probe_images(probe_images())
    for step in (1, 10, 20):
        writer.filters([filters("conv1", step), filters("conv2", step, shape=(16, 6, 5, 5))], time=time.time())
        writer.feature_maps(feature_maps(step), time=time.time())
        writer.health(health(step, flags={"fc1": "exploding"} if step == 20 else {}), time=time.time())
    writer.evaluation(evaluation(10), time=time.time())
    writer.evaluation(evaluation(20, seed=1), time=time.time())

    names = ("filters", "feature_maps", "health", "evaluation")
    panels = {n: panel_of(window, qtbot, n) for n in names}
    window.runs.open_run_dir(path)
    qtbot.waitUntil(lambda: all(not p.loading for p in panels.values()) and bool(panels["health"].rounds),
                    timeout=10_000)
    for p in panels.values():
        p.flush()
    f = panels["filters"]
    assert sorted(f.frames["conv1"]) == [1, 10, 20] and f.slider.slider.maximum() == 2
    assert nan_equal(f.displayed(), tile_filters(filters("conv1", 20).weights).image)
    f.slider.set_index(0)
    assert nan_equal(f.displayed(), tile_filters(filters("conv1", 1).weights).image)
    fm = panels["feature_maps"]
    assert fm.gallery.count() == 8 and sorted(fm.frames) == [1, 10, 20]
    assert np.allclose(fm.view.image(), tile_feature_maps(feature_maps(20).maps).image, equal_nan=True, atol=1e-3)
    assert panels["health"].table.model_.status[HEALTH_NODES.index("fc1")] == "exploding"
    assert health_colors(window)["fc1"] == COLORS["exploding"]
    e = panels["evaluation"]
    assert sorted(e.rounds) == [10, 20] and np.array_equal(e.matrix.values(), evaluation(20, seed=1).confusion)
    assert e.wrong.count() == 3
    assert no_torch()
