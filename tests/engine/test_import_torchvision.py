"""Import of torchvision models: the graph built by the engine, loaded with the torchvision
model's own (random) weights, computes the same outputs; ``check`` reports its parameter count.

Inputs are as small as each architecture allows, to keep the suite fast.
"""
import json

import pytest
import torch
import torchvision

from engine.build import build_module
from engine.cli.main import main as cli
from engine.graph.inference import Inference
from engine.importer.load import import_model, state_dict_for_graph
from engine.importer.sources import TORCHVISION_KWARGS

#: model → smallest input side it accepts (alexnet's pooling needs 64)
MODELS = {"resnet18": 32, "resnet50": 32, "vgg11": 32, "alexnet": 64, "squeezenet1_0": 32,
          "mobilenet_v2": 32, "googlenet": 32}


def torchvision_model(name):
    torch.manual_seed(0)
    return torchvision.models.get_model(name, weights=None, **TORCHVISION_KWARGS.get(name, {})).eval()


@pytest.mark.parametrize("name", MODELS)
def test_imported_graph_computes_what_torchvision_computes(name):
    model = torchvision_model(name)
    side = MODELS[name]
    imported = import_model(model, name, input_shape=(3, side, side), input_id="input")
    params = sum(p.numel() for p in model.parameters())
    assert Inference(imported.graph).totals().params == params
    with torch.device("meta"):  # no initialization of weights that are replaced anyway
        gm = build_module(imported.graph).eval()
    state = state_dict_for_graph(model.state_dict(), imported, gm.layer_names)
    # strict: every weight and buffer has its place, none is left over
    gm.load_state_dict(state, strict=True, assign=True)
    assert len(state) == len(model.state_dict())
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(gm(x), model(x), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", MODELS)
def test_cli_import_then_check_reports_the_parameter_count(name, tmp_path, capsys):
    out = tmp_path / f"{name}.json"
    assert cli(["import", f"torchvision:{name}", "-o", str(out)]) == 0
    assert f"{name}.json" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["graph"]["nodes"][0] == {"id": "input", "type": "Input", "params": {"shape": [3, 224, 224]},
                                        "pos": doc["graph"]["nodes"][0]["pos"]}
    assert all("pos" in n for n in doc["graph"]["nodes"])  # laid out by engine.layout
    code = cli(["check", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    with torch.device("meta"):
        expected = sum(p.numel() for p in torchvision.models.get_model(
            name, **TORCHVISION_KWARGS.get(name, {})).parameters())
    assert report["total_params"] == expected
    assert code == 0 and report["valid"], report["errors"]


def test_resnet_ids_follow_module_paths():
    with torch.device("meta"):
        model = torchvision.models.resnet18()
    g = import_model(model, "resnet18", input_shape=(3, 64, 64), input_id="input").graph
    assert {"conv1", "bn1", "layer1_0_conv1", "layer4_1_bn2", "fc", "add", "add_7", "flatten"} <= set(g.nodes)
    assert g.nodes["layer2_0_downsample_0"].type == "Conv2d"
    assert g.input_nodes("add") == ["layer1_0_bn2", "maxpool"]  # out += identity: ports in call order
    assert g.nodes["maxpool"].params["stride"] == (2, 2) and g.nodes["layer1_0_relu"].params["inplace"]
