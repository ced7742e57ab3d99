"""On-demand explanations through the real engine service: attributions with their cost first,
progress and cancel, FGSM, activation maximization; export and import."""
import json
import time

import numpy as np
import pytest

from .conftest import tiny_project
from .test_requests_classify import Asker


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from engine.project.io import from_dict
    from engine.train.trainer import Trainer
    path = tmp_path_factory.mktemp("explain") / "run"
    t = Trainer(from_dict(tiny_project(epochs=3, probes={"enabled": False})), run_dir=path)
    assert t.fit().state == "finished"
    return str(path)


@pytest.fixture(scope="module")
def service(host):
    req, ch = host.fork("service")
    host.wait_pid(req)
    yield ch
    ch.close()


@pytest.fixture(scope="module")
def ask(service):
    return Asker(service)


def test_an_attribution_gives_its_cost_first_then_runs_with_progress(run_dir, ask):
    base = {"run_dir": run_dir, "split": "val", "index": 2, "method": "integrated_gradients",
            "options": {"steps": 64, "batch_size": 8}}
    estimate, _ = ask("attribute", {**base, "mode": "estimate"})
    assert estimate["ok"], estimate
    cost = estimate["result"]
    assert cost["passes"] == 8 and cost["rows"] == 64 and 0 < cost["seconds"] < 30
    reply, progress = ask("attribute", base)
    assert reply["ok"], reply
    r = reply["result"]
    assert r["map"].shape == (32, 32) and r["raw"].shape == (32, 32) and np.isclose(r["map"].max(), 1.0)
    assert r["image"].shape == (32, 32, 3) and r["label"] is not None and 0 <= r["target"] < 6
    assert progress and progress[-1] == {"done": 1000, "total": 1000}
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
    for method in ("saliency", "grad_cam", "smoothgrad", "occlusion"):
        reply, _ = ask("attribute", {"run_dir": run_dir, "index": 0, "method": method,
                                     "options": {"layer": "conv1"} if method == "grad_cam" else {}})
        assert reply["ok"] and reply["result"]["map"].shape == (32, 32), (method, reply)


def test_a_cancelled_attribution_stops_and_the_service_carries_on(run_dir, service, ask):
    ask.rid += 1
    rid = ask.rid
    service.send({"id": rid, "kind": "attribute", "payload": {
        "run_dir": run_dir, "index": 1, "method": "smoothgrad",
        "options": {"samples": 100_000, "batch_size": 1}}})
    first = service.recv(60)
    assert first["id"] == rid and "progress" in first
    t0 = time.monotonic()
    service.send({"op": "cancel", "id": rid})
    while "progress" in (msg := service.recv(30)):
        pass
    assert time.monotonic() - t0 < 5.0
    assert msg["id"] == rid and not msg["ok"] and msg["error"]["cancelled"] and msg["error"]["message"] == "cancelled"
    reply, _ = ask("attribute", {"run_dir": run_dir, "index": 1, "method": "saliency"})
    assert reply["ok"]


def test_bad_attribution_requests_are_clear(run_dir, ask):
    for payload, key in (({"method": "magic"}, "method"), ({"method": "saliency", "mode": "later"}, "mode"),
                         ({"method": "occlusion", "options": {"steps": 3}}, "steps"),
                         ({"method": "grad_cam", "options": {"layer": "fc1"}}, "layer"),
                         ({"method": "integrated_gradients", "options": {"steps": 10**6}}, "steps")):
        reply, _ = ask("attribute", {"run_dir": run_dir, "index": 0, **payload})
        assert not reply["ok"] and reply["error"]["key"] == key and not reply["error"]["details"], reply


def test_fgsm_raises_the_loss_within_epsilon(run_dir, ask):
    reply, _ = ask("fgsm", {"run_dir": run_dir, "image": {"split": "val", "index": 5}, "eps": 0.05})
    assert reply["ok"], reply
    r = reply["result"]
    assert r["adversarial_loss"] > r["original_loss"]
    assert r["original"].shape == r["adversarial"].shape == (32, 32, 3) and r["original"].dtype == np.uint8
    assert r["perturbation"].shape == (32, 32, 3) and np.abs(r["perturbation"]).max() <= 0.05 + 1e-5
    assert 0 <= r["adversarial_class"] < 6 and 0 < r["adversarial_confidence"] <= 1
    reply, _ = ask("fgsm", {"run_dir": run_dir, "index": 5, "eps": 2})
    assert not reply["ok"] and reply["error"]["key"] == "epsilon"


def test_activation_maximization_excites_its_target_far_above_noise(run_dir, ask):
    reply, progress = ask("activation_max", {"run_dir": run_dir, "class_index": 2, "steps": 64})
    assert reply["ok"], reply
    r = reply["result"]
    assert r["image"].shape == (32, 32, 3) and len(r["history"]) == 64
    assert r["activation"] > r["random_max"] + 10 * r["random_std"] and progress
    assert r["random_max"] >= r["random_activation"] and r["history"][-1] > r["history"][0]
    reply, _ = ask("activation_max", {"run_dir": run_dir, "layer": "conv2", "channel": 3, "steps": 32})
    r = reply["result"]
    assert reply["ok"] and r["activation"] > r["random_max"] + 10 * r["random_std"]
    reply, _ = ask("activation_max", {"run_dir": run_dir, "layer": "conv2", "channel": 99, "steps": 4})
    assert not reply["ok"] and reply["error"]["node"] == "conv2" and reply["error"]["key"] == "channel"
    reply, _ = ask("activation_max", {"run_dir": run_dir, "class_index": 1, "lr": "fast"})
    assert not reply["ok"] and reply["error"]["key"] == "lr"


def test_export_and_import(run_dir, ask, tmp_path):
    project = tiny_project()
    reply, _ = ask("export", {"project": project, "to": "py", "output": str(tmp_path / "net.py"),
                              "weights_run_dir": run_dir})
    assert reply["ok"], reply
    assert reply["result"]["trained"] and reply["result"]["max_difference"] < 1e-4
    assert (tmp_path / "net.py").is_file() and len(reply["result"]["files"]) == 2
    reply, _ = ask("export", {"project": project, "to": "zip", "output": str(tmp_path / "x")})
    assert not reply["ok"] and reply["error"]["key"] == "to"
    (tmp_path / "tiny.py").write_text(
        "import torch.nn as nn\n"
        "class Tiny(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 3)\n"
        "        self.fc = nn.Linear(4 * 6 * 6, 5)\n"
        "    def forward(self, x):\n"
        "        return self.fc(self.conv(x).relu().flatten(1))\n")
    reply, _ = ask("import_model", {"source": f"{tmp_path / 'tiny.py'}:Tiny", "input_shape": [3, 8, 8]})
    assert reply["ok"], reply
    r = reply["result"]
    assert r["params"] == 3 * 4 * 9 + 4 + 144 * 5 + 5 and r["project"]["format"] == "layerstudio-project"
    reply, _ = ask("import_model", {"source": "torchvision:not_a_model"})
    assert not reply["ok"] and reply["error"]["message"]
    reply, _ = ask("import_model", {"source": "torchvision:resnet18", "input_shape": [3, -1]})
    assert not reply["ok"] and reply["error"]["key"] == "input_shape"
