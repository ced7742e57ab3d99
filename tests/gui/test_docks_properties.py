"""Properties dock: editors generated from the catalog, instant validation, undoable edits,
inferred parameters, and the node's output numbers; the summary follows every edit."""
from __future__ import annotations

from PySide6.QtCore import Qt

from test_window_fixtures import home, no_torch, open_window, studio, window  # noqa: F401


def select(window, qtbot, node_id: str):
    window.focus_node(node_id)
    panel = window.panel("properties")
    qtbot.waitUntil(lambda: panel.node_id == node_id and panel.form is not None)
    return panel


def type_into(qtbot, widget, text: str) -> None:
    """Select everything in a field, type ``text`` and press Enter, as a user does."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def indicator(check_box):
    from PySide6.QtWidgets import QStyle, QStyleOptionButton
    opt = QStyleOptionButton()
    check_box.initStyleOption(opt)
    return check_box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, opt, check_box).center()


def summary_shape(window, qtbot, node_id: str, expected: str) -> None:
    summary = window.panel("summary")
    qtbot.waitUntil(lambda: summary.model.rows[summary.row_of(node_id)][1][2] == expected, timeout=3000)


def test_selection_shows_typed_editors_inferred_values_and_outputs(window, qtbot):
    panel = window.panel("properties")
    assert "Select a layer" in panel.empty.text()
    panel = select(window, qtbot, "conv1")
    form = panel.form
    from widgets.editors import ChoiceEditor, IntEditor, MultiNumberEditor
    from widgets.editors import BoolEditor
    assert isinstance(form.editor("out_channels"), IntEditor)
    spin = form.editor("out_channels").spin
    assert (spin.minimum(), spin.value()) == (1, 6)
    assert isinstance(form.editor("kernel_size"), MultiNumberEditor) and form.editor("kernel_size").linked
    assert isinstance(form.editor("padding_mode"), ChoiceEditor)
    assert isinstance(form.editor("bias"), BoolEditor)
    assert form.rows["in_channels"].editor.text() == "3"  # inferred, read-only
    assert form.rows["out_shape"].editor.text() == "6 × 28 × 28"
    assert form.rows["out_params"].editor.text() == "456"
    assert "706" in form.rows["out_flops"].editor.text()
    window.document.select(["conv1", "relu1"])
    assert "2 layers selected" in panel.empty.text()


def test_a_property_edit_reinfers_shapes_and_is_one_undo_step(window, qtbot):
    doc = window.document
    panel = select(window, qtbot, "conv1")
    summary_shape(window, qtbot, "conv1", "6 × 28 × 28")
    count = doc.undo_stack.count()
    type_into(qtbot, panel.form.editor("kernel_size").boxes[0], "3")
    assert doc.graph.node("conv1").params["kernel_size"] == (3, 3)
    assert doc.undo_stack.count() == count + 1
    summary_shape(window, qtbot, "conv1", "6 × 30 × 30")
    summary_shape(window, qtbot, "pool1", "6 × 15 × 15")  # downstream shapes follow
    assert panel.form.rows["out_shape"].editor.text() == "6 × 30 × 30"
    assert panel.form.rows["in_channels"].editor.text() == "3"
    doc.undo_stack.undo()
    assert doc.graph.node("conv1").params["kernel_size"] == (5, 5)
    summary_shape(window, qtbot, "conv1", "6 × 28 × 28")
    assert panel.form.editor("kernel_size").boxes[0].value() == 5  # the editor follows the undo
    doc.undo_stack.redo()
    summary_shape(window, qtbot, "conv1", "6 × 30 × 30")


def test_unlinking_a_multi_number_editor_sets_each_dimension(window, qtbot):
    doc = window.document
    panel = select(window, qtbot, "conv1")
    editor = panel.form.editor("kernel_size")
    qtbot.mouseClick(editor.link, Qt.MouseButton.LeftButton)
    assert not editor.linked and editor.boxes[1].isVisible()
    type_into(qtbot, editor.boxes[1], "3")
    assert doc.graph.node("conv1").params["kernel_size"] == (5, 3)
    summary_shape(window, qtbot, "conv1", "6 × 28 × 30")
    qtbot.mouseClick(editor.link, Qt.MouseButton.LeftButton)  # linking again: every dimension = the first
    assert doc.graph.node("conv1").params["kernel_size"] == (5, 5)


def test_an_invalid_value_shows_the_message_and_leaves_the_graph_unchanged(window, qtbot):
    doc = window.document
    panel = select(window, qtbot, "input")
    before = doc.to_dict()
    count = doc.undo_stack.count()
    shape = panel.form.editor("shape").line
    type_into(qtbot, shape, "3, 0, 32")
    assert "every size must be at least 1" in panel.form.error("shape")
    assert panel.form.rows["shape"].error.isVisible()
    assert doc.to_dict() == before and doc.undo_stack.count() == count
    type_into(qtbot, shape, "3, a, 32")
    assert "'a' is not a whole number" in panel.form.error("shape")
    assert doc.to_dict() == before
    type_into(qtbot, shape, "1, 32, 32")  # a valid value clears the message and goes through
    assert panel.form.error("shape") is None
    assert doc.graph.node("input").params["shape"] == (1, 32, 32)
    summary_shape(window, qtbot, "input", "1 × 32 × 32")
    qtbot.waitUntil(lambda: panel.form.rows["out_shape"].editor.text() == "1 × 32 × 32")


def test_a_valid_parameter_that_breaks_a_shape_is_shown_on_the_node(window, qtbot):
    doc = window.document
    panel = select(window, qtbot, "conv1")
    type_into(qtbot, panel.form.editor("groups").spin, "2")  # 3 input channels: not divisible
    assert doc.graph.node("conv1").params["groups"] == 2
    qtbot.waitUntil(lambda: "groups=2 must divide" in panel.message.text())
    assert panel.form.rows["out_shape"].editor.text() == "unknown"


def test_label_and_trainable(window, qtbot):
    doc = window.document
    panel = select(window, qtbot, "fc1")
    type_into(qtbot, panel.label_edit, "Hidden layer")
    assert doc.graph.node("fc1").label == "Hidden layer"
    summary = window.panel("summary")
    qtbot.waitUntil(lambda: summary.model.rows[summary.row_of("fc1")][1][0] == "Hidden layer")
    assert panel.trainable_row.visible  # fc1 has weights
    qtbot.mouseClick(panel.trainable, Qt.MouseButton.LeftButton, pos=indicator(panel.trainable))
    assert doc.graph.node("fc1").trainable is False
    doc.undo_stack.undo()
    assert doc.graph.node("fc1").trainable is True and panel.trainable.isChecked()
    doc.undo_stack.undo()
    assert doc.graph.node("fc1").label is None and panel.label_edit.text() == ""
    select(window, qtbot, "relu1")
    assert not window.panel("properties").trainable_row.visible  # nothing to train
    assert no_torch()
