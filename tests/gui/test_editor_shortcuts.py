"""Keyboard shortcuts of the graph canvas, typed with QTest into the focused canvas."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QGuiApplication

from engine.graph import Edge
from studio.canvas_clipboard import GRAPH_MIME

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def key(qtbot, canvas, k, mod=Qt.KeyboardModifier.NoModifier):
    canvas.setFocus()
    qtbot.keyClick(canvas, k, mod)


@pytest.mark.parametrize("k", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace])
def test_delete_key_removes_selection(canvas, qtbot, k):
    doc = canvas.document
    before = doc.to_dict()
    doc.select(["conv1"])
    key(qtbot, canvas, k)
    assert "conv1" not in doc.graph.nodes and not canvas.scene().has_node("conv1")
    assert not any("conv1" in (e.src, e.dst) for e in canvas.scene().edges())
    doc.undo_stack.undo()
    assert doc.to_dict() == before
    assert canvas.scene().has_node("conv1") and Edge("input", "conv1", 0) in canvas.scene().edges()


def test_delete_nodes_and_an_edge_is_one_undo_step(canvas, qtbot):
    doc = canvas.document
    before = doc.to_dict()
    canvas.scene().set_selection({"fc3"}, {Edge("conv1", "relu1", 0)})
    key(qtbot, canvas, Qt.Key.Key_Delete)
    assert "fc3" not in doc.graph.nodes and Edge("conv1", "relu1", 0) not in doc.graph.edges
    assert doc.undo_stack.count() == 1
    key(qtbot, canvas, Qt.Key.Key_Z, CTRL)
    assert doc.to_dict() == before


def test_ctrl_z_undoes_and_ctrl_shift_z_redoes(canvas, qtbot):
    doc = canvas.document
    before = doc.to_dict()
    doc.set_params("conv1", {"out_channels": 8})
    after = doc.to_dict()
    key(qtbot, canvas, Qt.Key.Key_Z, CTRL)
    assert doc.to_dict() == before
    key(qtbot, canvas, Qt.Key.Key_Z, CTRL | SHIFT)
    assert doc.to_dict() == after


def test_ctrl_y_redoes(canvas, qtbot):
    doc = canvas.document
    doc.remove_nodes(["fc3"])
    after = doc.to_dict()
    key(qtbot, canvas, Qt.Key.Key_Z, CTRL)
    assert "fc3" in doc.graph.nodes
    key(qtbot, canvas, Qt.Key.Key_Y, CTRL)
    assert doc.to_dict() == after
    assert canvas.actions_by_name()["undo"].text().startswith("&Undo Delete")


def test_ctrl_c_puts_layers_on_the_system_clipboard(canvas, qtbot):
    canvas.document.select(["conv1", "relu1"])
    key(qtbot, canvas, Qt.Key.Key_C, CTRL)
    md = QGuiApplication.clipboard().mimeData()
    frag = json.loads(bytes(md.data(GRAPH_MIME).data()))
    assert [n["id"] for n in frag["nodes"]] == ["conv1", "relu1"]
    assert frag["edges"] == [{"from": "conv1", "to": "relu1"}]
    assert json.loads(md.text()) == frag  # the same JSON as text, for other apps


def test_ctrl_v_pastes_at_the_mouse(canvas, qtbot, mouse):
    doc = canvas.document
    doc.select(["conv1", "relu1"])
    key(qtbot, canvas, Qt.Key.Key_C, CTRL)
    mouse.move(QPointF(600, 300))
    key(qtbot, canvas, Qt.Key.Key_V, CTRL)
    new = doc.selection
    assert len(new) == 2 and not {"conv1", "relu1"} & set(new)
    assert Edge(new[0], new[1], 0) in doc.graph.edges
    xs = [doc.graph.nodes[n].pos for n in new]
    cx = (xs[0][0] + xs[1][0]) / 2
    cy = (xs[0][1] + xs[1][1]) / 2
    assert abs(cx - 600) < 1 and abs(cy - 300) < 1
    assert all(canvas.scene().has_node(n) for n in new)
    assert doc.undo_stack.undoText() == "Paste"
    doc.undo_stack.undo()
    assert not any(n in doc.graph.nodes for n in new)


def test_paste_into_a_second_document(canvas, make_canvas, qtbot):
    from studio.document import Document
    canvas.document.select(["conv1", "relu1", "pool1"])
    canvas.copy()
    other_doc = Document()
    other = make_canvas(other_doc)
    other.setFocus()
    qtbot.keyClick(other, Qt.Key.Key_V, CTRL)
    assert set(other_doc.graph.nodes) == {"conv1", "relu1", "pool1"}
    assert len(other_doc.graph.edges) == 2
    assert set(other.scene().nodes()) == {"conv1", "relu1", "pool1"}
    other_doc.close()


def test_paste_of_project_json_text(canvas, qtbot):
    text = json.dumps({"format": "layerstudio-project", "version": 1, "graph": {
        "nodes": [{"id": "a", "type": "Input", "params": {"shape": [4]}}, {"id": "b", "type": "Linear",
                                                                          "params": {"out_features": 2}}],
        "edges": [{"from": "a", "to": "b"}]}})
    QGuiApplication.clipboard().setText(text)
    ids = canvas.paste()
    assert ids == ["a", "b"]  # no clash: ids kept; no positions: laid out
    g = canvas.document.graph
    assert g.nodes["a"].pos is not None and g.nodes["b"].pos[1] > g.nodes["a"].pos[1]
    canvas.refresh()
    assert canvas.scene().node("b").content.shape == "[2]"


@pytest.mark.parametrize("text", ["hello", "{\"nodes\": 3}", "[1, 2]",
                                  json.dumps({"nodes": [{"id": "x", "type": "NoSuchLayer"}]}),
                                  json.dumps({"nodes": [{"id": "x", "type": "Linear"}],
                                              "edges": [{"from": "x", "to": "x"}]})])
def test_paste_of_bad_clipboard_shows_message_and_changes_nothing(canvas, qtbot, text):
    QGuiApplication.clipboard().setText(text)
    before = canvas.document.to_dict()
    with qtbot.waitSignal(canvas.status_message) as sig:
        key(qtbot, canvas, Qt.Key.Key_V, CTRL)
    assert sig.args[0] and canvas.scene().notice.isVisible()
    assert canvas.document.to_dict() == before
    assert canvas.document.undo_stack.count() == 0


def test_ctrl_x_cuts(canvas, qtbot):
    doc = canvas.document
    doc.select(["fc3"])
    key(qtbot, canvas, Qt.Key.Key_X, CTRL)
    assert "fc3" not in doc.graph.nodes
    assert json.loads(QGuiApplication.clipboard().text())["nodes"][0]["id"] == "fc3"
    assert doc.undo_stack.count() == 1
    key(qtbot, canvas, Qt.Key.Key_V, CTRL)
    assert "fc3" in doc.graph.nodes  # the id is free again


def test_ctrl_d_duplicates_selection_with_inner_edges(canvas, qtbot):
    doc = canvas.document
    doc.select(["conv2", "relu2"])
    key(qtbot, canvas, Qt.Key.Key_D, CTRL)
    new = doc.selection
    assert len(new) == 2 and set(new).isdisjoint({"conv2", "relu2"})
    assert doc.graph.input_nodes(new[1]) == [new[0]]
    assert doc.graph.input_nodes(new[0]) == []  # edges from outside the selection are not copied
    p, q = doc.graph.nodes["conv2"].pos, doc.graph.nodes[new[0]].pos
    assert (q[0] - p[0], q[1] - p[1]) == (40.0, 40.0)
    assert doc.undo_stack.count() == 1


def test_ctrl_a_selects_all(canvas, qtbot):
    key(qtbot, canvas, Qt.Key.Key_A, CTRL)
    assert set(canvas.document.selection) == set(canvas.document.graph.nodes)
    assert all(item.isSelected() for item in canvas.scene().nodes().values())


def test_f_fits_the_whole_graph(canvas, qtbot):
    canvas.set_zoom(2.5)
    canvas.centerOn(3000, 3000)
    key(qtbot, canvas, Qt.Key.Key_F)
    visible = canvas.visible_scene_rect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in canvas.scene().nodes().values())
    assert canvas.zoom() <= 1.0


@pytest.mark.parametrize("k", [Qt.Key.Key_Equal, Qt.Key.Key_Plus])
def test_ctrl_plus_zooms_in_and_ctrl_minus_out(canvas, qtbot, k):
    z = canvas.zoom()
    key(qtbot, canvas, k, CTRL)
    assert canvas.zoom() == pytest.approx(z * 1.25)
    key(qtbot, canvas, Qt.Key.Key_Minus, CTRL)
    key(qtbot, canvas, Qt.Key.Key_Minus, CTRL)
    assert canvas.zoom() == pytest.approx(z / 1.25)
    key(qtbot, canvas, Qt.Key.Key_0, CTRL)
    assert canvas.zoom() == pytest.approx(1.0)


def test_tab_opens_search_that_adds_layer_at_the_mouse(canvas, qtbot, mouse):
    doc = canvas.document
    mouse.move(QPointF(500, 200))
    key(qtbot, canvas, Qt.Key.Key_Tab)
    popup = canvas._search
    assert popup.isVisible()
    qtbot.keyClicks(popup.edit, "conv2d")
    assert popup.visible_names()[0] == "Conv2d"  # the exact match first
    chosen = popup.visible_names()[0]
    qtbot.keyClick(popup.edit, Qt.Key.Key_Return)
    assert not popup.isVisible()
    new = doc.selection[0]
    assert doc.graph.nodes[new].type == chosen
    x, y = doc.graph.nodes[new].pos
    assert abs(x - 500) < 1 and abs(y - 200) < 1


def test_search_ranks_prefix_matches_first_and_arrows_move(canvas, qtbot):
    popup = canvas.open_layer_search(QPointF(0, 0))
    qtbot.keyClicks(popup.edit, "conv")
    names = popup.visible_names()
    assert names and all(n.lower().startswith("conv") for n in names[:2])
    qtbot.keyClick(popup.edit, Qt.Key.Key_Down)
    assert popup.list.currentRow() == 1
    qtbot.keyClick(popup.edit, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    assert canvas.document.undo_stack.count() == 0


def test_f2_renames_inline_and_escape_cancels(canvas, qtbot):
    doc = canvas.document
    doc.select(["conv1"])
    key(qtbot, canvas, Qt.Key.Key_F2)
    editor = canvas.title_editor
    assert editor.isVisible()
    qtbot.keyClicks(editor, "stem")
    qtbot.keyClick(editor, Qt.Key.Key_Delete)  # a text key here, not "delete the node"
    assert "conv1" in doc.graph.nodes
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert doc.graph.nodes["conv1"].label is None and doc.undo_stack.count() == 0
    key(qtbot, canvas, Qt.Key.Key_F2)
    editor.setText("stem")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert doc.graph.nodes["conv1"].label == "stem"


def test_ctrl_l_lays_out_in_one_undo_step(canvas, qtbot):
    from engine.layout import layout
    doc = canvas.document
    doc.move_nodes({"conv1": (900.0, -400.0), "fc1": (-700.0, 50.0)})
    moved = doc.to_dict()
    key(qtbot, canvas, Qt.Key.Key_L, CTRL)
    want = layout(doc.graph)
    assert {n: doc.graph.nodes[n].pos for n in want} == want
    assert (canvas.scene().node("conv1").center() - QPointF(*want["conv1"])).manhattanLength() < 0.5
    doc.undo_stack.undo()
    assert doc.to_dict() == moved


def test_escape_cancels_a_dragged_edge(canvas, qtbot, mouse):
    start = canvas.scene().node("fc3").output_anchor()
    mouse.move(start)
    mouse.press(start)
    mouse.move(QPointF(300, 1700))
    key(qtbot, canvas, Qt.Key.Key_Escape)
    mouse.release(QPointF(300, 1700))
    assert canvas._search is None or not canvas._search.isVisible()
    assert canvas.document.undo_stack.count() == 0
