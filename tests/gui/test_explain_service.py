"""The Saliency and Explain docks against the real engine: a tiny run trains and its probes
update the Saliency dock live; then its checkpoint is classified, attributed (with a cancel
that leaves the service working), attacked with FGSM and asked for the input a channel likes."""
from __future__ import annotations

import numpy as np
import pytest

from test_explain_fixtures import (needs_requests, no_torch_here, real_studio, real_window,  # noqa: F401
                                   tiny_project, wait_for)

pytestmark = needs_requests("classify", "attribute", "fgsm", "activation_max")

CLASSES = {"circle", "square", "triangle", "cross", "ring", "star"}
RUN_MS = 240_000


@pytest.fixture(scope="module")
def trained(real_window):
    """The tiny run, trained while the Saliency dock watches (events recorded for the tests)."""
    w = real_window
    w.show_dock("saliency")
    saliency = w.panel("saliency")
    shown: list[int] = []
    saliency.frame_shown.connect(shown.append)
    handle = w.runs.train(tiny_project(), None, name="explain-run")
    assert wait_for(lambda: handle.state in ("finished", "failed", "stopped"), RUN_MS), handle.state
    assert handle.state == "finished", handle.failure
    return handle, saliency, shown


def test_a_real_run_updates_the_saliency_dock_live(trained, qtbot):
    handle, panel, shown = trained
    assert shown, "no probe round reached the dock"
    assert panel.probe_set is not None and len(panel.probe_set.images) == 8
    assert set(panel.probe_set.classes) == CLASSES
    assert panel.grid.count() == 8 and panel.latencies and max(panel.latencies) <= 150, panel.latencies
    assert panel.shown.step == max(shown) and panel.grid.captions()[0].split()[0] in CLASSES
    # what the run saved: the same rounds, replayed from disk
    qtbot.waitUntil(lambda: len(panel.history) >= len(set(shown)), timeout=10_000)
    if len(panel.history) > 1:
        with qtbot.waitSignal(panel.frame_shown, timeout=5000):
            panel.slider.setValue(0)
        assert panel.shown.step == panel.history.steps[0]
    assert no_torch_here()


def test_classify_a_dataset_sample_and_a_bad_file(trained, real_window, qtbot, tmp_path):
    handle, *_ = trained
    real_window.show_dock("explain")
    panel = real_window.panel("explain")
    qtbot.waitUntil(lambda: panel.source.handle() is handle, timeout=5000)
    panel.source.set_sample("val", 3)
    with qtbot.waitSignal(panel.classify.answered, timeout=60_000) as answered:
        panel.classify.classify()
    assert answered.args == ["done"], panel.classify.message.text()
    table = panel.classify.top
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert table.rowCount() == 5 and set(names) <= CLASSES and len(set(names)) == 5
    probs = [float(table.cellWidget(r, 1).text().rstrip("%")) for r in range(5)]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 100.5
    heat = panel.classify.maps.view_items(0, "heatmap")[1].image
    assert heat.shape == (32, 32) and heat.max() == pytest.approx(1.0)
    assert panel.source.thumb.pixmap() is not None and not panel.source.thumb.pixmap().isNull()

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a picture")
    panel.source.set_image_file(bad)
    with qtbot.waitSignal(panel.classify.answered, timeout=60_000) as answered:
        panel.classify.classify()
    assert answered.args == ["failed"] and "cannot be decoded" in panel.classify.message.text()
    assert table.rowCount() == 5  # the previous result stays
    assert no_torch_here()


def test_attribution_cost_progress_cancel_then_fgsm_and_activation_max(trained, real_window, qtbot):
    handle, *_ = trained
    panel = real_window.panel("explain")
    panel.source.set_sample("val", 0)
    tab = panel.attribution
    panel.tabs.setCurrentWidget(tab)
    tab.method.setCurrentIndex(tab.method.findData("integrated_gradients"))
    tab.steps.setValue(16)
    qtbot.waitUntil(lambda: tab.estimate is not None, timeout=60_000)
    assert tab.estimate["passes"] >= 1 and tab.run_button.text().startswith("Run (≈ ")
    with qtbot.waitSignal(tab.answered, timeout=60_000) as answered:
        tab.run_attribution()
    assert answered.args == ["done"], tab.message.text()
    assert tab.maps.view_items(0, "overlay")[1].image.shape == (32, 32)

    # a long SmoothGrad, cancelled once it reports progress: the service goes on answering
    tab.method.setCurrentIndex(tab.method.findData("smoothgrad"))
    tab.samples.setValue(512)
    tab.run_attribution()
    qtbot.waitUntil(lambda: tab.progress.maximum() > 0 and tab.progress.value() > 0, timeout=60_000)
    with qtbot.waitSignal(tab.answered, timeout=5000) as answered:
        tab.cancel_button.click()
    assert answered.args == ["cancelled"] and tab.message.text() == "Cancelled."

    adv = panel.adversarial
    adv.eps.setValue(50)  # ε = 0.1
    with qtbot.waitSignal(adv.answered, timeout=60_000) as answered:
        adv.attack()
    assert answered.args == ["done"], adv.message.text()
    assert adv.images.count() == 3 and "→" in adv.summary.text()
    loss = adv.summary.text().split("loss ")[1].rstrip(".").split(" → ")
    assert float(loss[1]) >= float(loss[0])  # FGSM raises the loss

    act = panel.activation
    qtbot.waitUntil(lambda: act.layer.count() > 0, timeout=10_000)
    act.steps.setValue(16)
    with qtbot.waitSignal(act.answered, timeout=60_000) as answered:
        act.synthesize()
    assert answered.args == ["done"], act.message.text()
    assert act.image.view_items(0, "image")[0].image.shape == (32, 32, 3)
    assert "conv2 channel 0" in act.image.captions()[0] and "random input" in act.image.captions()[0]
    assert handle.state == "finished" and no_torch_here()
