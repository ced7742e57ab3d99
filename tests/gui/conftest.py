"""Shared GUI fixtures: a Document on the sample project, a shown canvas, a mouse that
drives the canvas's viewport with real QMouseEvents, and a leak check after every test."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"


@pytest.fixture
def no_leaks(qapp):
    """Fail a test that leaves a visible top-level window (a popup, a menu) or a Python thread
    behind. Qt's pool threads that once ran Python code are not counted (they stay registered)."""
    windows = {id(w) for w in QApplication.topLevelWidgets()}
    threads = {t.ident for t in threading.enumerate()}
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [w for w in QApplication.topLevelWidgets() if id(w) not in windows and w.isVisible()]
    assert not left, f"windows left open: {left}"
    extra = [t for t in threading.enumerate() if t.ident not in threads and t.is_alive()
             and not isinstance(t, threading._DummyThread)]
    assert not extra, f"threads left running: {extra}"


@pytest.fixture
def document(qapp):
    from studio.document import Document
    doc = Document.open(SAMPLE)
    yield doc
    doc.close()
    doc.deleteLater()


@pytest.fixture
def make_canvas(qtbot, no_leaks):
    """Build shown, focused canvases on documents; they are detached and deleted afterwards."""
    from studio.canvas import GraphCanvas
    made = []

    def make(doc):
        canvas = GraphCanvas(doc)
        qtbot.addWidget(canvas, before_close_func=lambda c: c.detach())
        canvas.resize(1000, 700)
        canvas.show()
        qtbot.waitExposed(canvas)
        canvas.activateWindow()
        canvas.setFocus()
        qtbot.waitUntil(lambda: not canvas._fit_pending)
        made.append(canvas)
        return canvas

    yield make


@pytest.fixture
def canvas(make_canvas, document):
    return make_canvas(document)


class Mouse:
    """Real mouse events on a canvas's viewport, addressed in scene coordinates (converted to
    viewport pixels when a gesture starts, as a hand on a mouse would: panning moves the view)."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.buttons = Qt.MouseButton.NoButton

    def at(self, scene_pos) -> QPointF:
        if not isinstance(scene_pos, QPointF):
            scene_pos = QPointF(*scene_pos)
        return self.canvas.viewportTransform().map(scene_pos)

    def _send(self, kind, local: QPointF, button=Qt.MouseButton.NoButton, modifiers=Qt.KeyboardModifier.NoModifier):
        vp = self.canvas.viewport()
        ev = QMouseEvent(kind, local, QPointF(vp.mapToGlobal(local.toPoint())), button, self.buttons, modifiers)
        QApplication.sendEvent(vp, ev)

    def press(self, pos, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self.buttons |= button
        self._send(QEvent.Type.MouseButtonPress, self.at(pos), button, modifiers)

    def move(self, pos, modifiers=Qt.KeyboardModifier.NoModifier):
        self._send(QEvent.Type.MouseMove, self.at(pos), Qt.MouseButton.NoButton, modifiers)

    def release(self, pos, button=Qt.MouseButton.LeftButton, modifiers=Qt.KeyboardModifier.NoModifier):
        self.buttons &= ~button
        self._send(QEvent.Type.MouseButtonRelease, self.at(pos), button, modifiers)

    def drag(self, start, end, button=Qt.MouseButton.LeftButton, steps=6, modifiers=Qt.KeyboardModifier.NoModifier):
        a, b = self.at(start), self.at(end)
        self._send(QEvent.Type.MouseMove, a, modifiers=modifiers)
        self.buttons |= button
        self._send(QEvent.Type.MouseButtonPress, a, button, modifiers)
        for i in range(1, steps + 1):
            self._send(QEvent.Type.MouseMove, a + (b - a) * (i / steps), modifiers=modifiers)
        self.buttons &= ~button
        self._send(QEvent.Type.MouseButtonRelease, b, button, modifiers)

    def click(self, pos, modifiers=Qt.KeyboardModifier.NoModifier):
        self.press(pos, modifiers=modifiers)
        self.release(pos, modifiers=modifiers)

    def double_click(self, pos):
        self.click(pos)
        self.buttons |= Qt.MouseButton.LeftButton
        self._send(QEvent.Type.MouseButtonDblClick, self.at(pos), Qt.MouseButton.LeftButton)
        self.release(pos)

    def wheel(self, pos, delta: int):
        local = self.at(pos)
        vp = self.canvas.viewport()
        ev = QWheelEvent(local, QPointF(vp.mapToGlobal(local.toPoint())), QPoint(), QPoint(0, delta),
                         Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(vp, ev)


@pytest.fixture
def mouse(canvas):
    return Mouse(canvas)
