"""``layerstudio train``: exit codes, the default run directory, resume, Ctrl-C."""
import json
import os
import re
import signal

import pytest

from engine.cli import main as cli
from engine.cli import train as train_cmd
from engine.runs.checkpoints import list_checkpoints
from engine.runs.metrics import read_metrics
from engine.runs.status import read_status


def run(*argv):
    return cli.main(["train", *map(str, argv)])


def test_train_then_resume_with_more_epochs(project_file, capsys):
    path = project_file(epochs=1)
    assert run(path, "--epochs", 2, "--batch-size", 48) == 0
    err = capsys.readouterr().err
    runs = list((path.parent / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"tiny-lenet-\d{8}-\d{6}", runs[0].name)
    assert "epoch 2/2" in err and "val loss" in err and f"finished 2 epochs" in err
    project = json.loads((runs[0] / "project.json").read_text())
    assert project["training"]["epochs"] == 2 and project["training"]["batch_size"] == 48
    assert run("--resume", runs[0], "--epochs", 3) == 0
    assert "resuming at epoch 3" in capsys.readouterr().err
    status = read_status(runs[0] / "status.json")
    assert status["state"] == "finished" and status["epoch"] == 3


def test_usage_errors_exit_2(project_file, tmp_path, capsys):
    path = project_file()
    assert run() == 2
    assert run(path, "--resume", tmp_path) == 2
    assert run("--resume", tmp_path / "nope") == 2
    assert "no such run directory" in capsys.readouterr().err
    assert run(tmp_path / "missing.json") == 2
    assert run(path, "--epochs", 0) == 2
    (tmp_path / "empty.json").write_text("")
    assert run(tmp_path / "empty.json") == 2
    assert not (tmp_path / "runs").exists()


def test_invalid_settings_exit_1_naming_the_key(project_file, capsys):
    path = project_file(optimizer={"lr": -0.1})
    assert run(path) == 1
    assert "training.optimizer.lr" in capsys.readouterr().err
    assert run(project_file("b.json", batch_size=0)) == 1
    assert run(project_file("c.json", optimizer={"type": "Nadam"})) == 1
    assert "training.optimizer.type" in capsys.readouterr().err
    assert not (path.parent / "runs").exists()


def test_a_failed_run_exits_3(project_file, tmp_path, capsys):
    path = project_file(optimizer={"lr": 100.0})
    assert run(path, "--run-dir", tmp_path / "r", "--quiet") == 3
    err = capsys.readouterr().err
    assert "the run failed: the loss became NaN or infinite at step" in err and "optimizer.lr" in err
    assert read_status(tmp_path / "r" / "status.json")["state"] == "failed"


def test_ctrl_c_checkpoints_and_exits_130_then_resumes(project_file, tmp_path, capsys):
    """A real SIGINT to this process mid-epoch: graceful stop with a checkpoint."""
    path = project_file(epochs=2)
    sent = []

    def interrupt(event):
        if event.type == "metrics" and not sent:
            sent.append(int(event.step[-1]))
            os.kill(os.getpid(), signal.SIGINT)

    args = cli.build_parser("train").parse_args(["train", str(path), "--run-dir", str(tmp_path / "r")])
    assert train_cmd.train(args, sinks=[interrupt]) == 130
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    err = capsys.readouterr().err
    assert "checkpoint saved" in err and "--resume" in err
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "interrupted"
    (ck,) = list_checkpoints(tmp_path / "r" / "checkpoints")
    assert ck.step == status["step"] >= sent[0]
    assert run("--resume", tmp_path / "r") == 0
    steps = [r["step"] for r in read_metrics(tmp_path / "r" / "metrics.jsonl") if r["split"] == "train"]
    assert steps == list(range(1, steps[-1] + 1))


def test_resume_refuses_a_different_batch_size(tmp_path):
    assert run("--resume", tmp_path, "--batch-size", 8) == 2


def test_a_crash_while_setting_up_is_one_line_and_exit_3(project_file, capsys, monkeypatch):
    from engine.train import trainer as trainer_mod

    def broken(graph):
        raise RuntimeError("the build broke")
    monkeypatch.setattr(trainer_mod, "build_module", broken)
    assert run(project_file()) == 3
    err = capsys.readouterr().err
    assert "the run could not start: RuntimeError: the build broke" in err and "Traceback" not in err
