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
from PySide6.QtCore import QEventLoop, QThreadPool, QTimer
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
    for w in list(s.windows):  # panels' reads still in flight land while their panels exist
        for pool in w.findChildren(QThreadPool):
            pool.waitForDone(10_000)
        settle()
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
def open_window(studio, qtbot, tmp_path):
    """``open_window(project)``: a window on the project saved in tmp_path (its runs: tmp_path/runs)."""
    from studio.document import Document

    def make(project: dict | None = None):
        path = tmp_path / "tiny.json"
        path.write_text(json.dumps(project or tiny()))
        w = studio.new_window(Document.open(path))
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.painted, timeout=5000)
        w.show_dock("curves")
        w.show_dock("runs")
        qtbot.waitUntil(lambda: w.docks["curves"].built and w.docks["runs"].built, timeout=5000)
        return w
    return make


@pytest.fixture
def window(open_window):
    return open_window()


@pytest.fixture(scope="module")
def finished_run(engine, tmp_path_factory):
    """A run directory of a finished tiny run (trained once for the module, read-only)."""
    from studio.services import TrainingRun
    run_dir = tmp_path_factory.mktemp("done") / "runs" / "tiny-finished"
    run = TrainingRun(engine, project=tiny(), run_dir=str(run_dir))
    with_signal(run.finished, lambda e: True, run.start)
    assert run.state == "finished"
    run.deleteLater()
    return run_dir


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


def test_pause_resume_stop_and_resume_after_stop(open_window, qtbot):
    w = open_window(tiny(epochs=300))
    actions = w.run_actions
    actions.train.trigger()
    handle = w.runs.current()
    qtbot.waitUntil(lambda: handle.state == "running" and len(handle.history.train) > 0, timeout=RUN_MS)
    runs_panel = w.panel("runs")
    assert not runs_panel.a_delete.isEnabled()  # never while live
    assert actions.pause.isEnabled() and actions.pause.text() == "&Pause"
    actions.pause.trigger()
    wait_state(qtbot, handle, "paused", timeout=10_000)
    assert actions.pause.text() == "&Resume"
    actions.pause.trigger()
    wait_state(qtbot, handle, "running", timeout=10_000)
    actions.stop.trigger()
    wait_state(qtbot, handle, "stopped", timeout=30_000)
    stopped_at = handle.step
    assert read_status(handle.run_dir / "status.json")["state"] == "stopped" and stopped_at > 0
    assert actions.resume.isEnabled() and not actions.pause.isEnabled()
    actions.resume.trigger()  # continues in the same directory from the checkpoint of the stop
    qtbot.waitUntil(lambda: handle.state == "running" and handle.history.last_step > stopped_at + 2,
                    timeout=RUN_MS)
    steps = handle.history.train.col("step")
    assert (np.diff(steps) == 1).all() and steps[0] == 1  # every step once, none lost or repeated
    actions.stop.trigger()
    wait_state(qtbot, handle, "stopped", timeout=30_000)
    assert read_status(handle.run_dir / "status.json").get("resumed") == 1


def test_a_killed_worker_is_a_notice_and_the_app_carries_on(open_window, qtbot):
    w = open_window(tiny(epochs=300))
    w.run_actions.train.trigger()
    handle = w.runs.current()
    qtbot.waitUntil(lambda: handle.training.pid is not None and "checkpoint" in handle.latest, timeout=RUN_MS)
    os.kill(handle.training.pid, signal.SIGKILL)
    wait_state(qtbot, handle, "failed", timeout=10_000)
    notices = [d for d in error_dialogs(w) if d.objectName() == "run_failure"]
    assert len(notices) == 1 and not notices[0].isModal()
    assert "SIGKILL" in notices[0].message_label.text() and "memory" in notices[0].message_label.text()
    notices[0].copy_details()
    assert "Run directory: " + str(handle.run_dir) in QApplication.clipboard().text()
    runs = w.panel("runs")
    qtbot.waitUntil(lambda: runs.model.index(runs.model.row_of(handle), 1).data().startswith("failed:"),
                    timeout=5000)
    assert w.run_actions.resume.isEnabled() and runs.a_resume.isEnabled()
    # still fully usable: edit the project, and resume the crashed run from its last checkpoint
    w.document.set_setting("training", "epochs", 301)
    assert w.document.is_modified
    killed_at = handle.history.last_step
    w.runs.resume(handle)
    qtbot.waitUntil(lambda: handle.state == "running" and handle.history.last_step > killed_at, timeout=RUN_MS)
    w.run_actions.stop.trigger()
    wait_state(qtbot, handle, "stopped", timeout=30_000)
    for d in error_dialogs(w):
        d.close()


