"""Live training from the main window, with a real engine (one for the module) and real tiny
runs: Train streams curves that equal metrics.jsonl; pause, resume, stop and resume after a
stop; a killed worker is a failure notice while the app carries on; a finished run directory
reopens with its curves; a run written by another process is followed."""
from __future__ import annotations

import copy
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.runs.metrics import read_metrics
from engine.runs.status import read_status
from test_window_fixtures import answer, error_dialogs, home, settle  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())
START_MS = 180_000  # the fork server's first start imports torch, on a busy machine
RUN_MS = 120_000


def tiny(epochs: int = 2, **training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["name"] = "tiny"
    doc["dataset"] = {"source": "builtin:shapes", "size": 256, "val_fraction": 0.25, "seed": 0}
    doc["training"] = {"epochs": epochs, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}, **training}
    return doc


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def engine(qapp):
    from studio.services import EngineService
    svc = EngineService()
    loop = QEventLoop()
    svc.ready.connect(loop.quit)
    svc.died.connect(loop.quit)
    QTimer.singleShot(START_MS, loop.quit)
    svc.start()
    loop.exec()
    assert svc.is_ready
    server = svc.host.server
    yield svc
    pids = [server.proc.pid, *server.pids.values()]
    svc.shutdown()
    assert not [p for p in pids if alive(p)], "engine processes left running"
    svc.deleteLater()


@pytest.fixture
def studio(qapp, home, engine, monkeypatch):
    """A Studio on the shared engine (kept alive across tests); no window or worker left after."""
    from studio.app import Studio
    from studio.main_window import MainWindow
    s = Studio(engine_factory=lambda parent: engine)
    s.start_engine()
    s.devices = list(engine.devices)
    yield s
    runs = s.runs.runs()
    for h in runs:
        if h.is_live:
            with_signal(h.state_changed, lambda st: st in ("stopped", "finished", "failed", "interrupted"),
                        h.stop, 30_000)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Discard)
    for w in list(s.windows):
        w.close()
    s.engine = None  # the module's engine outlives this Studio
    s.shutdown()
    settle()
    QApplication.sendPostedEvents(None, 52)  # DeferredDelete
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    workers = [h.training.pid for h in runs if h.training is not None and h.training.pid]
    assert not [p for p in workers if alive(p)], "a worker was left running"
    s.deleteLater()


def with_signal(signal_, accept, action, timeout_ms: int = RUN_MS):
    """Do ``action`` and wait (on the event loop) until ``signal_`` carries a value ``accept`` likes."""
    loop = QEventLoop()
    got = []

    def seen(*args):
        if accept(*args):
            got.append(args)
            loop.quit()
    signal_.connect(seen)
    QTimer.singleShot(timeout_ms, loop.quit)
    action()
    if not got:
        loop.exec()
    signal_.disconnect(seen)
    assert got, f"timed out waiting for {signal_}"
    return got[0]


@pytest.fixture
def window(studio, qtbot, tmp_path):
    """A window on a saved tiny project (its runs go to tmp_path/runs)."""
    from studio.document import Document
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny()))
    w = studio.new_window(Document.open(path))
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.painted, timeout=5000)
    w.show_dock("curves")
    w.show_dock("runs")
    qtbot.waitUntil(lambda: w.docks["curves"].built and w.docks["runs"].built, timeout=5000)
    return w


def wait_state(qtbot, handle, *states, timeout=RUN_MS):
    qtbot.waitUntil(lambda: handle.state in states, timeout=timeout)


def curve(window, plot: str, split: str, handle):
    panel = window.panel("curves")
    series = panel.traces[handle].series[(plot, split, plot)]
    return series.data()


def assert_curves_equal_metrics(window, handle) -> None:
    rows = read_metrics(handle.run_dir / "metrics.jsonl")
    for split in ("train", "val"):
        mine = [r for r in rows if r["split"] == split]
        assert mine
        for metric in (("loss", "accuracy", "lr", "images_per_s") if split == "train" else ("loss", "accuracy")):
            x, y = curve(window, metric, split, handle)
            want_x = np.array([r["step"] for r in mine], dtype=float)
            want_y = np.array([np.nan if r[metric] is None else r[metric] for r in mine], dtype=float)
            np.testing.assert_array_equal(x, want_x, err_msg=f"{split} {metric} steps")
            np.testing.assert_array_equal(y, want_y, err_msg=f"{split} {metric}")


def test_train_streams_curves_that_equal_metrics_jsonl(window, qtbot):
    window.actions_["train"].trigger()
    handle = window.runs.current()
    assert handle is not None and handle.run_dir.parent == window.document.path.parent / "runs"
    panel = window.panel("curves")
    qtbot.waitUntil(lambda: handle in panel.traces and len(panel.traces[handle].series.get(
        ("loss", "train", "loss"), [])) > 0, timeout=RUN_MS)  # points while it runs
    wait_state(qtbot, handle, "finished")
    qtbot.waitUntil(lambda: panel.traces[handle].val_n == 2, timeout=5000)
    panel.sync()
    assert_curves_equal_metrics(window, handle)
    # the row says how it went
    runs = window.panel("runs")
    row = runs.model.row_of(handle)
    text = [runs.model.index(row, c).data() for c in range(4)]
    assert text[1] == "finished" and "2/2" in text[2]
    assert handle.best_accuracy() is not None and handle.params and handle.flops
    # per-epoch view: one point per epoch, the mean of its steps
    panel.x_axis.setCurrentIndex(1)
    x, y = curve(window, "loss", "train", handle)
    assert list(x) == [1, 2]
    rows = [r for r in read_metrics(handle.run_dir / "metrics.jsonl") if r["split"] == "train"]
    assert y[0] == pytest.approx(np.mean([r["loss"] for r in rows if r["epoch"] == 1]))
