"""Mouse gestures on the graph canvas, each driven with real events on its viewport."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMenu

from engine.graph import Edge
from studio.canvas import LAYER_MIME


def node(canvas, key):
    return canvas.scene().node(key)


def test_drop_from_palette_adds_layer_at_drop_position(canvas, qtbot):
    doc = canvas.document
    md = QMimeData()
    md.setData(LAYER_MIME, b"Conv2d")
    target = QPointF(400, 300)
    vp = canvas.viewport()
    local = canvas.viewportTransform().map(target)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(local.toPoint(), actions, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(local.toPoint(), actions, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, move)
    assert move.isAccepted()
    drop = QDropEvent(local, actions, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
    added = [n for n in doc.graph.nodes.values() if n.type == "Conv2d" and n.id not in ("conv1", "conv2")]
    assert len(added) == 1
    x, y = added[0].pos
    assert abs(x - 400) <= 2 and abs(y - 300) <= 2
    assert doc.selection == [added[0].id]
    assert canvas.scene().has_node(added[0].id)
    doc.undo_stack.undo()
    assert added[0].id not in doc.graph.nodes and not canvas.scene().has_node(added[0].id)


def test_drop_of_foreign_data_is_ignored(canvas):
    md = QMimeData()
    md.setText("Conv2d")
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas.viewport(), enter)
    assert not enter.isAccepted()


def test_drop_of_unknown_type_shows_message(canvas, qtbot):
    before = canvas.document.to_dict()
    with qtbot.waitSignal(canvas.status_message) as sig:
        canvas._drop_requested(LAYER_MIME, b"NoSuchLayer", QPointF(300, 300))
    assert "NoSuchLayer" in sig.args[0]
    assert canvas.scene().notice.isVisible()
    assert canvas.document.to_dict() == before


def test_drag_from_output_to_input_port_connects(canvas, mouse):
    doc = canvas.document
    doc.add_node("Add", pos=(300.0, 480.0))
    canvas.refresh()
    add = node(canvas, "add")
    assert add.content.ports == (0,)  # a free port to connect to
    mouse.drag(node(canvas, "pool1").output_anchor(), add.input_anchor(0))
    assert Edge("pool1", "add", 0) in doc.graph.edges
    assert canvas.scene().has_node("add") and Edge("pool1", "add", 0) in canvas.scene().edges()
    canvas.refresh()
    assert add.content.ports == (0, 1)  # the next free port appeared
    assert doc.undo_stack.undoText().startswith("Connect")


def test_drag_from_free_input_port_to_a_source_connects(canvas, mouse, qtbot):
    doc = canvas.document
    doc.add_node("Add", pos=(300.0, 480.0))
    canvas.refresh()
    mouse.drag(node(canvas, "add").input_anchor(0), node(canvas, "relu1").center())
    assert Edge("relu1", "add", 0) in doc.graph.edges
    canvas.refresh()
    with qtbot.waitSignal(canvas.status_message) as sig:  # onto itself: refused
        mouse.drag(node(canvas, "add").input_anchor(1), node(canvas, "add").center())
    assert "cannot feed itself" in sig.args[0]
    assert doc.graph.nodes["add"].pos == (300.0, 480.0)  # the port drag never moved the node


def test_drag_released_on_node_body_uses_free_port(canvas, mouse):
    doc = canvas.document
    doc.add_node("Concat", pos=(300.0, 480.0))
    doc.connect("relu1", "concat")
    canvas.refresh()
    mouse.drag(node(canvas, "pool1").output_anchor(), node(canvas, "concat").center())
    assert Edge("pool1", "concat", 1) in doc.graph.edges


def test_cycle_refused_with_reason_at_cursor(canvas, mouse, qtbot):
    doc = canvas.document
    before = doc.to_dict()
    target = node(canvas, "conv1").input_anchor(0)
    with qtbot.waitSignal(canvas.status_message) as sig:
        mouse.drag(node(canvas, "relu2").output_anchor(), target)
    assert "cycle" in sig.args[0]
    notice = canvas.scene().notice
    assert notice.isVisible() and "cycle" in notice.text
    assert (notice.pos() - target).manhattanLength() < 20  # shown where the mouse was released
    assert doc.to_dict() == before
    assert doc.undo_stack.count() == 0


def test_cycle_through_free_port_refused(canvas, mouse, qtbot):
    doc = canvas.document
    doc.add_node("Add", pos=(300.0, 240.0), node_id="mix")
    doc.connect("relu1", "mix")
    doc.add_node("Identity", pos=(300.0, 360.0), node_id="extra")
    doc.connect("mix", "extra")
    canvas.refresh()
    before = doc.to_dict()
    with qtbot.waitSignal(canvas.status_message) as sig:
        mouse.drag(node(canvas, "extra").output_anchor(), node(canvas, "mix").input_anchor(1))
    assert "cycle" in sig.args[0]
    assert doc.to_dict() == before


def test_self_edge_refused(canvas, mouse, qtbot):
    doc = canvas.document
    before = doc.to_dict()
    with qtbot.waitSignal(canvas.status_message) as sig:
        mouse.drag(node(canvas, "conv1").output_anchor(), node(canvas, "conv1").input_anchor(0))
    assert "cannot feed itself" in sig.args[0]
    assert "cannot feed itself" in canvas.scene().notice.text
    assert doc.to_dict() == before


def test_dragged_edge_turns_red_over_a_refused_target(canvas, mouse):
    mouse.move(node(canvas, "relu2").output_anchor())
    mouse.press(node(canvas, "relu2").output_anchor())
    mouse.move(node(canvas, "conv1").center())
    draft = canvas._interaction.draft
    assert draft.refused
    mouse.move(QPointF(600, 600))
    assert not draft.refused
    mouse.release(QPointF(600, 600))
    assert draft.scene() is None


def test_drag_onto_taken_port_replaces_edge_in_one_step(canvas, mouse):
    doc = canvas.document
    before = doc.to_dict()
    mouse.drag(node(canvas, "conv1").output_anchor(), node(canvas, "conv2").input_anchor(0))
    assert Edge("conv1", "conv2", 0) in doc.graph.edges
    assert Edge("pool1", "conv2", 0) not in doc.graph.edges
    doc.undo_stack.undo()
    assert doc.to_dict() == before


def test_drag_from_connected_input_reroutes_the_edge(canvas, mouse):
    doc = canvas.document
    doc.add_node("Identity", pos=(300.0, 480.0), node_id="side")
    canvas.refresh()
    mouse.drag(node(canvas, "conv2").input_anchor(0), node(canvas, "side").input_anchor(0))
    assert Edge("pool1", "side", 0) in doc.graph.edges
    assert Edge("pool1", "conv2", 0) not in doc.graph.edges
    assert canvas.scene().edge(Edge("pool1", "side", 0)).isVisible()


def test_drag_from_connected_input_to_empty_canvas_removes_edge(canvas, mouse):
    doc = canvas.document
    mouse.drag(node(canvas, "conv2").input_anchor(0), QPointF(700, 420))
    assert Edge("pool1", "conv2", 0) not in doc.graph.edges
    assert Edge("pool1", "conv2", 0) not in canvas.scene().edges()


def test_edge_dropped_on_empty_canvas_adds_a_connected_layer(canvas, mouse, qtbot):
    doc = canvas.document
    mouse.drag(node(canvas, "fc3").output_anchor(), QPointF(0, 1600))
    popup = canvas._search
    assert popup is not None and popup.isVisible()
    qtbot.keyClicks(popup.edit, "Softmax" if "Softmax" in _types() else "Identity")
    qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    new = doc.selection[0]
    assert doc.graph.input_nodes(new) == ["fc3"]
    assert abs(doc.graph.nodes[new].pos[1] - 1600) <= 2
    doc.undo_stack.undo()  # adding and connecting were one step
    assert new not in doc.graph.nodes


def _types():
    from engine.catalog import CATALOG
    return CATALOG


def test_rubber_band_selects_touched_nodes(canvas, mouse):
    doc = canvas.document
    a, b = node(canvas, "conv1").center(), node(canvas, "pool1").center()
    mouse.drag(a + QPointF(-150, -20), b + QPointF(150, 10))
    assert set(doc.selection) == {"conv1", "relu1", "pool1"}
    assert not canvas.scene().items() or all(not isinstance(i, type(None)) for i in canvas.scene().items())
    # Ctrl adds to the selection
    f = node(canvas, "fc1").center()
    mouse.drag(f + QPointF(-150, -10), f + QPointF(150, 10), modifiers=Qt.KeyboardModifier.ControlModifier)
    assert set(doc.selection) == {"conv1", "relu1", "pool1", "fc1"}
    # a plain click on empty canvas clears it
    mouse.click(QPointF(900, -300))
    assert doc.selection == []


def test_click_selects_and_ctrl_click_toggles(canvas, mouse):
    doc = canvas.document
    mouse.click(node(canvas, "conv1").center())
    assert doc.selection == ["conv1"]
    mouse.click(node(canvas, "fc1").center(), modifiers=Qt.KeyboardModifier.ControlModifier)
    assert set(doc.selection) == {"conv1", "fc1"}
    mouse.click(node(canvas, "conv1").center(), modifiers=Qt.KeyboardModifier.ControlModifier)
    assert doc.selection == ["fc1"]
    assert node(canvas, "fc1").isSelected() and not node(canvas, "conv1").isSelected()


def test_click_on_edge_selects_it_and_delete_removes_it(canvas, mouse):
    doc = canvas.document
    e = Edge("conv1", "relu1", 0)
    mouse.click(canvas.scene().edge(e).midpoint())
    assert canvas.scene().selected_edge_keys() == [e]
    canvas.delete_selected()
    assert e not in doc.graph.edges and "conv1" in doc.graph.nodes


def test_drag_moves_selection_as_one_undo_step_per_drag(canvas, mouse):
    doc = canvas.document
    doc.select(["conv1", "relu1"])
    c0, r0 = doc.graph.nodes["conv1"].pos, doc.graph.nodes["relu1"].pos
    start = node(canvas, "conv1").center()
    mouse.drag(start, start + QPointF(100, 40), steps=10)
    c1 = doc.graph.nodes["conv1"].pos
    assert abs(c1[0] - (c0[0] + 100)) < 1 and abs(c1[1] - (c0[1] + 40)) < 1
    r1 = doc.graph.nodes["relu1"].pos
    assert abs(r1[0] - (r0[0] + 100)) < 1  # the whole selection moved
    assert (node(canvas, "conv1").center() - QPointF(*c1)).manhattanLength() < 0.5
    assert doc.undo_stack.count() == 1
    mouse.drag(node(canvas, "conv1").center(), node(canvas, "conv1").center() + QPointF(50, 0))
    assert doc.undo_stack.count() == 2  # a second drag is a second step
    doc.undo_stack.undo()
    assert doc.graph.nodes["conv1"].pos == c1
    doc.undo_stack.undo()
    assert doc.graph.nodes["conv1"].pos == c0 and doc.graph.nodes["relu1"].pos == r0
    assert (node(canvas, "conv1").center() - QPointF(*c0)).manhattanLength() < 0.5
    # the edges followed
    assert (canvas.scene().edge(Edge("conv1", "relu1", 0)).path().pointAtPercent(0)
            - node(canvas, "conv1").output_anchor()).manhattanLength() < 0.5


def test_click_without_drag_does_not_move(canvas, mouse):
    mouse.click(node(canvas, "conv1").center())
    assert canvas.document.undo_stack.count() == 0


def test_wheel_zooms_around_the_mouse(canvas, mouse):
    canvas.set_zoom(1.0)
    anchor = node(canvas, "conv2").center()
    canvas.centerOn(anchor)
    at = anchor + QPointF(60, 30)
    before = mouse.at(at)
    mouse.wheel(at, 240)
    assert canvas.zoom() > 1.2
    assert (mouse.at(at) - before).manhattanLength() <= 2  # the point under the mouse stayed
    mouse.wheel(at, -480)
    assert canvas.zoom() < 1.0


def test_middle_drag_pans(canvas, mouse):
    canvas.set_zoom(1.0)
    centre = canvas.visible_scene_rect().center()
    p = canvas.visible_scene_rect().center()
    mouse.drag(p, p + QPointF(100, 50), button=Qt.MouseButton.MiddleButton)
    moved = canvas.visible_scene_rect().center() - centre
    assert abs(moved.x() + 100) <= 2 and abs(moved.y() + 50) <= 2
    assert canvas.document.undo_stack.count() == 0 and canvas.document.selection == []


def test_space_drag_pans(canvas, mouse, qtbot):
    canvas.set_zoom(1.0)
    centre = canvas.visible_scene_rect().center()
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    start = node(canvas, "conv1").center()  # even over a node: space means pan
    mouse.drag(start, start + QPointF(-80, 0))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert abs((canvas.visible_scene_rect().center() - centre).x() - 80) <= 2
    assert canvas.document.undo_stack.count() == 0


def test_double_click_on_node_selects_and_activates(canvas, mouse, qtbot):
    with qtbot.waitSignal(canvas.node_activated) as sig:
        mouse.double_click(node(canvas, "fc1").center())
    assert sig.args == ["fc1"]
    assert canvas.document.selection == ["fc1"]


def test_edge_hover_shows_its_shape(canvas, mouse):
    canvas.set_zoom(1.0)
    e = canvas.scene().edge(Edge("pool1", "conv2", 0))
    canvas.centerOn(e.midpoint())
    mouse.move(e.midpoint() + QPointF(40, 0))
    label = canvas.scene().edge_label
    assert not label.isVisible()
    mouse.move(e.midpoint())
    assert e.hovered
    assert label.isVisible() and label.text == "[6, 14, 14]"
    assert "[6, 14, 14]" in e.toolTip() and "pool1 → conv2" in e.toolTip()
    mouse.move(e.midpoint() + QPointF(60, 0))
    assert not label.isVisible()


def test_node_tooltip_lists_shape_and_params(canvas):
    tip = node(canvas, "conv1").toolTip()
    assert "Output: [6, 28, 28]" in tip and "456" in tip


def _open_menu(canvas, mouse, scene_pos) -> QMenu:
    from PySide6.QtGui import QContextMenuEvent
    local = mouse.at(scene_pos).toPoint()  # a context menu event has integer coordinates
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, local, canvas.viewport().mapToGlobal(local))
    QApplication.sendEvent(canvas.viewport(), ev)
    return canvas._menu


def _names(menu):
    return [a.objectName() for a in menu.actions() if not a.isSeparator()]


def test_context_menus(canvas, mouse, qtbot):
    menu = _open_menu(canvas, mouse, node(canvas, "conv1").center())
    assert _names(menu) == ["canvas_rename", "canvas_duplicate", "canvas_copy", "canvas_cut", "canvas_delete"]
    assert canvas.document.selection == ["conv1"]  # the menu acts on the node under the mouse
    menu.close()
    e = Edge("conv1", "relu1", 0)
    menu = _open_menu(canvas, mouse, canvas.scene().edge(e).midpoint())
    assert _names(menu) == ["canvas_delete"]
    menu.actions()[0].trigger()
    assert e not in canvas.document.graph.edges
    menu.close()
    menu = _open_menu(canvas, mouse, QPointF(800, -200))
    assert _names(menu) == ["canvas_add_layer", "canvas_paste", "canvas_select_all", "canvas_auto_layout",
                            "canvas_fit"]
    menu.close()
    qtbot.waitUntil(lambda: not menu.isVisible())


def test_right_click_on_a_selected_node_keeps_the_selection(canvas, mouse):
    canvas.document.select(["conv1", "relu1", "pool1"])
    at = node(canvas, "relu1").center()
    mouse.press(at, Qt.MouseButton.RightButton)
    mouse.release(at, Qt.MouseButton.RightButton)
    menu = _open_menu(canvas, mouse, at)
    assert set(canvas.document.selection) == {"conv1", "relu1", "pool1"}
    next(a for a in menu.actions() if a.objectName() == "canvas_delete").trigger()
    menu.close()
    assert not {"conv1", "relu1", "pool1"} & set(canvas.document.graph.nodes)


def test_paste_from_canvas_menu_goes_where_it_was_opened(canvas, mouse):
    canvas.document.select(["conv1"])
    canvas.copy()
    at = QPointF(900, -200)
    menu = _open_menu(canvas, mouse, at)
    next(a for a in menu.actions() if a.objectName() == "canvas_paste").trigger()
    menu.close()
    new = canvas.document.selection
    assert len(new) == 1 and new[0] != "conv1"
    x, y = canvas.document.graph.nodes[new[0]].pos
    assert abs(x - 900) <= 2 and abs(y + 200) <= 2  # within a pixel of the click


def test_node_menu_rename_edits_label_inline(canvas, mouse, qtbot):
    menu = _open_menu(canvas, mouse, node(canvas, "fc1").center())
    next(a for a in menu.actions() if a.objectName() == "canvas_rename").trigger()
    menu.close()
    editor = canvas.title_editor
    assert editor.isVisible() and editor.text() == "fc1"
    editor.selectAll()
    qtbot.keyClicks(editor, "classifier")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert canvas.document.graph.nodes["fc1"].label == "classifier"
    canvas.refresh()
    assert node(canvas, "fc1").content.title == "classifier"
    assert not editor.isVisible()
