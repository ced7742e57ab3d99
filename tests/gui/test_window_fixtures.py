"""Fixtures of the main-window tests (imported by test_window*/test_docks*/test_projects*).

Every test gets its own ``LAYERSTUDIO_HOME`` (settings, recovery files, logs, cache in a
temp folder: the user's real ones are never touched), a ``Studio`` whose engine service is
a fake emitting the real service's signals (no child process), and a check afterwards that
no main window, background task or recovery write is left behind.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"
DEVICES = [{"id": "cpu", "name": "CPU (16 threads)", "memory": 64 * 2**30, "kind": "cpu"},
           {"id": "cuda:0", "name": "NVIDIA H100 80GB HBM3", "memory": 80 * 2**30, "kind": "cuda"}]


class FakeEngine(QObject):
    """The signals and methods of studio.services.engine_client.EngineService, without a process."""

    ready = Signal()
    devices_changed = Signal(list)
    died = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stopped = True

    def come_up(self, devices=DEVICES) -> None:
        self.ready.emit()
        self.devices_changed.emit(list(devices))


def settle() -> None:
    """Let background tasks finish and their results arrive."""
    QThreadPool.globalInstance().waitForDone(10_000)
    from studio import recovery
    recovery.io_pool().waitForDone(10_000)
    QApplication.processEvents()


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    monkeypatch.setenv("LAYERSTUDIO_HOME", str(path))
    return path


_torch_before_test = False  # torch already loaded (by engine tests in the same process): no check here


@pytest.fixture
def studio(qapp, home, monkeypatch):
    """A Studio; afterwards: no main window left, and (when the test process had no torch yet)
    none imported by the UI. test_window_no_torch.py checks the latter in a fresh process."""
    global _torch_before_test
    from studio.app import Studio
    from studio.main_window import MainWindow
    _torch_before_test = "torch" in sys.modules
    s = Studio(engine_factory=FakeEngine)
    yield s
    # windows the test left open are closed without prompts
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Discard)
    for w in list(s.windows):
        w.close()
    s.shutdown()
    settle()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    left = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    assert not left, f"main windows leaked: {left}"
    assert not s.windows
    s.deleteLater()
    assert no_torch(), "driving the UI imported torch"


@pytest.fixture
def open_window(studio, qtbot):
    """``open_window(path=SAMPLE)``: a shown, painted main window on a project."""
    from studio.document import Document

    def make(path: Path | None = SAMPLE):
        doc = Document.open(path) if path else None
        w = studio.new_window(doc)
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.painted, timeout=5000)
        QApplication.processEvents()
        return w
    return make


@pytest.fixture
def window(open_window):
    return open_window()


def answer(monkeypatch, button: QMessageBox.StandardButton, asked: list | None = None) -> None:
    """Make every QMessageBox.exec answer ``button`` (recording the texts when ``asked`` is a list)."""
    def fake_exec(box: QMessageBox) -> int:
        if asked is not None:
            asked.append(box.text())
        return button
    monkeypatch.setattr(QMessageBox, "exec", fake_exec)


def error_dialogs(window) -> list:
    from studio.error_dialog import ErrorDialog
    return [d for d in window.findChildren(ErrorDialog) if d.isVisible()]


def close_dialogs(window) -> None:
    for d in error_dialogs(window):
        d.close()


def no_torch() -> bool:
    """The UI has not imported torch (vacuous when another test had loaded it already)."""
    return _torch_before_test or "torch" not in sys.modules


def wait_idle(qtbot, ms: int = 60) -> None:
    """Let coalescing timers (summary/problems refresh, 30-40 ms) fire."""
    done = []
    QTimer.singleShot(ms, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
