"""The Explain dock against a scripted engine service: each tab's request goes out with the
right payload, replies render, failures show inline, Cancel drops a late answer, an image
dropped on the window lands here. (test_explain_service.py does the real round trip.)"""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from engine.runs.status import new_status
from test_window_fixtures import SAMPLE, home, no_torch, open_window, studio, window  # noqa: F401

CLASSES = ["circle", "square", "triangle", "cross", "ring", "star"]


class ScriptedService(QObject):
    """EngineService's request interface; the test answers each request by hand."""
    ready = Signal()
    devices_changed = Signal(list)
    died = Signal(str)
    reply = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object)

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[int, str, dict]] = []
        self.cancelled: list[int] = []

    def request(self, kind: str, payload: dict | None = None) -> int:
        rid = len(self.requests) + 1
        self.requests.append((rid, kind, json.loads(json.dumps(payload))))  # as the wire would carry it
        return rid

    def cancel(self, rid: int) -> None:
        self.cancelled.append(rid)

    def shutdown(self, timeout: float = 5.0) -> None:
        pass

    def last(self, kind: str) -> tuple[int, dict]:
        rid, _, payload = next(r for r in reversed(self.requests) if r[1] == kind)
        return rid, payload


@pytest.fixture
def service(studio):
    svc = ScriptedService()
    studio.engine = svc
    yield svc
    studio.engine = None


@pytest.fixture
def run_dir(tmp_path):
    path = tmp_path / "runs" / "LeNet-5-on-shapes-20260101-000000"
    path.mkdir(parents=True)
    (path / "status.json").write_text(json.dumps(dict(new_status(epochs=2), state="finished", epoch=2, step=20)))
    (path / "config.json").write_text(json.dumps({"classes": CLASSES, "epochs": 2, "val_samples": 48,
                                                  "train_samples": 144}))
    (path / "project.json").write_text(SAMPLE.read_text())
    return path


@pytest.fixture
def panel(window, service, run_dir, qtbot):
    window.runs.open_run_dir(run_dir)
    window.show_dock("explain")
    p = window.panel("explain")
    qtbot.waitUntil(lambda: p.source.handle() is not None)
    return p


def png(tmp_path, name="cat.png", size=(40, 30)) -> str:
    image = QImage(size[0], size[1], QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.darkCyan)
    path = tmp_path / name
    assert image.save(str(path))
    return str(path)


def test_classify_sends_the_run_checkpoint_and_image_and_shows_the_top_5(panel, service, run_dir, tmp_path, qtbot):
    image = png(tmp_path)
    panel.source.set_image_file(image)
    panel.source.checkpoint.setCurrentIndex(1)
    panel.classify.classify_button.click()
    rid, payload = service.last("classify")
    assert payload == {"run_dir": str(run_dir.resolve()), "checkpoint": "last", "image_path": image}
    assert panel.classify.busy and not panel.classify.classify_button.isEnabled()
    pixels = np.zeros((32, 32, 3), np.uint8)
    saliency = np.zeros((32, 32), np.float32)
    saliency[4, 5] = 1.0
    top = [{"index": i, "class": CLASSES[i], "probability": p}
           for i, p in ((2, 0.7), (0, 0.2), (1, 0.05), (3, 0.03), (4, 0.02))]
    with qtbot.waitSignal(panel.classify.answered) as answered:
        service.reply.emit(rid, {"top": top, "image": pixels, "saliency": saliency})
    assert answered.args == ["done"] and panel.classify.classify_button.isEnabled()
    table = panel.classify.top
    assert [table.item(r, 0).text() for r in range(5)] == ["triangle", "circle", "square", "cross", "ring"]
    assert table.cellWidget(0, 1).text() == "70.0%"
    assert np.array_equal(panel.classify.maps.view_items(0, "heatmap")[1].image, saliency)
    assert panel.classify.results.currentWidget() is panel.classify.one
    assert no_torch()


