"""Training dock (generated from the schema, conditional keys, live LR schedule), Problems
dock, Model summary (roofline against the device table) and the Dataset dock."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.schema import TRAINING_SETTINGS
from test_docks_properties import type_into
from test_window_fixtures import DEVICES, home, no_torch, open_window, settle, studio, window  # noqa: F401


def training(window, qtbot):
    panel = window.panel("training")
    window.show_dock("training")
    qtbot.waitUntil(lambda: panel.plot is not None and panel._curve_data is not None)
    return panel


def form_of(panel, key):
    for f in (panel.settings_form, panel.schedule_form):
        if key in f.by_key:
            return f
    raise KeyError(key)


def choose(editor, text: str) -> None:
    """Pick an entry of a choice editor as the popup does (``activated``)."""
    combo = editor.combo
    index = combo.findText(text)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_every_training_setting_has_an_editor(window, qtbot):
    panel = training(window, qtbot)
    keys = set(panel.settings_form.by_key) | set(panel.schedule_form.by_key)
    assert keys == {s.key for s in TRAINING_SETTINGS}  # options added to the schema appear by themselves
    assert panel.settings_form.editor("epochs").value() == 5  # the sample's value, not the default


def test_training_form_edits_the_project_and_undoes(window, qtbot):
    doc = window.document
    panel = training(window, qtbot)
    type_into(qtbot, panel.settings_form.editor("epochs").spin, "12")
    assert doc.project.training["epochs"] == 12
    type_into(qtbot, panel.settings_form.editor("optimizer.lr").spin, "0.2")
    assert doc.project.training["optimizer"]["lr"] == 0.2
    doc.undo_stack.undo()
    assert doc.project.training["optimizer"]["lr"] == 0.05
    assert panel.settings_form.editor("optimizer.lr").value() == 0.05
    # a value out of range is refused by the spin box's range; typed text that is not a number never commits
    lr = panel.settings_form.editor("optimizer.lr").spin
    assert lr.minimum() == 0.0 and lr.maximum() == 100.0


def test_conditional_settings_show_and_hide_and_inapplicable_keys_go(window, qtbot):
    doc = window.document
    panel = training(window, qtbot)
    form = panel.settings_form.form
    assert form.rows["optimizer.momentum"].editor.isVisible()
    assert not form.rows["optimizer.betas"].editor.isVisible()
    count = doc.undo_stack.count()
    choose(panel.settings_form.editor("optimizer.type"), "Adam")
    assert doc.project.training["optimizer"]["type"] == "Adam"
    assert "momentum" not in doc.project.training["optimizer"]  # Adam has none: removed, file stays valid
    assert doc.undo_stack.count() == count + 1  # one step for both
    assert not form.rows["optimizer.momentum"].editor.isVisible()
    assert form.rows["optimizer.betas"].editor.isVisible()
    from engine.schema import resolve_training
    resolve_training(doc.project.training)  # no ConfigError
    doc.undo_stack.undo()
    assert doc.project.training["optimizer"] == {"type": "SGD", "lr": 0.05, "momentum": 0.9}
    assert form.rows["optimizer.momentum"].editor.isVisible()


def test_the_lr_schedule_is_plotted_live(window, qtbot):
    doc = window.document
    panel = training(window, qtbot)
    assert len(set(panel.plot.data()[1])) > 3  # the sample decays (cosine)
    doc.set_setting("training", "schedule", None)  # back to the default: constant
    qtbot.waitUntil(lambda: set(panel.plot.data()[1]) == {0.05})
    sched = panel.schedule_form
    assert not sched.form.rows["schedule.step_size"].editor.isVisible()
    choose(sched.editor("schedule.type"), "step")
    assert doc.project.training["schedule"] == {"type": "step"}
    assert sched.form.rows["schedule.step_size"].editor.isVisible()
    doc.set_setting("training", "schedule.step_size", 2)
    qtbot.waitUntil(lambda: min(panel.plot.data()[1]) < 0.05 * 0.1 * 1.01)
    ys = list(panel.plot.data()[1])
    assert max(ys) == pytest.approx(0.05) and min(ys) == pytest.approx(0.05 * 0.01)  # 5 epochs: 2 steps down
    # a file edited so that a key no longer applies: the plot says why it cannot draw
    doc.set_setting("training", "schedule.type", "cosine")
    qtbot.waitUntil(lambda: "only applies when schedule.type is step" in panel.plot_note.text())
    assert not panel.plot.isEnabled()
    doc.undo_stack.undo()
    choose(sched.editor("schedule.type"), "cosine")  # the form removes step_size with it
    qtbot.waitUntil(lambda: len(set(panel.plot.data()[1])) > 3)
    assert panel.plot.isEnabled() and doc.project.training["schedule"] == {"type": "cosine"}
    # steps per epoch come from the dataset once it is known
    window.dataset_size_changed.emit(6400)
    qtbot.waitUntil(lambda: "100 steps per epoch (6,400 training samples)" in panel.plot_note.text())


def test_device_list_waits_for_the_engine(studio, window, qtbot):
    panel = training(window, qtbot)
    assert "Waiting for the engine" in panel.devices.text()
    studio.start_engine()
    studio.engine.come_up()
    assert "cuda:0" in panel.devices.text() and "NVIDIA H100" in panel.devices.text()
    device = panel.settings_form.editor("device")
    assert [device.combo.itemText(i) for i in range(device.combo.count())] == ["auto", "cpu", "cuda:0"]


def test_problems_dock_lists_diagnostics_and_selects_the_node(window, qtbot):
    doc = window.document
    panel = window.panel("problems")
    window.show_dock("problems")
    assert panel.problems == [] and panel.none.isVisible()
    doc.set_params("conv1", {"groups": 2})  # 3 input channels: a shape error
    doc.set_setting("training", "optimizer.lr", -1)  # a settings error
    qtbot.waitUntil(lambda: len(panel.problems) == 2)
    assert panel.tree.isVisible()
    messages = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert any("groups=2 must divide" in m for m in messages)
    assert any("training.optimizer.lr" in m for m in messages)
    assert "2" in window.docks["problems"].windowTitle() and "error" in window.problems_label.text()
    item = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).text(1) == "conv1")
    doc.select([])
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.selection == ["conv1"]
    centre = window.canvas.visible_scene_rect().center()
    pos = doc.graph.nodes["conv1"].pos
    assert abs(centre.x() - pos[0]) < 5 and abs(centre.y() - pos[1]) < 5  # centred on the node
    settings_item = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                         if panel.tree.topLevelItem(i).text(1).startswith("training"))
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.tree.visualItemRect(settings_item).center())
    qtbot.waitUntil(lambda: not window.docks["training"].visibleRegion().isEmpty())
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: panel.problems == [])
    assert "ready" in window.problems_label.text()


def test_summary_roofline_uses_the_device_table(studio, window, qtbot):
    panel = window.panel("summary")
    qtbot.waitUntil(lambda: panel.roofline is not None)
    assert set(panel.roofline.layer_names()) >= {"conv1", "conv2", "fc1"}
    assert "Desktop CPU" in panel.device.currentText()  # no engine yet: a CPU
    studio.start_engine()
    studio.engine.come_up()
    assert panel.device.currentText() == "NVIDIA H100 SXM"  # matched to the engine's GPU
    assert panel.roofline.peak == 67e12
    # the user's own figures (Preferences) replace the table
    studio.settings.device_peaks = [{"name": "My GPU", "flops": 2e12, "bandwidth": 1e11, "kind": "gpu"}]
    assert [panel.device.itemText(i) for i in range(panel.device.count())] == ["My GPU"]
    assert panel.roofline.peak == 2e12 and "ridge at 20 FLOP/B" in panel.peak_label.text()
    # clicking a point selects its layer
    panel.roofline.point_clicked.emit("conv2")
    assert window.document.selection == ["conv2"]


@pytest.fixture
def small_data(window):
    """The sample's dataset made small so generating it takes a fraction of a second."""
    window.document.set_setting("dataset", "size", 240)
    window.document.undo_stack.clear()
    return window


