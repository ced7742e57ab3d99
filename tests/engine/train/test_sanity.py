"""The sanity tools: overfit one batch (the loss curve, near zero or not) and gradcheck of the
built model in float64, as functions, engine-service requests and CLI flags."""
import json
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from engine.cli import main as cli
from engine.project.io import from_dict
from engine.service.server import answer
from engine.train import sanity

from .tiny_projects import project_dict

LEARNS = {"dropout": False, "batch_size": 16, "optimizer": {"type": "Adam", "lr": 0.003}}


def small_bn_net() -> dict:
    """Conv → BatchNorm → ReLU → Dropout → Linear on 3×8×8 inputs: every kind of layer gradcheck must handle."""
    doc = project_dict()
    doc["graph"] = {"nodes": [
        {"id": "input", "type": "Input", "params": {"shape": [3, 8, 8]}},
        {"id": "conv", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": 3}},
        {"id": "bn", "type": "BatchNorm2d"}, {"id": "relu", "type": "ReLU"},
        {"id": "drop", "type": "Dropout", "params": {"p": 0.5}}, {"id": "flat", "type": "Flatten"},
        {"id": "fc", "type": "Linear", "params": {"out_features": 6}}],
        "edges": [{"from": a, "to": b} for a, b in
                  (("input", "conv"), ("conv", "bn"), ("bn", "relu"), ("relu", "drop"), ("drop", "flat"),
                   ("flat", "fc"))]}
    return doc


def test_a_model_that_can_learn_drives_one_batch_near_zero(tmp_path):
    result = sanity.overfit_batch(from_dict(project_dict(**LEARNS)), 60, base_dir=tmp_path)
    assert result.learned and result.final_accuracy == 1.0 and result.final_loss < sanity.NEAR_ZERO
    assert result.losses.shape == (60,) and result.losses[-1] < result.losses[0] / 20
    assert "it can learn" in result.message and result.batch_size == 16
    assert not any(tmp_path.iterdir())  # no run directory


def test_a_learning_rate_too_small_does_not_and_says_what_to_try():
    result = sanity.overfit_batch(from_dict(project_dict(**{**LEARNS, "optimizer": {"type": "SGD", "lr": 1e-6}})), 5)
    assert not result.learned and "learning rate" in result.message
    assert result.losses.shape == (5,) and np.all(np.isfinite(result.losses))


def test_the_floor_of_label_smoothing():
    """The lowest loss is reached when the prediction is the smoothed target itself."""
    eps, k = 0.1, 6
    best = torch.tensor([math.log(1 - eps + eps / k)] + [math.log(eps / k)] * (k - 1), dtype=torch.float64)
    floor = float(F.cross_entropy(best[None], torch.tensor([0]), label_smoothing=eps))
    assert sanity.smoothing_floor(k, eps) == pytest.approx(floor, rel=1e-9)
    confident = torch.tensor([[10.0, 0, 0, 0, 0, 0]], dtype=torch.float64)
    assert float(F.cross_entropy(confident, torch.tensor([0]), label_smoothing=eps)) > floor
    assert sanity.smoothing_floor(k, 0.0) == 0.0


def test_gradcheck_passes_on_a_correct_model_with_batch_norm_and_dropout():
    result = sanity.gradient_check(from_dict(small_bn_net()))
    assert result.ok, result.details
    assert result.tensors == 1 + 6  # the input, conv/bn/fc weights and biases
    assert "check out" in result.message


def test_gradcheck_catches_a_wrong_backward(monkeypatch):
    class WrongReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x > 0) * 1.5  # 50 % too large

    monkeypatch.setattr(torch.nn.ReLU, "forward", lambda self, x: WrongReLU.apply(x))
    result = sanity.gradient_check(from_dict(small_bn_net()))
    assert not result.ok and "do not match finite differences for Input 'input'" in result.message and result.details


def test_service_requests():
    reply = answer({"id": 1, "kind": "overfit_batch", "payload": {"project": project_dict(**LEARNS), "steps": 3}})
    assert reply["ok"] and reply["result"]["losses"].shape == (3,) and isinstance(reply["result"]["learned"], bool)
    reply = answer({"id": 2, "kind": "gradcheck", "payload": {"project": small_bn_net()}})
    assert reply["ok"] and reply["result"]["ok"] is True
    reply = answer({"id": 3, "kind": "overfit_batch", "payload": {"project": project_dict(), "steps": "many"}})
    assert not reply["ok"] and reply["error"]["key"] == "steps"
    bad = project_dict(optimizer={"type": "SGD", "lr": -1})
    reply = answer({"id": 4, "kind": "overfit_batch", "payload": {"project": bad}})
    assert not reply["ok"] and reply["error"]["key"] == "training.optimizer.lr"


def test_cli_flags(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(project_dict(**LEARNS)))
    assert cli.main(["train", str(path), "--overfit-batch", "--steps", "40"]) == 0
    err = capsys.readouterr().err
    assert "overfit one batch of 16, 40 steps" in err and "step     40" in err and "it can learn" in err
    assert cli.main(["train", str(path), "--overfit-batch", "--steps", "1"]) == 3  # one step learns nothing
    bn = tmp_path / "bn.json"
    bn.write_text(json.dumps(small_bn_net()))
    assert cli.main(["train", str(bn), "--gradcheck"]) == 0
    assert "check out" in capsys.readouterr().err
    assert cli.main(["train", str(path), "--steps", "3"]) == 2  # --steps without --overfit-batch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bn.json", "p.json"]  # nothing written
