"""Import of functional forms (F.relu, torch.cat, x + y, x.view(x.size(0), -1)...) and of what
cannot be mapped: nothing imported, every unmapped op reported with its count."""
import operator

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.build import build_module
from engine.errors import ImportModelError
from engine.importer.fx_to_graph import UnmappableModelError
from engine.importer.load import import_model, state_dict_for_graph


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 1)
        self.seq = nn.LSTM(16, 6, batch_first=True)
        self.fc = nn.Linear(6 * 4, 5)

    def forward(self, x):
        a = F.relu(self.a(x))
        b = torch.relu(self.b(x))
        s = operator.add(a, b)
        t = torch.add(s, a)
        m = a * torch.sigmoid(b)
        y = torch.cat([t, m], dim=1)
        y = F.max_pool2d(y, 2)
        y = F.avg_pool2d(y, kernel_size=2, stride=2)
        y = F.adaptive_avg_pool2d(y, (2, 2))
        y = F.leaky_relu(y, 0.1)
        z = y.mul(y).add(y)
        z = torch.flatten(z, 2)
        z = z.permute(0, 2, 1).contiguous()
        z = z.transpose(1, 2).transpose(1, 2)
        z = F.gelu(z, approximate="tanh")
        z, _ = self.seq(z)
        z = z.reshape(z.size(0), -1)
        z = F.dropout(z, 0.2, training=self.training)
        z = self.fc(z)
        return F.log_softmax(z, dim=1)


def test_functional_forms_become_catalog_layers():
    torch.manual_seed(0)
    model = Functional().eval()
    imported = import_model(model, "Functional", input_shape=(3, 8, 8))
    g = imported.graph
    types = sorted(node.type for node in g.nodes.values())
    assert types == sorted([
        "Input", "Conv2d", "Conv2d", "ReLU", "ReLU", "Add", "Add", "Sigmoid", "Multiply", "Concat",
        "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "LeakyReLU", "Multiply", "Add", "Flatten", "Permute",
        "Transpose", "Transpose", "GELU", "LSTM", "Flatten", "Dropout", "Linear", "LogSoftmax"])
    assert g.nodes["input"].params["shape"] == (3, 8, 8)
    assert g.nodes["s"].type == "Add" and g.input_nodes("s") == ["relu", "relu_1"]  # ids from `s = ...`
    assert g.nodes["relu"].type == "ReLU"  # `a = F.relu(self.a(x))`: the name is the layer a's
    assert g.nodes["y"].params["dim"] == 1  # `y = torch.cat(...)` binds a new name
    assert g.nodes["adaptive_avg_pool2d"].params["output_size"] == (2, 2)
    assert g.nodes["avg_pool2d"].params["stride"] is None  # stride == kernel_size is torch's default
    assert g.nodes["dropout"].params["p"] == 0.2
    gm = build_module(g).eval()
    gm.load_state_dict(state_dict_for_graph(model.state_dict(), imported, gm.layer_names), strict=True)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(gm(x), model(x), atol=1e-5, rtol=0)


class Unmappable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.PReLU()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = self.act(self.conv(x))
        x = F.interpolate(x, scale_factor=2.0)
        x = F.interpolate(x, scale_factor=0.5)
        x = x * self.scale
        x = x + 1
        x = torch.flatten(x, 0)  # over the batch: not a Flatten layer
        return x


def test_unmapped_ops_are_all_reported_with_counts():
    with pytest.raises(UnmappableModelError) as info:
        import_model(Unmappable(), "Unmappable", input_shape=(3, 8, 8))
    unmapped = info.value.unmapped
    assert unmapped["nn.PReLU (module)"] == 1
    assert unmapped["F.interpolate (function)"] == 2
    assert unmapped["a tensor attribute used directly (get_attr)"] == 1
    assert unmapped["operator.add with a constant operand"] == 1
    assert unmapped["torch.flatten over the batch dimension (start_dim=0)"] == 1
    message = str(info.value)
    assert "nothing was imported" in message and "F.interpolate (function) × 2" in message


class Configured(nn.Module):
    """Layers configured beyond what the catalog describes are refused, never approximated."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding="same")
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.lstm = nn.LSTM(4, 4)  # batch_first=False reads [L, N, F]

    def forward(self, x):
        x, _ = self.pool(self.conv(x))
        return self.lstm(torch.flatten(x, 2))[0]


def test_layer_options_outside_the_catalog_are_reported():
    with pytest.raises(UnmappableModelError) as info:
        import_model(Configured(), "Configured", input_shape=(3, 8, 8))
    names = " | ".join(info.value.unmapped)
    assert "nn.MaxPool2d(return_indices=True)" in names
    assert "nn.Conv2d with padding: expected a whole number, got 'same'" in names
    assert "getitem" not in names  # `x, _ = pool(...)` follows from the pool, not reported twice
    assert "LSTM(batch_first=False)" in names


def test_shared_layers_with_weights_are_refused_but_shared_activations_are_not():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv(self.relu(self.conv(x))))

    with pytest.raises(UnmappableModelError) as info:
        import_model(Shared(), "Shared", input_shape=(3, 8, 8))
    assert info.value.unmapped == {"nn.Conv2d called 2 times (shared weights)": 2}


def test_wrong_input_shape_names_the_layer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(ImportModelError) as info:
        import_model(Net(), "Net", input_shape=(1, 28, 28))
    assert "does not run on an input of shape [1, 28, 28] (at conv)" in str(info.value)


def test_layernorm_over_several_dimensions_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm([4, 4])

        def forward(self, x):
            return self.ln(x)

    with pytest.raises(ImportModelError) as info:
        import_model(Net(), "Net", input_shape=(3, 4, 4))
    assert info.value.node == "ln"