def test_a_dataset_sample_and_a_folder(panel, service, run_dir, tmp_path, qtbot):
    panel.source.split_box.setCurrentText("val")
    panel.source.index_box.setValue(7)
    panel.findChild(type(panel.classify.classify_button), "explain_use_sample").click()
    panel.classify.classify()
    _, payload = service.last("classify")
    assert payload["split"] == "val" and payload["index"] == 7 and "image_path" not in payload
    assert panel.source.index_box.maximum() == 47  # val_samples from the run's config

    folder = tmp_path / "photos"
    panel.classify.classify_folder(str(folder))
    rid, payload = service.last("classify")
    assert payload == {"run_dir": str(run_dir.resolve()), "checkpoint": "best", "folder": str(folder)}
    rows = [{"path": str(folder / "circle" / "a.png"), "label": 0, "predicted": 0, "confidence": 0.9},
            {"path": str(folder / "circle" / "b.png"), "label": 0, "predicted": 1, "confidence": 0.6},
            {"path": str(folder / "loose.png"), "label": None, "predicted": 5, "confidence": 0.8}]
    confusion = np.zeros((6, 6), np.int64)
    confusion[0, 0] = confusion[0, 1] = 1
    with qtbot.waitSignal(panel.classify.answered):
        service.reply.emit(rid, {"rows": rows, "skipped": [[str(folder / "bad.png"), "cannot be decoded"]],
                                 "classes": CLASSES, "accuracy": 0.5, "confusion": confusion})
    c = panel.classify
    assert c.results.currentWidget() is c.many and c.rows.rowCount() == 3
    assert "accuracy 50.0% over 2 labelled" in c.accuracy.text() and "1 skipped" in c.accuracy.text()
    assert "bad.png: cannot be decoded" in c.accuracy.toolTip()
    assert np.array_equal(c.confusion.confusion, confusion)
    texts = {(c.rows.item(r, 0).text(), c.rows.item(r, 2).text()) for r in range(3)}
    assert texts == {("a.png", "circle"), ("b.png", "square"), ("loose.png", "star")}


def test_bad_input_is_shown_inline_and_changes_nothing(panel, service, tmp_path, qtbot):
    panel.classify.classify()
    assert not [r for r in service.requests if r[1] == "classify"]
    assert "Choose an image" in panel.classify.message.text()
    panel.source.set_image_file(png(tmp_path))
    panel.classify.classify()
    rid, _ = service.last("classify")
    with qtbot.waitSignal(panel.classify.answered) as answered:
        service.failed.emit(rid, {"message": "the image has 4 channels, the network takes 3", "details": "trace"})
    assert answered.args == ["failed"]
    assert panel.classify.message.text() == "The image has 4 channels, the network takes 3"
    assert "c62828" in panel.classify.message.styleSheet()
    assert panel.classify.results.currentWidget() is panel.classify.placeholder  # nothing drawn


def test_attribution_estimates_first_then_runs_with_progress_and_cancel(panel, service, tmp_path, qtbot):
    tab = panel.attribution
    panel.tabs.setCurrentWidget(tab)
    image = png(tmp_path)
    panel.source.set_image_file(image)
    tab.method.setCurrentIndex(tab.method.findData("smoothgrad"))
    tab.samples.setValue(8)
    qtbot.waitUntil(lambda: any(k == "attribute" and p["mode"] == "estimate" for _, k, p in service.requests),
                    timeout=3000)
    rid, payload = service.last("attribute")
    assert payload["method"] == "smoothgrad" and payload["options"] == {"samples": 8, "noise": 0.15}
    assert payload["image_path"] == image and payload["mode"] == "estimate" and "target" not in payload
    service.reply.emit(rid, {"seconds": 1.5, "passes": 1, "rows": 8})
    assert tab.run_button.text() == "Run (≈ 1.5 s)" and "1 pass," in tab.cost.text()

    tab.target.setCurrentIndex(tab.target.findData(3))  # explain "cross"
    qtbot.waitUntil(lambda: service.last("attribute")[1].get("target") == 3, timeout=3000)
    tab.run_attribution()
    rid, payload = service.last("attribute")
    assert payload["mode"] == "run" and payload["target"] == 3
    service.progress.emit(rid, {"done": 3, "total": 8})
    assert tab.busy_row.isVisible() and tab.progress.value() == 3 and tab.progress.maximum() == 8
    with qtbot.waitSignal(tab.answered) as answered:
        tab.cancel_button.click()
    assert answered.args == ["cancelled"] and service.cancelled == [rid]
    assert not tab.busy_row.isVisible() and tab.run_button.isEnabled() and tab.message.text() == "Cancelled."
    service.reply.emit(rid, {"image": np.zeros((8, 8, 3), np.uint8), "map": np.ones((8, 8), np.float32)})
    QApplication.processEvents()
    assert tab.maps.count() == 0  # the late answer of a cancelled request is dropped

    tab.run_attribution()
    rid, _ = service.last("attribute")
    heat = np.random.default_rng(0).random((8, 8)).astype(np.float32)
    with qtbot.waitSignal(tab.answered):
        service.reply.emit(rid, {"image": np.zeros((8, 8, 3), np.uint8), "map": heat, "target": 3,
                                 "target_class": "cross", "seconds": 0.25})
    assert np.array_equal(tab.maps.view_items(0, "overlay")[1].image, heat)
    assert "cross" in tab.maps.captions()[0] and tab.call.seconds is not None


