"""Activation maximization finds inputs that excite the target far more than random ones."""
import numpy as np
import pytest
import torch
from torch import nn

from engine.errors import Cancelled, ExplainError
from engine.explain import maximize_activation

from .nets import lenet

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def random_inputs(n=64):
    torch.manual_seed(7)
    return (torch.rand(n, 3, 32, 32) - 0.5) / 0.25


def test_channel_far_above_random_inputs():
    torch.manual_seed(0)
    net = lenet().eval()
    with torch.no_grad():
        feats = net[:4](random_inputs())[:, 5].mean(dim=(1, 2))
    s = maximize_activation(net, (3, 32, 32), layer="3", channel=5, steps=40, mean=MEAN, std=STD)
    assert s.target == "3 channel 5"
    assert s.activation > float(feats.max()) + 10 * float(feats.std())
    assert s.history[-1] > s.history[0]
    with torch.no_grad():  # the reported activation is the image's own
        again = net[:4](torch.from_numpy(s.image)[None])[0, 5].mean()
    assert float(again) == pytest.approx(s.activation, rel=1e-5)
    pixels = s.image * 0.25 + 0.5
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6


def test_class_far_above_random_inputs():
    torch.manual_seed(0)
    net = lenet().eval()
    with torch.no_grad():
        scores = net(random_inputs())[:, 2]
    s = maximize_activation(net, (3, 32, 32), class_index=2, steps=40, mean=MEAN, std=STD)
    assert s.activation > float(scores.max()) + 10 * float(scores.std())


def test_a_colour_filter_synthesizes_its_colour():
    """A 1×1 convolution that adds red and subtracts blue is maximized by a red image."""
    conv = nn.Conv2d(3, 1, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0, -1.0]).reshape(1, 3, 1, 1))
        conv.bias.zero_()
    net = nn.Sequential(conv, nn.Flatten(), nn.Linear(64, 2))
    s = maximize_activation(net, (3, 8, 8), layer="0", channel=0, steps=30, mean=MEAN, std=STD)
    pixels = s.image * 0.25 + 0.5
    assert pixels[0].mean() > 0.9 and pixels[2].mean() < 0.1


def test_bad_targets_and_cancel():
    net = lenet()
    with pytest.raises(ExplainError, match="either a class or a layer channel"):
        maximize_activation(net, (3, 32, 32))
    with pytest.raises(ExplainError, match="no channel 16") as e:
        maximize_activation(net, (3, 32, 32), layer="3", channel=16, steps=2)
    assert e.value.node == "3"
    with pytest.raises(ExplainError, match="class 6 does not exist"):
        maximize_activation(net, (3, 32, 32), class_index=6, steps=2)
    seen = []
    with pytest.raises(Cancelled):
        maximize_activation(net, (3, 32, 32), class_index=1, steps=50, progress=seen.append,
                            cancel=lambda: len(seen) >= 3)
    assert len(seen) == 3
    a = maximize_activation(net, (3, 32, 32), class_index=1, steps=5)
    b = maximize_activation(net, (3, 32, 32), class_index=1, steps=5)
    np.testing.assert_array_equal(a.image, b.image)
