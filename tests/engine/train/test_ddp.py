"""Data-parallel training on the CPU (gloo): two processes started by ``layerstudio train
--nproc 2`` through torchrun make the same updates as one process with the same global batch
order, only rank 0 writes the run directory, and when rank 0 is killed torchrun restarts the
workers, which resume from the last checkpoint. Plus the pieces, in-process."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data import open_dataset
from engine.data.loader import make_batch_source
from engine.errors import ConfigError
from engine.runs.checkpoints import latest_checkpoint, list_checkpoints
from engine.runs.metrics import read_metrics
from engine.runs.status import read_status
from engine.train import ddp
from engine.train.checkpoint import load_checkpoint
from engine.train.trainer import Trainer

from .tiny_projects import make_project, project_dict

ROOT = Path(__file__).resolve().parents[3]
# no Dropout (its masks are per process), no BatchNorm (its statistics are per process), and a
# learning rate low enough that rounding differences are not amplified into other weights
TRAINING = {"epochs": 4, "batch_size": 16, "optimizer": {"type": "SGD", "lr": 0.02, "momentum": 0.9}}
DATA = {"size": 256, "val_fraction": 0.25}


def test_two_processes_equal_one_and_resume_after_torchrun_restarts_them(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project_dict(dropout=False, data=DATA, **TRAINING)))
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "train", str(path), "--nproc", "2",
                             "--max-restarts", "1", "--run-dir", str(run), "--quiet"], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        # kill rank 0 once the first epoch is checkpointed: torchrun restarts both processes
        deadline = time.monotonic() + 240
        while not list_checkpoints(run / "checkpoints"):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(read_status(run / "status.json")["pid"], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    status = read_status(run / "status.json")
    assert status["state"] == "finished" and status["resumed"] == 1
    # one process, same project, same global batches
    single = Trainer(make_project(dropout=False, data=DATA, **TRAINING))
    assert single.fit().state == "finished"
    ours = single.model.state_dict()
    theirs = load_checkpoint(latest_checkpoint(run / "checkpoints").path)["model"]
    for k in ours:
        assert torch.allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-5), (k, (ours[k] - theirs[k]).abs().max())
    # rank 0 alone wrote the run: every step once (rank 1 wrote nothing, the restart repeated nothing)
    steps = [r["step"] for r in read_metrics(run / "metrics.jsonl") if r["split"] == "train"]
    assert steps == list(range(1, single.position.step + 1))
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json", "log.txt", "metrics.jsonl",
                                                     "probes", "project.json", "status.json"]


def test_each_process_takes_its_share_of_the_same_global_batches():
    ds = open_dataset({"source": "builtin:shapes", "size": 120, "val_fraction": 0.0}, input_shape=(3, 32, 32))
    kw = dict(batch_size=12, device="cpu", seed=3, train=True, augment={"hflip": True, "crop_padding": 2})
    whole = [x for x, _ in make_batch_source(ds, "train", **kw).epoch(1)]
    shares = [[x for x, _ in ddp.ShardedBatchSource(ds, "train", rank=r, world=3, **kw).epoch(1)] for r in range(3)]
    assert len(whole) == len(shares[0]) == 10
    for b, x in enumerate(whole):
        assert torch.equal(torch.cat([s[b] for s in shares]), x)
    # resuming mid-epoch gives the same shares
    part = [x for x, _ in ddp.ShardedBatchSource(ds, "train", rank=1, world=3, **kw).epoch(1, start_batch=7)]
    assert all(torch.equal(a, b) for a, b in zip(part, shares[1][7:]))


def test_a_batch_that_does_not_split_between_the_processes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(ConfigError, match="does not split evenly between 3 processes") as e:
        Trainer(make_project(batch_size=16), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.batch_size"
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError) as e:
        Trainer(make_project(batch_size=16, gradient={"accumulation": 3}), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.gradient.accumulation"
    assert not (tmp_path / "r").exists()


def test_processes_agree_on_the_step_they_stop_at(tmp_path):
    """A stop asked of one process (or through the run's stop file) is only a request until the
    agreement; then every process stops (here a world of one, over gloo)."""
    import torch.distributed as dist

    from engine.train.callbacks.stop_agreement import StopAgreement
    from engine.train.launch import STOP_FILE, request_stop

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        control = ddp.AgreedControl()
        agreement = StopAgreement(control, stop_file=tmp_path / STOP_FILE, every=4)
        control.stop("interrupted")
        assert control.stop_reason is None and not control.pending
        agreement.on_batch_end(None, type("P", (), {"step": 3})())
        assert control.stop_reason is None
        agreement.on_batch_end(None, type("P", (), {"step": 4})())
        assert control.stop_reason == "interrupted" and control.pending
        control = ddp.AgreedControl()
        request_stop(tmp_path)
        assert StopAgreement(control, stop_file=tmp_path / STOP_FILE).agree()
        assert control.stop_reason == "stopped" and not (tmp_path / STOP_FILE).exists()
    finally:
        dist.destroy_process_group()


def test_usage_of_nproc(project_file, capsys, monkeypatch):
    from engine.cli import main as cli
    path = project_file()
    assert cli.main(["train", str(path), "--nproc", "2", "--overfit-batch"]) == 2
    assert cli.main(["train", str(path), "--max-restarts", "2"]) == 2
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli.main(["train", str(path)]) == 2  # a torchrun worker needs the shared --run-dir
    assert "same --run-dir" in capsys.readouterr().err