def test_a_finished_run_directory_reopens_with_its_curves(window, finished_run, qtbot):
    handle = window.run_actions.open_run_dir(finished_run)
    assert handle is window.runs.current() and handle.run_dir == finished_run.resolve()
    panel = window.panel("curves")
    qtbot.waitUntil(lambda: handle.state == "finished" and handle in panel.traces
                    and panel.traces[handle].val_n == 2, timeout=10_000)
    panel.sync()
    assert_curves_equal_metrics(window, handle)
    assert handle.classes and handle.params and handle.best_accuracy() is not None
    assert not handle.follower.following  # finished: nothing to poll
    # not a run directory: one clear message
    assert window.run_actions.open_run_dir(finished_run / "checkpoints") is None
    (dialog,) = error_dialogs(window)
    assert "not a run directory" in dialog.message_label.text()
    dialog.close()


def test_a_run_written_by_another_process_is_followed(window, finished_run, tmp_path, qtbot):
    """Like `layerstudio train` in a terminal: status.json says running (this pid), rows arrive."""
    import shutil
    import socket
    run = tmp_path / "elsewhere" / "cli-run"
    shutil.copytree(finished_run, run)
    rows = read_metrics(run / "metrics.jsonl")
    first, rest = rows[:5], rows[5:]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
    status = read_status(run / "status.json")
    status.update(state="running", pid=os.getpid(), host=socket.gethostname(), heartbeat=time.time())
    (run / "status.json").write_text(json.dumps(status))
    handle = window.run_actions.open_run_dir(run)
    qtbot.waitUntil(lambda: handle.state == "running" and len(handle.history.train) == 5, timeout=10_000)
    with open(run / "metrics.jsonl", "a") as f:  # more rows, the last one cut mid-line
        text = "".join(json.dumps(r) + "\n" for r in rest)
        f.write(text[:-20])
    qtbot.waitUntil(lambda: len(handle.history.train) + len(handle.history.val) == len(rows) - 1, timeout=10_000)
    with open(run / "metrics.jsonl", "a") as f:
        f.write(text[-20:])
    status["state"] = "finished"
    (run / "status.json").write_text(json.dumps(status))
    wait_state(qtbot, handle, "finished", timeout=10_000)
    window.panel("curves").sync()
    assert_curves_equal_metrics(window, handle)


def test_a_sweep_queues_one_run_per_combination_and_the_queue_runs_them_in_turn(window, qtbot):
    from studio.runs.dialogs import SweepDialog
    dialog = SweepDialog(0.05, 32)
    dialog.lrs.setText("0.1, 0.02")
    dialog.batch_sizes.setText("32, x")
    assert not dialog.box.buttons()[0].isEnabled() and "batch_sizes" not in dialog.note.text()
    dialog.batch_sizes.setText("32")
    assert dialog.values() == ([0.1, 0.02], [32]) and "2 runs" in dialog.note.text()
    dialog.deleteLater()

    doc = window.document
    started = []
    made = window.runs.sweep(doc.to_dict(), doc.path, [0.1, 0.02], [32])
    assert [h.project["training"]["optimizer"]["lr"] for h in made] == [0.1, 0.02]
    assert len({h.run_dir for h in made}) == 2 and "lr0.1-bs32" in made[0].name
    assert made[0].state == "starting" and made[1].state == "queued"  # one run at a time on the CPU
    for h in made:
        h.event.connect(lambda e, h=h: started.append((h, e.type)) if e.type in ("started", "finished") else None)
    qtbot.waitUntil(lambda: all(h.state == "finished" for h in made), timeout=2 * RUN_MS)
    order = [(made.index(h), t) for h, t in started]
    assert order == [(0, "started"), (0, "finished"), (1, "started"), (1, "finished")]


