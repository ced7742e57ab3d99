"""Layer palette: categories, search, double-click to add, a real drag onto the canvas."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.catalog import CATALOG, CATEGORIES
from test_window_fixtures import home, no_torch, open_window, studio, window  # noqa: F401

MIME = "application/x-layerstudio-layer"


def item_point(window, type_: str) -> QPoint:
    palette = window.panel("palette")
    item = palette.items[type_]
    palette.tree.scrollToItem(item)
    return palette.tree.visualItemRect(item).center()


def send_mouse(widget, kind, pos: QPoint, button, buttons) -> None:
    local = QPointF(pos)
    QApplication.sendEvent(widget, QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def double_click(qtbot, widget, pos: QPoint) -> None:
    """As a hand does it: press, release, then the double-click (Qt needs the first press)."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_palette_lists_the_catalog_by_category_with_tooltips(window):
    palette = window.panel("palette")
    tree = palette.tree
    heads = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert heads == [c for c in CATEGORIES if any(s.category == c for s in CATALOG.values())]
    assert set(palette.items) == set(CATALOG)
    conv = palette.items["Conv2d"]
    assert conv.parent().text(0) == "Convolution"
    assert "2-D convolution" in conv.toolTip(0) and "in_channels" in conv.toolTip(0)


def test_search_filters_by_name_and_description(window, qtbot):
    palette = window.panel("palette")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Ctrl+F: find a layer
    qtbot.waitUntil(palette.search.hasFocus)
    qtbot.keyClicks(palette.search, "pool")
    shown = palette.visible_types()
    assert shown and all("pool" in (t + CATALOG[t].doc).lower() for t in shown)
    assert "Conv2d" not in shown and "MaxPool2d" in shown
    palette.search.clear()
    qtbot.keyClicks(palette.search, "residual skip")  # words of a description
    assert palette.visible_types() == ["Add"]
    before = set(window.document.graph.nodes)
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)  # Enter adds the first match
    added = set(window.document.graph.nodes) - before
    assert [window.document.graph.nodes[n].type for n in added] == ["Add"]
    palette.search.clear()
    assert len(palette.visible_types()) == len(CATALOG)


def test_double_click_adds_the_layer_at_the_view_centre_in_one_undo_step(window, qtbot):
    doc, tree = window.document, window.panel("palette").tree
    before = set(doc.graph.nodes)
    undo_count = doc.undo_stack.count()
    double_click(qtbot, tree.viewport(), item_point(window, "BatchNorm2d"))
    added = set(doc.graph.nodes) - before
    assert len(added) == 1
    node = doc.graph.nodes[added.pop()]
    assert node.type == "BatchNorm2d"
    assert doc.selection == [node.id]  # selected, so the Properties dock shows it
    cx, cy = window.view_centre()
    assert abs(node.pos[0] - cx) < 200 and abs(node.pos[1] - cy) < 200
    assert doc.undo_stack.count() == undo_count + 1
    doc.undo_stack.undo()
    assert node.id not in doc.graph.nodes


def test_a_real_drag_from_the_palette_drops_the_layer_on_the_canvas(window, qtbot, monkeypatch):
    doc, canvas, tree = window.document, window.canvas, window.panel("palette").tree
    drop_at = QPoint(canvas.viewport().width() // 4, canvas.viewport().height() // 3)
    delivered = {}

    def fake_exec(drag: QDrag, *args, **kwargs):
        """What the platform's drag loop does: enter, move, drop on the widget under the cursor."""
        data = drag.mimeData()
        delivered["formats"] = data.formats()
        delivered["payload"] = bytes(data.data(MIME)).decode("utf-8")
        vp = canvas.viewport()
        actions = Qt.DropAction.CopyAction
        enter = QDragEnterEvent(drop_at, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, enter)
        delivered["accepted"] = enter.isAccepted()
        QApplication.sendEvent(vp, QDragMoveEvent(drop_at, actions, data, Qt.MouseButton.LeftButton,
                                                  Qt.KeyboardModifier.NoModifier))
        drop = QDropEvent(QPointF(drop_at), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, drop)
        return drop.dropAction()

    monkeypatch.setattr(QDrag, "exec", fake_exec)
    before = set(doc.graph.nodes)
    start = item_point(window, "Dropout")
    vp = tree.viewport()
    L, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send_mouse(vp, QEvent.Type.MouseButtonPress, start, L, L)
    for dx in (4, 12, 24, 40):  # past QApplication.startDragDistance(): the view starts its drag
        send_mouse(vp, QEvent.Type.MouseMove, start + QPoint(dx, dx // 2), none, L)
    send_mouse(vp, QEvent.Type.MouseButtonRelease, start + QPoint(40, 20), L, none)

    assert delivered.get("payload") == "Dropout", "the palette did not start a drag with the layer's mime data"
    assert MIME in delivered["formats"] and delivered["accepted"]
    added = set(doc.graph.nodes) - before
    assert len(added) == 1
    node = doc.graph.nodes[added.pop()]
    assert node.type == "Dropout"
    scene = canvas.mapToScene(drop_at)
    assert abs(node.pos[0] - scene.x()) < 2 and abs(node.pos[1] - scene.y()) < 2
    assert no_torch()


def test_categories_cannot_be_dragged_or_added(window, qtbot):
    doc, tree = window.document, window.panel("palette").tree
    head = tree.topLevelItem(0)
    before = dict(doc.graph.nodes)
    double_click(qtbot, tree.viewport(), tree.visualItemRect(head).center())
    assert dict(doc.graph.nodes) == before
    assert not head.flags() & Qt.ItemFlag.ItemIsDragEnabled
