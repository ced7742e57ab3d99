"""The fork server, the engine service and training workers, as real processes."""
import os
import signal
import time

import pytest

from engine.runs import events as ev
from engine.runs.checkpoints import list_checkpoints
from engine.runs.metrics import read_metrics
from engine.runs.status import effective_state, read_status

from .conftest import tiny_project


@pytest.fixture(scope="module")
def service(host):
    req, ch = host.fork("service")
    yield host.wait_pid(req), ch
    ch.close()


def ask(ch, rid, kind, payload=None):
    ch.send({"id": rid, "kind": kind, "payload": payload or {}})
    reply = ch.recv(60)
    assert reply["id"] == rid
    return reply


def test_the_fork_server_preloads_torch_without_cuda(host):
    assert "torch" in host.ready_info["preloaded"] and "engine.train.trainer" in host.ready_info["preloaded"]


def test_the_service_answers_and_survives_bad_requests(service):
    _, ch = service
    devices = ask(ch, 1, "devices")["result"]["devices"]
    assert devices[0]["id"] == "cpu" and devices[0]["kind"] == "cpu" and devices[0]["memory"] > 0
    good = ask(ch, 2, "verify", {"project": tiny_project()})
    assert good["ok"] and good["result"]["output_shape"] == [6] and good["result"]["params"] == 61666
    broken = tiny_project()
    broken["graph"]["nodes"][1]["params"]["kernel_size"] = 50
    bad = ask(ch, 3, "verify", {"project": broken})
    assert not bad["ok"] and bad["error"]["node"] == "conv1"
    assert ask(ch, 4, "nope")["error"]["message"] == "unknown request 'nope'"
    crash = ask(ch, 5, "verify", {"project": None})
    assert not crash["ok"] and crash["error"]["message"]
    assert ask(ch, 6, "ping")["ok"]


def test_a_killed_service_is_noticed_within_a_second(host):
    req, ch = host.fork("service")
    pid = host.wait_pid(req)
    ch.send({"id": 1, "kind": "ping"})
    assert ch.recv(60)["ok"]
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert ch.recv(5) is None  # EOF: the peer is gone
    assert host.wait_exit(pid, 5) == -signal.SIGKILL
    assert time.monotonic() - t0 < 1.0


def test_a_worker_streams_a_run(worker, tmp_path):
    w = worker(project=tiny_project(), run_dir=str(tmp_path / "r"))
    first = w.until(lambda e: isinstance(e, ev.Metrics))
    latency = time.monotonic() - w.t0
    assert first is not None and latency <= 2.0, f"first metrics after {latency:.2f} s"
    done = w.finish()
    assert done.state == "finished" and done.run_dir == str(tmp_path / "r")
    types = [e.type for e in w.events]
    assert types[0] == "started" and types[-1] == "finished"
    assert {"epoch_end", "validation", "checkpoint", "state"} <= set(types)
    assert w.of(ev.Validation)[0].confusion.shape == (6, 6)
    assert w.exit_code() == 0
    assert read_status(tmp_path / "r" / "status.json")["state"] == "finished"


def test_pause_resume_stop_then_resume_the_run(worker, tmp_path):
    w = worker(project=tiny_project(epochs=200), run_dir=str(tmp_path / "r"))
    w.until(lambda e: isinstance(e, ev.Metrics))
    w.send("pause")
    assert w.until(lambda e: isinstance(e, ev.StateChanged)).state == "paused"
    assert read_status(tmp_path / "r" / "status.json")["paused"] is True
    with pytest.raises(TimeoutError):
        w.next(0.6)  # paused: nothing happens
    w.send("resume")
    assert w.until(lambda e: isinstance(e, ev.StateChanged)).state == "running"
    w.until(lambda e: isinstance(e, ev.Metrics))
    w.send("stop")
    done = w.finish()
    assert done.state == "stopped" and done.checkpoint and w.exit_code() == 0
    assert read_status(tmp_path / "r" / "status.json")["state"] == "stopped"
    again = worker(resume=str(tmp_path / "r"), epochs=done.epoch + 1)
    assert again.finish().state == "finished"
    steps = [r["step"] for r in read_metrics(tmp_path / "r" / "metrics.jsonl") if r["split"] == "train"]
    assert steps == list(range(1, steps[-1] + 1))


def test_a_worker_killed_mid_epoch_leaves_a_resumable_run(worker, tmp_path):
    w = worker(project=tiny_project(epochs=20), run_dir=str(tmp_path / "r"))
    saved = w.until(lambda e: isinstance(e, ev.CheckpointSaved))
    w.until(lambda e: isinstance(e, ev.Metrics) and e.epoch == 2)  # in the middle of epoch 2
    t0 = time.monotonic()
    os.kill(w.pid, signal.SIGKILL)
    assert w.until(lambda e: False, timeout=5) is None
    assert w.exit_code(5) == -signal.SIGKILL and time.monotonic() - t0 < 1.0
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "running" and effective_state(status) == "interrupted"
    assert [c.step for c in list_checkpoints(tmp_path / "r" / "checkpoints")] == [saved.step]
    again = worker(resume=str(tmp_path / "r"), epochs=3)
    assert again.finish().state == "finished"
    assert read_status(tmp_path / "r" / "status.json")["state"] == "finished"


def test_an_orphaned_worker_checkpoints_and_exits(worker, tmp_path):
    w = worker(project=tiny_project(epochs=200), run_dir=str(tmp_path / "r"))
    m = w.until(lambda e: isinstance(e, ev.Metrics))
    pid = w.pid
    w.channel.close()  # the app died
    assert w.exit_code(30) == 0
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "interrupted" and status["checkpoint"]
    (ck,) = list_checkpoints(tmp_path / "r" / "checkpoints")
    assert ck.step == status["step"] >= int(m.step[-1])
    assert "interrupted" in (tmp_path / "r" / "log.txt").read_text()
    assert pid


def test_a_worker_refuses_bad_settings_before_any_work(worker, tmp_path):
    w = worker(project=tiny_project(optimizer={"type": "SGD", "lr": -1}), run_dir=str(tmp_path / "r"))
    err = w.until(lambda e: isinstance(e, ev.Error)).failure
    assert err["kind"] == "invalid" and err["key"] == "training.optimizer.lr"
    assert w.finish().state == "failed" and w.exit_code() == 1
    assert not (tmp_path / "r").exists()