def test_delete_asks_first_and_never_a_live_run(window, finished_run, monkeypatch, qtbot):
    import shutil
    run = window.document.path.parent / "runs" / "old-run"
    shutil.copytree(finished_run, run)
    window.runs.rescan()
    qtbot.waitUntil(lambda: window.runs.find(run) is not None, timeout=10_000)
    handle = window.runs.find(run)
    window.runs.set_current(handle)
    panel = window.panel("runs")
    asked: list = []
    answer(monkeypatch, QMessageBox.StandardButton.Cancel, asked)
    panel.a_delete.trigger()
    assert asked and "old-run" in asked[0] and run.exists() and window.runs.find(run) is handle
    answer(monkeypatch, QMessageBox.StandardButton.Yes, asked)
    panel.a_delete.trigger()
    qtbot.waitUntil(lambda: not run.exists(), timeout=10_000)
    assert window.runs.find(run) is None and panel.model.row_of(handle) == -1
    # a run folder removed by someone else leaves the list at the next scan
    other = window.document.path.parent / "runs" / "other-run"
    shutil.copytree(finished_run, other)
    window.runs.rescan()
    qtbot.waitUntil(lambda: window.runs.find(other) is not None, timeout=10_000)
    shutil.rmtree(other)
    qtbot.waitUntil(lambda: not window.runs._scan.running, timeout=5000)
    window.runs.rescan()
    qtbot.waitUntil(lambda: window.runs.find(other) is None, timeout=10_000)


def test_train_refuses_a_project_with_errors(window, qtbot):
    window.document.set_setting("training", "batch_size", 0)
    before = window.runs.runs()
    window.run_actions.train.trigger()
    assert window.runs.runs() == before
    (dialog,) = error_dialogs(window)
    assert "batch_size" in dialog.message_label.text() and window.docks["problems"].isVisible()
    dialog.close()


def test_interrupted_runs_are_offered_for_resuming_at_start(studio, finished_run, tmp_path, monkeypatch, qtbot):
    import shutil
    import socket
    run = tmp_path / "runs" / "cut-short"
    shutil.copytree(finished_run, run)
    status = read_status(run / "status.json")
    status.update(state="running", pid=2**22 + 12345, host=socket.gethostname())  # its process is gone
    (run / "status.json").write_text(json.dumps(status))
    asked: list = []
    answer(monkeypatch, QMessageBox.StandardButton.Yes, asked)
    from studio.document import Document
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny()))
    w = studio.new_window(Document.open(path))
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert "cut-short" in asked[0] and "interrupted" in asked[0]
    handle = w.runs.find(run)
    wait_state(qtbot, handle, "finished")  # resumed from its last checkpoint: nothing was left to do
    assert read_status(run / "status.json")["resumed"] == 1
    w.runs.rescan()  # asked once per run, not at every scan
    qtbot.waitUntil(lambda: not w.runs._scan.running, timeout=5000)
    assert len(asked) == 1


def test_more_epochs_for_a_finished_run_and_a_new_run_from_its_weights(window, finished_run, qtbot):
    import shutil
    run = window.document.path.parent / "runs" / "done"
    shutil.copytree(finished_run, run)
    handle = window.run_actions.open_run_dir(run)
    wait_state(qtbot, handle, "finished", timeout=10_000)
    qtbot.waitUntil(lambda: handle.can_resume and window.panel("runs").a_more.isEnabled(), timeout=5000)
    window.runs.resume(handle, epochs=3)  # continue a finished run to a new total
    qtbot.waitUntil(lambda: handle.state == "finished" and handle.epoch == 3, timeout=RUN_MS)
    assert read_status(run / "status.json")["epochs"] == 3
    assert handle.history.val.col("epoch").tolist() == [1, 2, 3]
    doc = window.document
    child = window.runs.start_from(handle, doc.to_dict(), doc.path)
    assert window.runs.current() is child and child.project["training"]["init_from"] == {"run": str(handle.run_dir)}
    wait_state(qtbot, child, "finished")
    config = json.loads((child.run_dir / "config.json").read_text())
    assert config["training"]["init_from"]["run"] == str(handle.run_dir)
    log = (child.run_dir / "log.txt").read_text()
    assert "fine-tuning from" in log and "loaded 10 tensors of 5 layer(s)" in log


def test_clone_opens_the_snapshot_as_a_new_project(window, finished_run, qtbot):
    handle = window.run_actions.open_run_dir(finished_run)
    qtbot.waitUntil(lambda: bool(handle.project), timeout=10_000)
    before = list(window.studio.windows)
    window.panel("runs").a_clone_open.trigger()
    (clone,) = [w for w in window.studio.windows if w not in before]
    assert clone.document.path is None and clone.document.project.name == "tiny (clone)"
    assert clone.document.project.training["epochs"] == 2


def test_a_run_folder_dropped_on_the_window_opens_as_a_run(window, finished_run, qtbot):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(finished_run))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: window.runs.current() is not None
                    and window.runs.current().run_dir == finished_run.resolve(), timeout=5000)
    assert window.docks["curves"].isVisible()