def test_occlusion_options_and_fgsm_and_activation_max(panel, service, tmp_path, qtbot):
    panel.source.set_image_file(png(tmp_path))
    tab = panel.attribution
    tab.method.setCurrentIndex(tab.method.findData("occlusion"))
    tab.window_size.setValue(6)
    assert tab.method_options() == {"window": 6}

    adv = panel.adversarial
    adv.eps.setValue(25)  # 0.05
    adv.attack()
    rid, payload = service.last("fgsm")
    assert payload["eps"] == pytest.approx(0.05) and "image_path" in payload
    original = np.full((4, 4, 3), 100, np.uint8)
    adversarial = original.copy()
    adversarial[0, 0] = 113
    perturbation = np.zeros((4, 4, 3), np.float32)
    perturbation[0, 0] = 0.05
    with qtbot.waitSignal(adv.answered):
        service.reply.emit(rid, {"original": original, "adversarial": adversarial, "label": 0, "epsilon": 0.05,
                                 "perturbation": perturbation, "classes": CLASSES,
                                 "original_class": 0, "original_confidence": 0.9, "adversarial_class": 1,
                                 "adversarial_confidence": 0.7, "original_loss": 0.1, "adversarial_loss": 2.0})
    captions = adv.images.captions()
    assert captions[0].startswith("original") and "circle 90%" in captions[0]
    assert "square 70%" in captions[2] and "flips" in adv.summary.text()
    perturbation = adv.images.view_items(1, "image")[0].image
    assert perturbation[0, 0, 0] == pytest.approx(1.0) and perturbation[1, 1, 0] == pytest.approx(0.5)

    act = panel.activation
    qtbot.waitUntil(lambda: act.layer.count() > 0, timeout=5000)
    assert act.layer.currentData() == ("conv2", 16)  # the last convolution of LeNet-5
    assert act.channel.maximum() == 15
    act.channel.setValue(5)
    act.synthesize()
    rid, payload = service.last("activation_max")
    assert payload["layer"] == "conv2" and payload["channel"] == 5 and "class_index" not in payload
    with qtbot.waitSignal(act.answered):
        service.reply.emit(rid, {"image": np.zeros((32, 32, 3), np.uint8), "target": "conv2 channel 5",
                                 "activation": 12.5, "random_activation": 0.4})
    assert "activation 12.5 (random input 0.4)" in act.image.captions()[0]
    act.by_class.setChecked(True)
    act.target_class.setCurrentIndex(4)
    act.synthesize()
    _, payload = service.last("activation_max")
    assert payload["class_index"] == 4 and "layer" not in payload


def test_an_image_dropped_on_the_window_is_classified(panel, window, service, tmp_path, qtbot):
    image = png(tmp_path, "dropped.jpg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(image)])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: any(k == "classify" for _, k, _ in service.requests), timeout=3000)
    assert service.last("classify")[1]["image_path"] == image
    assert panel.source.image_label.text() == "dropped.jpg"
    qtbot.waitUntil(lambda: panel.source.thumb.pixmap() is not None and not panel.source.thumb.pixmap().isNull())


def test_no_engine_says_so(panel, studio, qtbot, tmp_path):
    studio.engine = None
    panel.source.set_image_file(png(tmp_path))
    with qtbot.waitSignal(panel.classify.answered) as answered:
        panel.classify.classify()
    assert answered.args == ["failed"] and "engine service is not running" in panel.classify.message.text()


def test_image_suffixes_match_the_engine():
    from engine.explain.preprocess import IMAGE_EXTENSIONS
    from studio.docks.explain_drop import IMAGE_SUFFIXES
    assert IMAGE_SUFFIXES == IMAGE_EXTENSIONS
