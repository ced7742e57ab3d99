"""The main window: docks from the one factory, the View menu, layout persistence, menus,
shortcuts and the status bar."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from test_window_fixtures import (FakeEngine, answer, home, no_torch, open_window, studio, window)  # noqa: F401

DOCK_NAMES = {"palette", "properties", "dataset", "training", "summary", "problems", "saliency", "explain"}
DOCK_NAMES |= {"runs", "curves", "pareto"}  # the run docks (studio/runs)
DOCK_NAMES |= {"filters", "feature_maps", "health", "evaluation", "sanity"}  # the live insight docks


def view_action(window, title: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    return next(a for a in menu.actions() if a.text() == title)


def test_every_dock_comes_from_the_factory_and_toggles_from_the_view_menu(window, qtbot):
    assert set(window.docks) == DOCK_NAMES
    for name, dock in window.docks.items():
        assert dock.objectName() == f"dock_{name}"
        features = dock.features()
        for f in (dock.DockWidgetFeature.DockWidgetMovable, dock.DockWidgetFeature.DockWidgetFloatable,
                  dock.DockWidgetFeature.DockWidgetClosable):
            assert features & f
        action = view_action(window, dock.windowTitle().split(" (")[0])
        assert action is dock.toggleViewAction()
        assert action.isChecked()
        action.trigger()
        qtbot.waitUntil(lambda: dock.isHidden())
        assert not action.isChecked()
        action.trigger()
        qtbot.waitUntil(lambda: not dock.isHidden())
        # a deferred dock has real content once it has been shown
        assert dock.built and dock.widget().objectName() == f"panel_{name}"


def test_dock_layout_persists_across_windows_and_reset_restores_it(studio, open_window, qtbot):
    w = open_window()
    assert w.dockWidgetArea(w.docks["problems"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    w.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, w.docks["problems"])
    w.docks["dataset"].close()
    w.close()
    assert not studio.windows

    w2 = open_window()
    assert w2.dockWidgetArea(w2.docks["problems"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert w2.docks["dataset"].isHidden()
    assert not w2.docks["palette"].isHidden()

    w2.actions_["reset_layout"].trigger()
    assert w2.dockWidgetArea(w2.docks["problems"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert not w2.docks["dataset"].isHidden()
    assert w2.tabifiedDockWidgets(w2.docks["properties"]) and w2.docks["dataset"] in \
        w2.tabifiedDockWidgets(w2.docks["properties"])
    w2.close()
    # the reset layout is what the next window starts with
    w3 = open_window()
    assert w3.dockWidgetArea(w3.docks["problems"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert not w3.docks["dataset"].isHidden()


def test_menu_shortcuts(window):
    expected = {"new": "Ctrl+N", "open": "Ctrl+O", "save": "Ctrl+S", "save_as": "Ctrl+Shift+S",
                "close": "Ctrl+W", "quit": "Ctrl+Q", "new_window": "Ctrl+Shift+N"}
    for name, keys in expected.items():
        shortcuts = [s.toString() for s in window.actions_[name].shortcuts()]
        assert keys in shortcuts, (name, shortcuts)
    for name, keys in {"undo": "Ctrl+Z", "redo": "Ctrl+Shift+Z"}.items():
        action = window.canvas_actions[name]
        assert keys in [s.toString() for s in action.shortcuts()]
        assert action.shortcutContext() == Qt.ShortcutContext.WindowShortcut  # undo from any panel
    # every shortcut in the menus is unique (Qt silently drops ambiguous ones)
    seen: dict[str, str] = {}
    for menu_action in window.menuBar().actions():
        for a in menu_action.menu().actions():
            for s in a.shortcuts():
                key = s.toString()
                assert key not in seen, f"{key} is bound to {seen[key]} and {a.text()}"
                seen[key] = a.text()
    assert all(a.toolTip() for a in window.actions_.values())


def test_undo_shortcut_works_from_a_dock(window, qtbot):
    doc = window.document
    doc.set_params("fc3", {"out_features": 9})
    window.panel("palette").tree.setFocus()
    qtbot.waitUntil(lambda: window.panel("palette").tree.hasFocus())
    qtbot.keyClick(window.panel("palette").tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.graph.node("fc3").params["out_features"] == 6


def test_status_bar_shows_totals_and_engine_state(studio, window, qtbot):
    assert "61.7 K params" in window.totals_label.text()
    assert "Engine" in window.engine_label.text()
    studio.start_engine()
    assert isinstance(studio.engine, FakeEngine) and studio.engine.started
    assert "starting" in window.engine_label.text()
    studio.engine.come_up()
    assert "Engine ready" in window.engine_label.text() and "1 GPU" in window.engine_label.text()
    # the training dock lists the devices once the engine has answered
    devices = window.panel("training").devices.text()
    assert "NVIDIA H100 80GB HBM3" in devices and "80.0 GiB" in devices
    assert not window.actions_["restart_engine"].isEnabled()
    studio.engine.died.emit("the engine service was killed by SIGKILL")
    assert "stopped" in window.engine_label.text()
    assert "SIGKILL" in window.panel("training").devices.text()
    studio.engine.started = False
    window.actions_["restart_engine"].trigger()  # Help → Restart Engine
    assert studio.engine.started and "starting" in window.engine_label.text()
    window.document.set_params("fc3", {"out_features": 10})
    qtbot.waitUntil(lambda: "62.0 K params" in window.totals_label.text())


def test_engine_that_cannot_start_is_reported_not_fatal(qapp, home, qtbot):
    from studio.app import Studio

    def broken(parent):
        raise OSError("no python for the engine")
    s = Studio(engine_factory=broken)
    s.start_engine()
    assert s.engine_state == "failed" and "no python" in s.engine_message
    s.deleteLater()


def test_engine_is_shut_down_with_the_app(studio, window):
    studio.start_engine()
    engine = studio.engine
    window.close()
    studio.shutdown()
    assert engine.stopped and studio.engine is None


def test_new_window_is_a_second_window_in_the_same_process(studio, window, qtbot, monkeypatch):
    window.actions_["new_window"].trigger()
    assert len(studio.windows) == 2
    other = studio.windows[-1]
    qtbot.waitExposed(other)
    assert other is not window and other.document is not window.document
    assert list(other.document.graph.nodes) == ["input"]
    # editing one does not touch the other
    other.document.add_node("ReLU")
    assert "relu" not in window.document.graph.nodes
    asked = []
    answer(monkeypatch, QMessageBox.StandardButton.Discard, asked)
    other.close()
    assert len(asked) == 1 and "Untitled" in asked[0]
    assert studio.windows == [window]


def test_quit_closes_every_window(studio, open_window, qtbot, monkeypatch):
    a, b = open_window(), open_window()
    quit_called = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: quit_called.append(True)))
    assert studio.quit()
    assert not studio.windows and quit_called
    assert no_torch()
