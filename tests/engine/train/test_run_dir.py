"""The run directory's torch-free parts: naming, status, metrics.jsonl, checkpoint files."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from engine.errors import RunDirError
from engine.runs import RunDir, RunReader, effective_state, new_run_path, open_run
from engine.runs.atomic import write_json_atomic
from engine.runs.checkpoints import checkpoint_name, latest_checkpoint, list_checkpoints, prune
from engine.runs.layout import default_runs_parent, slug, timestamp
from engine.runs.metrics import MetricsReader, MetricsWriter, columns, keep_rows, read_metrics
from engine.runs.reader import find_interrupted
from engine.runs.status import mark_ended, new_status, read_status, write_status


def test_new_run_path_is_name_and_time_and_never_reuses_a_folder(tmp_path):
    t = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
    p = new_run_path(tmp_path, "LeNet-5 on shapes", t)
    assert p == tmp_path / "LeNet-5-on-shapes-20260102-030405"
    p.mkdir()
    assert new_run_path(tmp_path, "LeNet-5 on shapes", t).name == "LeNet-5-on-shapes-20260102-030405-2"
    assert slug("../../etc") == "etc" and slug("") == "run" and slug("a/b\\c") == "a-b-c"
    assert timestamp(t) == "20260102-030405"


def test_default_parent_is_runs_beside_the_project(tmp_path):
    f = tmp_path / "proj" / "p.json"
    assert default_runs_parent(f) == (tmp_path / "proj" / "runs").resolve()


def test_create_refuses_an_existing_run_and_open_refuses_a_non_run(tmp_path):
    run = RunDir(tmp_path / "r").create()
    assert run.checkpoints.is_dir() and run.probes.is_dir()
    write_status(run.status, new_status(epochs=1))
    with pytest.raises(RunDirError, match="already holds a run"):
        RunDir(tmp_path / "r").create()
    with pytest.raises(RunDirError, match="no such run"):
        open_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirError, match="not a run directory"):
        open_run(tmp_path / "empty")


def test_stale_temp_files_are_removed(tmp_path):
    run = RunDir(tmp_path / "r").create()
    stale = [run.path / ".status.json.abc.tmp", run.checkpoints / ".epoch-0001-step-000000001.pt.x.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    keep = run.checkpoints / "epoch-0001-step-000000001.pt"
    keep.write_bytes(b"ok")
    assert sorted(run.clean_stale_temps()) == sorted(stale)
    assert keep.exists() and not any(p.exists() for p in stale)


def test_atomic_json_leaves_old_file_when_the_write_fails(tmp_path):
    target = tmp_path / "s.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(target, {"a": float("nan")})  # JSON has no NaN: refused before writing
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_status_running_with_a_dead_process_is_interrupted(tmp_path):
    path = tmp_path / "status.json"
    s = new_status(epochs=3)
    write_status(path, s)
    assert effective_state(read_status(path)) == "running"  # our own pid: alive
    dead = subprocess.Popen(["true"])
    dead.wait()
    s["pid"] = dead.pid
    write_status(path, s)
    assert effective_state(read_status(path)) == "interrupted"
    # another host: judged by the heartbeat
    s.update(host="elsewhere", pid=1)
    assert effective_state(s, now=s["heartbeat"] + 10) == "running"
    assert effective_state(s, now=s["heartbeat"] + 1000) == "interrupted"
    assert effective_state({"state": "finished"}) == "finished"
    assert effective_state(None) is None and read_status(tmp_path / "nope.json") is None


def test_mark_ended_changes_only_a_running_status(tmp_path):
    path = tmp_path / "status.json"
    write_status(path, new_status(epochs=1))
    assert mark_ended(path, "failed", {"kind": "signal", "message": "killed", "details": "x"})
    s = read_status(path)
    assert s["state"] == "failed" and s["error"] == {"kind": "signal", "message": "killed"}
    assert not mark_ended(path, "interrupted")
    assert read_status(path)["state"] == "failed"


def test_metrics_reader_follows_a_growing_file_and_skips_partial_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    w = MetricsWriter(path)
    reader = MetricsReader(path)
    assert reader.read_new() == []
    w.write([{"step": 1, "split": "train", "loss": 1.5}, {"step": 2, "split": "train", "loss": float("nan")}])
    rows = reader.read_new()
    assert [r["step"] for r in rows] == [1, 2] and rows[1]["loss"] is None  # NaN is written as null
    with open(path, "a") as f:
        f.write('{"step": 3, "spl')  # a writer caught mid-line
    assert reader.read_new() == []
    with open(path, "a") as f:
        f.write('it": "train"}\nnot json\n')
    assert [r["step"] for r in reader.read_new()] == [3]
    assert reader.bad_lines == 1
    w.close()
    assert columns(read_metrics(path))["step"] == [1, 2, 3]


def test_keep_rows_rewrites_and_the_reader_starts_over(tmp_path):
    path = tmp_path / "metrics.jsonl"
    w = MetricsWriter(path)
    w.write({"step": i, "split": "train"} for i in range(1, 6))
    w.close()
    reader = MetricsReader(path)
    assert len(reader.read_new()) == 5
    assert keep_rows(path, lambda r: r["step"] <= 2) == 3
    assert [r["step"] for r in reader.read_new()] == [1, 2]  # the file shrank: read from the start


def test_checkpoint_names_listing_and_retention(tmp_path):
    for e, s in ((1, 10), (2, 20), (3, 25), (3, 30)):
        (tmp_path / checkpoint_name(e, s)).write_bytes(b"x")
    (tmp_path / "best.pt").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert [(c.epoch, c.step) for c in list_checkpoints(tmp_path)] == [(1, 10), (2, 20), (3, 25), (3, 30)]
    assert latest_checkpoint(tmp_path).step == 30
    removed = prune(tmp_path, 2, protect=tmp_path / checkpoint_name(1, 10))
    assert sorted(p.name for p in removed) == [checkpoint_name(2, 20)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["best.pt", "notes.txt", checkpoint_name(1, 10), checkpoint_name(3, 25), checkpoint_name(3, 30)])


def test_reader_of_a_run_and_interrupted_runs_are_found(tmp_path):
    run = RunDir(tmp_path / "runs" / "a").create()
    s = new_status(epochs=2)
    s["pid"] = 2**22 + 12345  # no such process
    s["host"] = socket.gethostname()
    write_status(run.status, s)
    write_json_atomic(run.project, {"name": "a"})
    write_json_atomic(run.config, {"training": {}})
    MetricsWriter(run.metrics).write([{"step": 1, "split": "train"}])
    r = RunReader(run.path)
    assert r.state() == "interrupted" and not r.is_live()
    assert r.project() == {"name": "a"} and len(r.poll()) == 1 and r.poll() == []
    assert find_interrupted(tmp_path / "runs") == [run.path]
    os.remove(run.config)
    with pytest.raises(RunDirError, match="config.json is missing"):
        r.config()
