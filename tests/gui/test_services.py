"""The Qt clients of the engine processes: EngineService and TrainingRun, with real child
processes (one engine shared by the module), waiting on signals only."""
from __future__ import annotations

import copy
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from engine.runs.status import read_status

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())
START_MS = 180_000  # ms: the first start imports torch in the fork server, on a busy machine


def tiny_project(**training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["name"] = "gui run"
    doc["dataset"] = {"source": "builtin:shapes", "size": 192, "val_fraction": 0.25, "seed": 0}
    doc["training"] = {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
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
    from PySide6.QtCore import QEventLoop, QTimer

    from studio.services import EngineService
    svc = EngineService()
    loop = QEventLoop()
    svc.ready.connect(loop.quit)
    svc.died.connect(loop.quit)
    QTimer.singleShot(START_MS, loop.quit)
    t0 = time.monotonic()
    svc.start()
    assert time.monotonic() - t0 < 0.5  # the window never waits for the engine
    loop.exec()  # until ready (or died / timed out): waits on the signal, never sleeps
    assert svc.is_ready
    server = svc.host.server
    yield svc
    pids = [server.proc.pid, *server.pids.values()]
    svc.shutdown()
    assert not [p for p in pids if alive(p)], "engine processes left running"
    svc.deleteLater()


GUI_SIDE = r"""
import json, sys
from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from studio.services import EngineService, TrainingRun
app = QCoreApplication([])
svc = EngineService()
loop = QEventLoop()
svc.devices_changed.connect(loop.quit)
QTimer.singleShot(int(sys.argv[1]), loop.quit)
svc.start()
loop.exec()
ready = svc.is_ready
svc.shutdown()
print(json.dumps({"ready": ready, "torch": "torch" in sys.modules, "devices": svc.devices}))
"""


def test_the_gui_process_never_imports_torch(engine, no_leaks):
    """In a process of its own (this test process has torch from the engine tests): the app
    side of the engine starts it, gets the devices and shuts it down without importing torch."""
    import subprocess
    out = subprocess.run([sys.executable, "-c", GUI_SIDE, str(START_MS)], capture_output=True, text=True,
                         timeout=START_MS / 1000 + 60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"ready": True, "torch": False, "devices": result["devices"]}, out.stderr[-2000:]
    assert result["devices"][0]["id"] == "cpu" and engine.devices[0]["id"] == "cpu"


def test_requests_reply_or_fail_by_id(engine, qtbot, no_leaks):
    with qtbot.waitSignal(engine.reply, timeout=60_000) as r:
        rid = engine.request("verify", {"project": tiny_project()})
    assert r.args[0] == rid and r.args[1]["output_shape"] == [6]
    with qtbot.waitSignal(engine.failed, timeout=60_000) as f:
        rid = engine.request("no such thing", {})
    assert f.args[0] == rid and "unknown request" in f.args[1]["message"]
    with qtbot.waitSignal(engine.devices_changed, timeout=60_000) as d:
        engine.refresh_devices()
    assert d.args[0][0]["kind"] == "cpu"


def test_a_killed_service_is_reported_and_restarts(engine, qtbot, no_leaks):
    pid = engine.pid
    with qtbot.waitSignal(engine.died, timeout=5_000) as died:
        os.kill(pid, signal.SIGKILL)
    assert "SIGKILL" in died.args[0]
    with qtbot.waitSignal(engine.ready, timeout=60_000):
        engine.start()
    assert engine.pid != pid


def new_run(engine, tmp_path, **kw):
    from studio.services import TrainingRun
    kw.setdefault("project", tiny_project())
    return TrainingRun(engine, run_dir=str(tmp_path / "r"), **kw)


def test_a_run_streams_its_events_as_signals(engine, qtbot, tmp_path, no_leaks):
    run = new_run(engine, tmp_path)
    seen = {name: [] for name in ("state_changed", "started", "metrics", "epoch_end", "validation",
                                  "checkpoint_saved", "log", "error")}
    for name, items in seen.items():
        getattr(run, name).connect(items.append)
    with qtbot.waitSignal(run.finished, timeout=120_000) as done:
        run.start()
    assert done.args[0].state == "finished" and run.state == "finished"
    assert seen["started"][0].run_dir == str(tmp_path / "r") and seen["metrics"] and not seen["error"]
    assert [e.epoch for e in seen["epoch_end"]] == [1, 2] and seen["validation"][0].confusion.shape == (6, 6)
    assert seen["checkpoint_saved"] and seen["state_changed"][:2] == ["starting", "running"]
    assert read_status(tmp_path / "r" / "status.json")["state"] == "finished"
    run.deleteLater()


def test_a_killed_worker_is_a_classified_error_and_the_app_carries_on(engine, qtbot, tmp_path, no_leaks):
    run = new_run(engine, tmp_path, project=tiny_project(epochs=500))
    with qtbot.waitSignal(run.metrics, timeout=60_000):
        run.start()
    errors = []
    run.error.connect(errors.append)
    with qtbot.waitSignal(run.finished, timeout=5_000) as done:
        os.kill(run.pid, signal.SIGKILL)
    assert done.args[0].state == "failed"
    (failure,) = errors
    assert failure["kind"] == "signal" and "SIGKILL" in failure["message"] and "memory" in failure["advice"]
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "failed" and status["error"]["kind"] == "signal"
    with qtbot.waitSignal(engine.reply, timeout=60_000):  # the engine is still there
        engine.request("ping", {})
    run.deleteLater()


def test_pause_resume_and_a_graceful_stop(engine, qtbot, tmp_path, no_leaks):
    run = new_run(engine, tmp_path, project=tiny_project(epochs=500))
    with qtbot.waitSignal(run.metrics, timeout=60_000):
        run.start()
    with qtbot.waitSignal(run.state_changed, timeout=10_000, check_params_cb=lambda s: s == "paused"):
        run.pause()
    with qtbot.waitSignal(run.state_changed, timeout=10_000, check_params_cb=lambda s: s == "running"):
        run.resume()
    with qtbot.waitSignal(run.finished, timeout=30_000) as done:
        run.stop()
    assert done.args[0].state == "stopped" and done.args[0].checkpoint
    assert read_status(tmp_path / "r" / "status.json")["state"] == "stopped"
    run.deleteLater()


def test_a_worker_that_does_not_stop_is_killed_after_the_grace_period(engine, qtbot, tmp_path, no_leaks):
    run = new_run(engine, tmp_path, project=tiny_project(epochs=500), grace_s=0.5)
    with qtbot.waitSignal(run.metrics, timeout=60_000):
        run.start()
    os.kill(run.pid, signal.SIGSTOP)  # frozen: it cannot act on the stop message
    errors = []
    run.error.connect(errors.append)
    with qtbot.waitSignal(run.finished, timeout=10_000) as done:
        run.stop()
    assert done.args[0].state == "interrupted" and errors[0]["kind"] == "killed"
    assert read_status(tmp_path / "r" / "status.json")["state"] == "interrupted"
    run.deleteLater()


def test_a_bad_project_fails_with_the_key_and_no_run_directory(engine, qtbot, tmp_path, no_leaks):
    run = new_run(engine, tmp_path, project=tiny_project(batch_size=0))
    errors = []
    run.error.connect(errors.append)
    with qtbot.waitSignal(run.finished, timeout=60_000) as done:
        run.start()
    assert done.args[0].state == "failed" and errors[0]["key"] == "training.batch_size"
    assert not (tmp_path / "r").exists()
    run.deleteLater()


def test_shutdown_during_a_run_checkpoints_it_and_leaves_no_process(qtbot, tmp_path, no_leaks):
    """The app quits while a run trains: the worker checkpoints, says interrupted, and every
    engine process is gone when shutdown() returns."""
    from studio.services import EngineService
    svc = EngineService()
    with qtbot.waitSignal(svc.ready, timeout=START_MS):
        svc.start()
    run = new_run(svc, tmp_path, project=tiny_project(epochs=500))
    with qtbot.waitSignal(run.metrics, timeout=60_000):
        run.start()
    server = svc.host.server
    pids = [server.proc.pid, *server.pids.values()]
    svc.shutdown(timeout=30)
    assert not [p for p in pids if alive(p)]
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "interrupted" and status["checkpoint"]
    run.deleteLater()
    svc.deleteLater()


def test_an_engine_that_cannot_start_is_reported_once(qtbot, no_leaks):
    from engine.service.host import ForkServer
    from studio.services import EngineService
    svc = EngineService(server=ForkServer(python="/bin/false"))  # a broken installation
    died = []
    svc.died.connect(died.append)
    with qtbot.waitSignal(svc.died, timeout=10_000):
        svc.start()
    # with its exit status when it got as far as starting, else that it is not running
    assert "could not start" in died[0] and ("exited with code 1" in died[0] or "not running" in died[0])
    with qtbot.assertNotEmitted(svc.died, wait=1_500):  # once, even when its socket closes later
        with qtbot.waitSignal(svc.failed, timeout=5_000) as f:
            svc.request("ping", {})
    assert "not running" in f.args[1]["message"] and len(died) == 1
    svc.shutdown()
    svc.deleteLater()
