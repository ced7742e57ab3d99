"""``classify`` through the real engine service: the run's own graph and preprocessing, the same
answer as the trainer's evaluation of that checkpoint, folders, and clear errors."""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from .conftest import tiny_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny LeNet-5 run (in this process) and a few of its validation images as PNG."""
    from engine.project.io import from_dict
    from engine.train.trainer import Trainer
    root = tmp_path_factory.mktemp("classify")
    run_dir = root / "run"
    t = Trainer(from_dict(tiny_project(epochs=2, probes={"enabled": False})), run_dir=run_dir)
    assert t.fit().state == "finished"
    ds = t.dataset
    folder = root / "folder"
    for i in range(12):
        img, label = ds.sample("val", i)
        (folder / ds.classes[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / ds.classes[label] / f"{i}.png")
    return run_dir, root, t


@pytest.fixture(scope="module")
def service(host):
    req, ch = host.fork("service")
    host.wait_pid(req)
    yield ch
    ch.close()


class Asker:
    def __init__(self, ch):
        self.ch, self.rid = ch, 0

    def __call__(self, kind, payload, timeout=60):
        """(reply, progress reports) of one request."""
        self.rid += 1
        self.ch.send({"id": self.rid, "kind": kind, "payload": payload})
        progress = []
        while True:
            msg = self.ch.recv(timeout)
            assert msg is not None and msg["id"] == self.rid
            if "progress" in msg:
                progress.append(msg["progress"])
                continue
            return msg, progress


@pytest.fixture(scope="module")
def ask(service):
    return Asker(service)


def trainer_probabilities(trainer, index):
    """The trainer's own evaluation pipeline (its loader, its model) on the best checkpoint."""
    import torch

    from engine.train.checkpoint import load_checkpoint
    from engine.train.trainer import Trainer
    t = Trainer(trainer.project, run_dir=None)
    t.setup()
    t.model.load_state_dict(load_checkpoint(trainer.run.path / "checkpoints" / "best.pt")["model"])
    t.model.eval()
    rows = []
    with torch.no_grad():
        for x, _ in t.val_source.epoch(0):
            rows.append(t.model(x).softmax(1))
    return torch.cat(rows)[index].numpy()


def test_top5_equals_the_trainers_evaluation_of_the_checkpoint(trained, ask):
    run_dir, root, trainer = trained
    reply, _ = ask("classify", {"run_dir": str(run_dir), "checkpoint": "best",
                                "image_path": str(root / "folder" / trainer.classes[trainer.dataset.sample("val", 3)[1]]
                                                  / "3.png")})
    assert reply["ok"], reply
    r = reply["result"]
    expected = trainer_probabilities(trainer, 3)
    order = np.argsort(-expected)[:5]
    assert [t["index"] for t in r["top"]] == order.tolist()
    assert np.allclose([t["probability"] for t in r["top"]], expected[order], atol=1e-5)
    assert [t["class"] for t in r["top"]] == [trainer.classes[i] for i in order]
    assert np.allclose(r["probabilities"], expected, atol=1e-5) and r["classes"] == trainer.classes
    assert (r["image"] == trainer.dataset.sample("val", 3)[0]).all()  # what the network saw
    assert r["saliency"].shape == (32, 32) and np.isclose(r["saliency"].max(), 1.0)
    # a dataset sample by split and index gives the same answer, with its label
    same, _ = ask("classify", {"run_dir": str(run_dir), "split": "val", "index": 3, "saliency": False})
    assert np.allclose(same["result"]["probabilities"], r["probabilities"], atol=1e-6)
    assert same["result"]["label"] == trainer.dataset.sample("val", 3)[1] and same["result"]["saliency"] is None


def test_a_folder_with_class_subfolders_gets_accuracy_and_a_confusion_matrix(trained, ask):
    run_dir, root, trainer = trained
    (root / "folder" / "notes.txt").write_text("not an image")
    (root / "folder" / "broken.png").write_bytes(b"\x89PNG garbage")
    reply, progress = ask("classify", {"run_dir": str(run_dir), "checkpoint": "last", "folder": str(root / "folder")})
    assert reply["ok"], reply
    r = reply["result"]
    labelled = [row for row in r["rows"] if row["label"] is not None]
    assert len(labelled) == 12 and r["confusion"].sum() == 12 and r["confusion"].dtype == np.int64
    assert np.isclose(r["accuracy"], np.mean([row["label"] == row["predicted"] for row in labelled]))
    assert np.isclose(np.trace(r["confusion"]) / 12, r["accuracy"])
    assert [p for p, _ in r["skipped"]] == [str(root / "folder" / "broken.png")]
    assert progress and progress[-1]["done"] == progress[-1]["total"]


def test_bad_inputs_get_one_clear_message(trained, ask, tmp_path):
    run_dir, root, _ = trained
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    cases = [
        ({"run_dir": str(run_dir), "image_path": str(tmp_path / "bad.png")}, "image", "cannot be decoded"),
        ({"run_dir": str(run_dir), "image_path": str(tmp_path / "missing.png")}, "image", "no such file"),
        ({"run_dir": str(tmp_path / "nope"), "image_path": "x.png"}, "run_dir", "no such run directory"),
        ({"run_dir": str(run_dir)}, "image", "which image"),
        ({"run_dir": str(run_dir), "split": "val", "index": 10_000}, "index", "out of range"),
        ({"run_dir": str(run_dir), "checkpoint": "checkpoints/none.pt", "index": 0}, "checkpoint", "no such checkpoint"),
    ]
    for payload, key, words in cases:
        reply, _ = ask("classify", payload)
        assert not reply["ok"] and reply["error"]["key"] == key and words in reply["error"]["message"], reply
        assert not reply["error"]["details"]  # a user mistake, not a crash: no traceback
    # a checkpoint that does not belong to the graph names the node
    other = tmp_path / "other"
    shutil.copytree(run_dir, other)
    project = json.loads((other / "project.json").read_text())
    project["graph"]["nodes"][1]["params"]["out_channels"] = 8
    (other / "project.json").write_text(json.dumps(project))
    reply, _ = ask("classify", {"run_dir": str(other), "index": 0})
    assert not reply["ok"] and reply["error"]["node"] == "conv1" and "do not match" in reply["error"]["message"]


def test_models_are_cached_per_run_and_checkpoint_until_the_file_changes(trained):
    from engine.service.run_models import clear_cache, run_model
    run_dir, _, _ = trained
    clear_cache()
    a = run_model(run_dir, "best")
    assert run_model(run_dir, "best") is a and run_model(run_dir, "last") is not a
    best = run_dir / "checkpoints" / "best.pt"
    st = best.stat()
    os.utime(best, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # best.pt rewritten by a live run
    b = run_model(run_dir, "best")
    assert b is not a and b.classes == a.classes and b.mean == a.mean
