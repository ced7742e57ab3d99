"""The app's own models: GraphModules from engine.build, layers addressed by node id."""
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import ExplainError
from engine.explain import attribute, grad_cam, load_weights, maximize_activation, run_probes
from engine.project import load

TEMPLATES = Path(__file__).resolve().parents[3] / "assets" / "templates"


@pytest.fixture(scope="module")
def lenet5():
    build = pytest.importorskip("engine.build")
    torch.manual_seed(0)
    return build.build_module(load(TEMPLATES / "lenet5.json").graph)


def test_probes_and_grad_cam_by_node_id(lenet5):
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 6
    r = run_probes(lenet5, x, y, layer="c3")
    g = grad_cam(lenet5, x, layer="c3")
    np.testing.assert_allclose(r.gradcam, g.display, rtol=1e-4, atol=1e-6)
    # the default layer is the last convolution, c3
    np.testing.assert_array_equal(run_probes(lenet5, x, y).gradcam, r.gradcam)
    with pytest.raises(ExplainError, match="'f6' must output a feature map") as e:
        run_probes(lenet5, x, y, layer="f6")
    assert e.value.node == "f6"


def test_output_node_and_activation_maximization_by_node_id(lenet5):
    """The output node's submodule is renamed ("output" → "output_"); its node id still works."""
    s = maximize_activation(lenet5, (3, 32, 32), layer="output", channel=2, steps=3)
    assert s.target == "output channel 2"
    a = attribute(lenet5, torch.randn(3, 32, 32), "saliency")
    assert a.raw.shape == (1, 32, 32)


def test_checkpoint_of_another_graph_names_the_node(lenet5, tmp_path):
    build = pytest.importorskip("engine.build")
    resnet = build.build_module(load(TEMPLATES / "resnet.json").graph)
    torch.save(resnet.state_dict(), tmp_path / "resnet.pt")
    with pytest.raises(ExplainError, match="and the graph do not match") as e:
        load_weights(lenet5, tmp_path / "resnet.pt")
    assert e.value.key == "checkpoint" and e.value.node in lenet5.layer_names
