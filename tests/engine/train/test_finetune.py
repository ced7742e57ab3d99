"""Fine-tuning: a run starts from another run's checkpoint, matching layers by node id, with a
report of what was loaded, reshaped or skipped; frozen layers keep the loaded weights; a run
that shares nothing is refused."""
import json
import shutil

import pytest
import torch

from engine.cli import main as cli
from engine.errors import ConfigError
from engine.project.io import from_dict
from engine.runs import events as ev
from engine.train.callbacks import EventStream
from engine.train.checkpoint import load_checkpoint
from engine.train.trainer import Trainer

from .tiny_projects import project_dict


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A finished one-epoch run to start from (and its best checkpoint's tensors)."""
    run = tmp_path_factory.mktemp("source") / "run"
    done = Trainer(from_dict(project_dict(epochs=1)), run_dir=run).fit()
    assert done.state == "finished"
    return run, load_checkpoint(run / "checkpoints" / "best.pt")["model"]


def edited(**training):
    """The tiny LeNet with fc2 narrowed (84 → 64 outputs) and a new Linear(64 → 84) 'extra' before fc3."""
    doc = project_dict(epochs=1, **training)
    nodes = {n["id"]: n for n in doc["graph"]["nodes"]}
    nodes["fc2"]["params"]["out_features"] = 64
    doc["graph"]["nodes"].append({"id": "extra", "type": "Linear", "params": {"out_features": 84}})
    doc["graph"]["edges"] = [e for e in doc["graph"]["edges"] if e["to"] != "fc3"] + [
        {"from": "relu4", "to": "extra"}, {"from": "extra", "to": "fc3"}]
    return doc


def test_matching_tensors_are_loaded_and_the_rest_reported(source, tmp_path):
    run, tensors = source
    doc = edited(init_from={"run": str(run), "checkpoint": "best"})
    for node in doc["graph"]["nodes"]:
        if node["id"] in ("conv1", "conv2"):
            node["trainable"] = False
    logs = []
    t = Trainer(from_dict(doc), run_dir=tmp_path / "tuned",
                callbacks=[EventStream(lambda e: logs.append(e.message) if isinstance(e, ev.Log) else None)])
    t.setup()
    start = {k: v.clone() for k, v in t.model.state_dict().items()}
    report = t.init_report
    assert report.loaded == ["conv1", "conv2", "fc1", "fc3"]
    assert {(r["node"], r["tensor"]) for r in report.reshaped} == {("fc2", "weight"), ("fc2", "bias")}
    assert report.skipped == [{"node": "extra", "reason": "not in the run"}] and report.unused == []
    for k in ("conv1.weight", "conv1.bias", "conv2.weight", "fc1.weight", "fc1.bias", "fc3.weight", "fc3.bias"):
        assert torch.equal(start[k], tensors[k]), k
    assert start["fc2.weight"].shape == (64, 120)
    assert t.fit().state == "finished"
    # frozen layers still hold the loaded weights; the others trained
    after = t.model.state_dict()
    assert torch.equal(after["conv1.weight"], tensors["conv1.weight"])
    assert torch.equal(after["conv2.bias"], tensors["conv2.bias"])
    assert not torch.equal(after["fc1.weight"], tensors["fc1.weight"])
    assert any(m.startswith("fine-tuning from") for m in logs)
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["init_from"]["loaded"] == report.loaded and config["training"]["init_from"]["run"] == str(run)


def test_a_run_sharing_no_layer_is_refused(source, tmp_path):
    run, _ = source
    doc = project_dict(epochs=1, init_from={"run": str(run)})
    renames = {n["id"]: f"new_{n['id']}" for n in doc["graph"]["nodes"]}
    for n in doc["graph"]["nodes"]:
        n["id"] = renames[n["id"]]
    for e in doc["graph"]["edges"]:
        e["from"], e["to"] = renames[e["from"]], renames[e["to"]]
    with pytest.raises(ConfigError, match="nothing to load") as e:
        Trainer(from_dict(doc), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.init_from.run" and not (tmp_path / "r").exists()
    with pytest.raises(ConfigError, match="no such run directory") as e:
        Trainer(from_dict(project_dict(init_from={"run": str(tmp_path / "nope")})), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.init_from.run"


def test_cli_init_from_then_resume_without_the_source(source, tmp_path, capsys):
    run, tensors = source
    copy = tmp_path / "source-copy"
    shutil.copytree(run, copy)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project_dict(epochs=1)))
    assert cli.main(["train", str(path), "--init-from", str(copy), "--run-dir", str(tmp_path / "t"), "--quiet"]) == 0
    assert "fine-tuning from" in (tmp_path / "t" / "log.txt").read_text()
    shutil.rmtree(copy)  # a resumed run has its own weights: the source is not needed any more
    assert cli.main(["train", "--resume", str(tmp_path / "t"), "--epochs", "2", "--quiet"]) == 0
    assert cli.main(["train", str(path), "--init-from", str(copy), "--run-dir", str(tmp_path / "u")]) == 1
    assert "training.init_from.run" in capsys.readouterr().err
