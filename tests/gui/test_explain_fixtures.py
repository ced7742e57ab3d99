"""Fixtures of the tests that drive the app against the real engine service (imported by
test_explain_service.py and test_export_import.py): one Studio with a real EngineService per
module, a settings home of its own, and a check that no engine process outlives the module."""
from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"
START_MS = 180_000  # the first start imports torch in the fork server, on a busy machine
TORCH_BEFORE = "torch" in sys.modules  # engine tests of the same session may have loaded it


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def tiny_project(**training) -> dict:
    doc = json.loads(SAMPLE.read_text())
    doc["name"] = "explain run"
    doc["dataset"] = {"source": "builtin:shapes", "size": 256, "val_fraction": 0.25, "seed": 0}
    doc["training"] = {"epochs": 3, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9},
                       "probes": {"period_s": 0.1}, **training}
    return copy.deepcopy(doc)


def wait_for(condition, timeout_ms: int) -> bool:
    """Run the event loop until ``condition()`` (checked on every event batch) or the timeout."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start(20)
    QTimer.singleShot(timeout_ms, loop.quit)
    if not condition():
        loop.exec()
    timer.stop()
    return condition()


@pytest.fixture(scope="module")
def real_studio(qapp, tmp_path_factory):
    """A Studio whose engine service is real and ready."""
    home = tmp_path_factory.mktemp("home")
    old_home = os.environ.get("LAYERSTUDIO_HOME")
    os.environ["LAYERSTUDIO_HOME"] = str(home)
    from studio.app import Studio
    from studio.services import EngineService
    studio = Studio(engine_factory=lambda parent: EngineService(parent))
    studio.start_engine()
    assert wait_for(lambda: studio.engine_state in ("ready", "failed"), START_MS), "the engine did not start"
    assert studio.engine_state == "ready", studio.engine_message
    server = studio.engine.host.server
    yield studio
    pids = [server.proc.pid, *server.pids.values()]
    original = QMessageBox.exec
    QMessageBox.exec = lambda self: QMessageBox.StandardButton.Discard  # no prompts at teardown
    try:
        for w in list(studio.windows):
            w.close()
        studio.shutdown()
    finally:
        QMessageBox.exec = original
    QApplication.processEvents()
    assert not [p for p in pids if alive(p)], "engine processes left running"
    studio.deleteLater()
    if old_home is None:
        os.environ.pop("LAYERSTUDIO_HOME", None)
    else:
        os.environ["LAYERSTUDIO_HOME"] = old_home


@pytest.fixture(scope="module")
def real_window(real_studio):
    from studio.document import Document
    w = real_studio.new_window(Document.open(SAMPLE))
    assert wait_for(lambda: w.painted, 10_000)
    return w


def needs_requests(*kinds: str):
    """Skip (naming the missing piece) when the engine service does not answer these yet."""
    from engine.service.requests import HANDLERS
    missing = [k for k in kinds if k not in HANDLERS]
    return pytest.mark.skipif(bool(missing), reason=f"the engine service has no {', '.join(missing)} request "
                              f"yet (engine/service/requests.py HANDLERS)")


def no_torch_here() -> bool:
    """The GUI side did not import torch (vacuous when the session had it before)."""
    return TORCH_BEFORE or "torch" not in sys.modules
