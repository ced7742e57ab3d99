"""The canvas mirrors the model: shapes, errors, ports, labels, health; and never imports torch."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from engine.graph import Edge
from tests.gui.conftest import ROOT


def content(canvas, key):
    return canvas.scene().node(key).content


def test_nodes_show_label_type_key_params_shape_and_count(canvas):
    c = content(canvas, "conv1")
    assert (c.title, c.kind) == ("conv1", "Conv2d")
    assert c.detail == "out 6 · k 5 · s 1"
    assert c.shape == "[6, 28, 28]" and c.cost == "456 params"
    assert content(canvas, "fc1").cost == "48k params"  # 48,120: compact; exact in the tooltip
    assert "48,120" in canvas.scene().node("fc1").toolTip()
    assert content(canvas, "input").ports == () and content(canvas, "conv1").ports == (0,)


def test_property_edit_reinfers_shapes_on_the_canvas(canvas, qtbot):
    doc = canvas.document
    doc.set_params("conv1", {"out_channels": 10})
    qtbot.waitUntil(lambda: content(canvas, "conv1").shape == "[10, 28, 28]")
    assert content(canvas, "conv1").detail.startswith("out 10")
    assert content(canvas, "pool1").shape == "[10, 14, 14]"
    assert content(canvas, "conv2").cost == f"{(10 * 25 + 1) * 16 / 1000:.2g}k params"
    assert canvas.scene().edge(Edge("pool1", "conv2", 0)).label == "[10, 14, 14]"
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: content(canvas, "pool1").shape == "[6, 14, 14]")


def test_shape_mismatch_is_drawn_red_with_the_message(canvas, qtbot, mouse):
    doc = canvas.document
    doc.add_node("Add", pos=(300.0, 360.0))
    doc.connect("conv1", "add")
    doc.connect("pool1", "add")
    qtbot.waitUntil(lambda: content(canvas, "add").error is not None)
    msg = content(canvas, "add").error
    assert "[6, 28, 28]" in msg and "[6, 14, 14]" in msg
    edges = [canvas.scene().edge(Edge("conv1", "add", 0)), canvas.scene().edge(Edge("pool1", "add", 1))]
    assert all(e.error for e in edges)
    assert not canvas.scene().edge(Edge("conv1", "relu1", 0)).error
    assert msg in edges[0].toolTip()
    # hovering the node shows the message
    item = canvas.scene().node("add")
    local = mouse.at(item.center()).toPoint()
    QApplication.sendEvent(canvas.viewport(), QHelpEvent(QEvent.Type.ToolTip, local,
                                                         canvas.viewport().mapToGlobal(local)))
    assert msg in QToolTip.text()
    QToolTip.hideText()
    # the graph stays editable: fixing it clears the red
    doc.disconnect([Edge("conv1", "add", 0)])
    doc.connect("pool1", "add", 0) if False else doc.connect("relu1", "add", 0)
    qtbot.waitUntil(lambda: content(canvas, "add").error is not None and "[6, 28, 28]" in content(canvas, "add").error)
    doc.disconnect([Edge("relu1", "add", 0)])
    doc.add_node("MaxPool2d", pos=(500.0, 240.0), params={"kernel_size": 2}, node_id="p2")
    doc.connect("relu1", "p2")
    doc.connect("p2", "add", 0)
    qtbot.waitUntil(lambda: content(canvas, "add").error is None)
    assert content(canvas, "add").shape == "[6, 14, 14]"
    assert not any(e.error for e in canvas.scene().node("add").in_edges)


def test_multi_input_node_always_shows_one_free_port(canvas, qtbot):
    doc = canvas.document
    doc.add_node("Concat", pos=(300.0, 360.0))
    canvas.refresh()
    assert content(canvas, "concat").ports == (0,) and content(canvas, "concat").connected == frozenset()
    doc.connect("relu1", "concat")
    doc.connect("pool1", "concat")
    canvas.refresh()
    assert content(canvas, "concat").ports == (0, 1, 2)
    assert content(canvas, "concat").connected == {0, 1}
    doc.disconnect([Edge("relu1", "concat", 0)])
    canvas.refresh()
    assert content(canvas, "concat").ports == (0, 1)  # the gap is the free port
    anchors = [canvas.scene().node("concat").input_anchor(p).x() for p in (0, 1)]
    edge = canvas.scene().edge(Edge("pool1", "concat", 1))
    assert abs(edge.path().pointAtPercent(1).x() - anchors[1]) < 0.5  # the edge follows its port


def test_label_and_frozen_flag_are_shown(canvas, qtbot):
    doc = canvas.document
    doc.set_label("fc1", "hidden layer")
    doc.set_trainable("fc1", False)
    qtbot.waitUntil(lambda: content(canvas, "fc1").title == "hidden layer")
    assert content(canvas, "fc1").muted
    assert "Frozen" in canvas.scene().node("fc1").toolTip()


def test_set_document_replaces_the_scene(canvas, qtbot):
    from studio.document import Document
    old = canvas.document
    new = Document()
    new.add_node("Input", pos=(0.0, 0.0))
    canvas.set_document(new)
    assert set(canvas.scene().nodes()) == {"input"}
    old.remove_nodes(["conv1"])  # the old document no longer reaches the scene
    old.add_node("Linear", pos=(0.0, 0.0), params={"out_features": 3}, node_id="zzz")
    assert set(canvas.scene().nodes()) == {"input"}
    new.undo_stack.undo()
    assert canvas.scene().nodes() == {}
    assert canvas.actions_by_name()["redo"].isEnabled()
    new.close()


def test_set_node_health_colours_nodes(canvas):
    canvas.set_node_health({"conv1": "#e5534b", "fc1": "#57ab5a"})
    assert canvas.scene().node("conv1").health == "#e5534b"
    canvas.set_node_health({"conv1": None})
    assert canvas.scene().node("conv1").health is None
    assert canvas.scene().node("fc1").health == "#57ab5a"
    canvas.document.remove_nodes(["fc1"])
    canvas.document.undo_stack.undo()
    assert canvas.scene().node("fc1").health == "#57ab5a"  # kept for a node that comes back


def test_selection_follows_the_document_both_ways(canvas, mouse):
    doc = canvas.document
    doc.select(["relu2", "pool2"])
    assert set(canvas.scene().selected_node_keys()) == {"relu2", "pool2"}
    mouse.click(canvas.scene().node("fc2").center())
    assert doc.selection == ["fc2"]
    assert canvas.actions_by_name()["delete"].isEnabled()
    doc.select([])
    assert not canvas.actions_by_name()["delete"].isEnabled()


def test_editor_never_imports_torch():
    """Driven in a fresh interpreter: another test in this process may import torch."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QPointF
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from studio.canvas import GraphCanvas
        from studio.document import Document
        doc = Document.open("assets/sample.json")
        c = GraphCanvas(doc); c.resize(800, 600); c.show(); app.processEvents()
        c.add_layer("Conv2d", QPointF(300, 300)); c.select_all(); c.copy(); c.paste(); c.duplicate()
        c.auto_layout(); c.delete_selected(); doc.undo_stack.undo(); c.open_layer_search().hide()
        doc.set_params("conv1", {"out_channels": 3}); c.refresh(); app.processEvents()
        print("torch" in sys.modules, len(c.scene().nodes()))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    torch_loaded, nodes = out.stdout.split()
    assert torch_loaded == "False" and int(nodes) > 13


def test_first_view_is_readable_and_shows_the_input(canvas):
    assert canvas.zoom() >= 0.6  # the sample is too tall to fit readably in 1000×700
    visible = canvas.visible_scene_rect()
    assert visible.contains(canvas.scene().node("input").sceneBoundingRect())
    canvas.fit()  # F shows everything, however small
    assert all(visible.contains(n.sceneBoundingRect()) for n in canvas.scene().nodes().values()
               for visible in [canvas.visible_scene_rect()])
