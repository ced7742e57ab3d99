"""Live probes and on-demand requests through the Qt clients, with real engine processes:
TrainingRun.event carries every probe event, configure_probes changes them while the run
trains, EngineService.progress/cancel drive a long request. Waits on signals only."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())
START_MS = 180_000  # the first start imports torch in the fork server, on a busy machine
PROBE_TYPES = ("probe_images", "filters", "feature_maps", "health", "saliency")


def project(**training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["name"] = "probes"
    doc["dataset"] = {"source": "builtin:shapes", "size": 192, "val_fraction": 0.25, "seed": 0}
    doc["training"] = {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9},
                       "probes": {"period_s": 0.1}, **training}
    return doc


@pytest.fixture(scope="module")
def engine(qapp):
    from PySide6.QtCore import QEventLoop, QTimer

    from studio.services import EngineService
    svc = EngineService()
    loop = QEventLoop()
    svc.ready.connect(loop.quit)
    svc.died.connect(loop.quit)
    QTimer.singleShot(START_MS, loop.quit)
    svc.start()
    loop.exec()  # until ready (or died / timed out)
    assert svc.is_ready
    yield svc
    svc.shutdown()
    svc.deleteLater()


def test_probe_events_stream_and_follow_the_apps_choices(engine, qtbot, tmp_path, no_leaks):
    from engine.runs import events as ev
    from engine.runs.probes import ProbeHistory
    from studio.services import TrainingRun
    run = TrainingRun(engine, project=project(epochs=400), run_dir=str(tmp_path / "r"))
    seen: list = []
    run.event.connect(seen.append)
    kinds = lambda: {e.type for e in seen}  # noqa: E731
    run.start()
    qtbot.waitUntil(lambda: set(PROBE_TYPES) <= kinds(), timeout=60_000)
    assert isinstance(seen[0], ev.Started) and kinds() >= {"metrics", "state"}
    first = next(i for i, e in enumerate(seen) if e.type in PROBE_TYPES)
    assert seen[first].type == "probe_images"
    run.configure_probes(feature_layer="conv2", feature_image=2, filter_layer="conv1")
    qtbot.waitUntil(lambda: any(e.type == "feature_maps" and e.layer == "conv2" for e in seen), timeout=30_000)
    fm = next(e for e in seen if e.type == "feature_maps" and e.layer == "conv2")
    assert fm.image_index == 2 and fm.maps.shape == (16, 10, 10) and fm.maps.dtype == np.float32
    n = len(seen)
    qtbot.waitUntil(lambda: any(e.type == "filters" for e in seen[n:]), timeout=30_000)
    assert {e.layer for e in seen[n:] if e.type == "filters"} == {"conv1"}
    logs = []
    run.log.connect(logs.append)
    run.configure_probes(feature_layer="no such layer")
    qtbot.waitUntil(lambda: any("no such layer" in m for m in logs), timeout=30_000)
    qtbot.waitUntil(lambda: "evaluation" in kinds(), timeout=60_000)
    evaluation = next(e for e in seen if e.type == "evaluation")
    assert evaluation.confusion.sum() == 48
    with qtbot.waitSignal(run.finished, timeout=30_000):
        run.stop()
    assert seen[-1].type == "finished"  # also through the generic signal, last
    history = ProbeHistory(tmp_path / "r")  # what a reopened run shows
    assert history.filter_steps and history.feature_steps and len(history.health()) and history.evaluation_steps
    assert history.probe_images().images.shape == (8, 32, 32, 3)
    run.deleteLater()


def test_a_long_request_reports_progress_and_can_be_cancelled(engine, qtbot, tmp_path, no_leaks):
    from studio.services import TrainingRun
    run = TrainingRun(engine, project=project(epochs=1, probes={"enabled": False}), run_dir=str(tmp_path / "r"))
    with qtbot.waitSignal(run.finished, timeout=120_000):
        run.start()
    run.deleteLater()
    payload = {"run_dir": str(tmp_path / "r"), "split": "val", "index": 0, "method": "smoothgrad",
               "options": {"samples": 100_000, "batch_size": 1}}
    with qtbot.waitSignal(engine.reply, timeout=60_000) as estimate:
        rid = engine.request("attribute", {**payload, "mode": "estimate"})
    assert estimate.args[0] == rid and estimate.args[1]["rows"] == 100_000
    progress, failed = [], []
    engine.failed.connect(lambda i, e: failed.append((i, e)))
    with qtbot.waitSignal(engine.progress, timeout=60_000) as first:
        rid = engine.request("attribute", payload)
    assert first.args[0] == rid and 0 <= first.args[1]["done"] < first.args[1]["total"]
    engine.progress.connect(lambda i, p: progress.append(p))
    engine.cancel(rid)
    qtbot.waitUntil(lambda: bool(failed), timeout=30_000)
    (i, error), = failed
    assert i == rid and error["cancelled"] and error["message"] == "cancelled"
    with qtbot.waitSignal(engine.reply, timeout=60_000) as r:  # the service carries on
        engine.request("classify", {"run_dir": str(tmp_path / "r"), "split": "val", "index": 0})
    assert len(r.args[1]["top"]) == 5