def test_dataset_dock_opens_the_data_off_the_gui_thread(small_data, qtbot):
    window = small_data
    panel = window.panel("dataset")
    assert panel.look is None  # nothing is opened while the tab is hidden
    with qtbot.waitSignal(window.dataset_size_changed, timeout=20_000,
                          check_params_cb=lambda n: n is not None):
        window.show_dock("dataset")
    look = panel.look
    assert look.classes == ["circle", "square", "triangle", "cross", "ring", "star"]
    assert panel.gallery.row_count() == 6 and panel.gallery.image_count() == 6 * 8
    assert sum(look.counts) == look.train_size and "6 classes" in panel.status.text()
    assert panel.histogram.labels == look.classes and list(panel.histogram.counts) == look.counts
    assert panel.mean.image_count() == 1
    # a setting change reopens it; an augmentation change only redraws the preview
    window.document.set_setting("dataset", "augment.hflip", True)
    qtbot.waitUntil(lambda: panel.augmented.image_count() == 8, timeout=10_000)
    window.document.set_setting("dataset", "source", "builtin:nope")
    qtbot.waitUntil(lambda: "nope" in panel.status.text(), timeout=10_000)
    assert panel.look is None and panel.gallery.row_count() == 0  # the error is shown inline
    settle()
    assert no_torch()
