"""The templates and the sample project: valid format-1 projects with no diagnostics at all."""
import json
from pathlib import Path

import pytest

from engine.cli.check import check_file
from engine.graph.inference import Inference
from engine.project import dumps, load, loads
from engine.schema import resolve_dataset, resolve_training

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "assets" / "templates").glob("*.json"))
PROJECTS = TEMPLATES + [ROOT / "assets" / "sample.json"]
CLASSES = {"builtin:shapes": 6, "builtin:waves": 4}


def test_the_six_templates_exist():
    assert {p.stem for p in TEMPLATES} >= {"mlp", "lenet5", "vgg_small", "resnet", "inception", "signal_1d"}


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.stem)
def test_valid_without_any_diagnostic(path):
    report = check_file(path)
    assert report.errors == [] and report.warnings == [], report.errors + report.warnings
    assert report.exit_code == 0
    assert report.total_params > 0 and report.total_flops > 0


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.stem)
def test_sections_are_explicit_and_realistic(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "layerstudio-project" and raw["version"] == 1
    assert raw["name"] and isinstance(raw["dataset"], dict) and isinstance(raw["training"], dict)
    training, warnings = resolve_training(raw["training"])
    dataset, dwarnings = resolve_dataset(raw["dataset"])
    assert warnings == dwarnings == []
    assert {"epochs", "batch_size", "optimizer"} <= set(raw["training"])
    assert 1 <= training["epochs"] <= 50 and 16 <= training["batch_size"] <= 512
    assert 1e-4 <= training["optimizer.lr"] <= 0.2
    p = load(path)
    out = p.graph.output_nodes()
    assert len(out) == 1
    assert Inference(p.graph).info(out[0]).shape == (CLASSES[dataset["source"]],)
    if dataset["source"] == "builtin:shapes":
        assert p.input_shape() == (3, 32, 32)
    else:
        assert p.input_shape() == (1, 128)


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.stem)
def test_round_trip_is_stable(path):
    p = load(path)
    text = dumps(p)
    again = loads(text)
    assert again.to_dict() == p.to_dict()
    assert dumps(again) == text
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert p.to_dict()["dataset"] == raw["dataset"] and p.to_dict()["training"] == raw["training"]


def types(name):
    return [n.type for n in load(ROOT / "assets" / "templates" / f"{name}.json").graph.nodes.values()]


def test_each_template_shows_what_it_is_named_for():
    assert "BatchNorm2d" in types("vgg_small")
    assert {"Tanh", "AvgPool2d"} <= set(types("lenet5"))
    assert "Conv2d" not in types("mlp")
    sig = types("signal_1d")
    assert {"Conv1d", "LSTM"} <= set(sig) and ({"Permute", "Transpose"} & set(sig))


def test_resnet_has_identity_skips_joined_by_add():
    g = load(ROOT / "assets" / "templates" / "resnet.json").graph
    adds = [n for n, node in g.nodes.items() if node.type == "Add"]
    assert len(adds) >= 4
    identity = 0
    for a in adds:
        srcs = g.input_nodes(a)
        assert len(srcs) == 2
        # an identity skip: one input of the Add is the block's own input, the ReLU that also
        # feeds the block's first convolution
        for s in srcs:
            if g.nodes[s].type == "ReLU":
                assert any(g.nodes[d].type == "Conv2d" for d in g.successors(s))
                identity += 1
    assert identity >= 3


def test_inception_modules_have_four_branches_joined_by_concat():
    g = load(ROOT / "assets" / "templates" / "inception.json").graph
    concats = [n for n, node in g.nodes.items() if node.type == "Concat"]
    assert len(concats) >= 2
    for c in concats:
        assert len(g.input_nodes(c)) == 4
        assert g.nodes[c].params["dim"] == 1
