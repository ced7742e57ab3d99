"""Round trip: a project exported to Python and imported back is the same graph (types, params,
connections, frozen layers; ids as ``safe_names`` spells them; positions ignored)."""
from pathlib import Path

import pytest

from engine.export.python_code import python_source
from engine.export.text import class_name
from engine.graph.naming import safe_names
from engine.importer.load import import_source
from engine.project import load
from engine.project.io import from_dict

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"
TEMPLATES = sorted((ROOT / "assets" / "templates").glob("*.json"))


def project(name, nodes, edges):
    return from_dict({"format": "layerstudio-project", "version": 1, "name": name,
                      "graph": {"nodes": nodes, "edges": edges}})


def chain(*ids):
    return [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]


# Every layer type and graph op of the catalog, in two small networks.
MANY_OPS = project("Many ops", [
    {"id": "input", "type": "Input", "params": {"shape": [3, 8, 8]}},
    {"id": "conv", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": [3, 1], "padding": [1, 0],
                                                "bias": False, "padding_mode": "reflect"}},
    {"id": "bn", "type": "BatchNorm2d", "params": {"eps": 0.001, "momentum": 0.05}, "trainable": False},
    {"id": "leaky", "type": "LeakyReLU", "params": {"negative_slope": 0.2}},
    {"id": "gate_conv", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": 1}},
    {"id": "gate", "type": "Sigmoid"},
    {"id": "same", "type": "Identity"},
    {"id": "gated", "type": "Multiply"},
    {"id": "sum3", "type": "Add"},
    {"id": "up", "type": "Upsample", "params": {"scale_factor": 2.0, "mode": "bilinear", "align_corners": False}},
    {"id": "avg", "type": "AvgPool2d", "params": {"kernel_size": 2, "count_include_pad": False}},
    {"id": "max", "type": "MaxPool2d", "params": {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True}},
    {"id": "deconv", "type": "ConvTranspose2d", "params": {"out_channels": 6, "kernel_size": 2, "stride": 2}},
    {"id": "gn", "type": "GroupNorm", "params": {"num_groups": 3}},
    {"id": "gelu", "type": "GELU", "params": {"approximate": "tanh"}},
    {"id": "drop2d", "type": "Dropout2d", "params": {"p": 0.1}},
    {"id": "amax", "type": "AdaptiveMaxPool2d", "params": {"output_size": [4, 2]}},
    {"id": "relu6", "type": "ReLU6"},
    {"id": "silu", "type": "SiLU"},
    {"id": "cat", "type": "Concat", "params": {"dim": 1}},
    {"id": "flat2", "type": "Flatten", "params": {"start_dim": 2}},
    {"id": "perm", "type": "Permute", "params": {"dims": [0, 2, 1]}},
    {"id": "ln", "type": "LayerNorm", "params": {"eps": 0.0001}},
    {"id": "gru", "type": "GRU", "params": {"hidden_size": 5, "bidirectional": True}},
    {"id": "swap", "type": "Transpose", "params": {"dim0": 1, "dim1": 2}},
    {"id": "conv1d", "type": "Conv1d", "params": {"out_channels": 6, "kernel_size": 3, "dilation": 2}},
    {"id": "bn1d", "type": "BatchNorm1d"},
    {"id": "elu", "type": "ELU", "params": {"alpha": 0.5}},
    {"id": "mp1", "type": "MaxPool1d", "params": {"kernel_size": 2}},
    {"id": "ap1", "type": "AvgPool1d", "params": {"kernel_size": 1}},
    {"id": "gap1", "type": "AdaptiveAvgPool1d", "params": {"output_size": 2}},
    {"id": "flat", "type": "Flatten"},
    {"id": "fc1", "type": "Linear", "params": {"out_features": 7}},
    {"id": "hswish", "type": "Hardswish"},
    {"id": "hsig", "type": "Hardsigmoid"},
    {"id": "tanh", "type": "Tanh"},
    {"id": "drop", "type": "Dropout", "params": {"p": 0.3}},
    {"id": "fc2", "type": "Linear", "params": {"out_features": 3, "bias": False}},
    {"id": "logp", "type": "LogSoftmax", "params": {"dim": 1}},
], [
    *chain("input", "conv", "bn", "leaky", "gate_conv", "gate"),
    {"from": "leaky", "to": "same"},
    {"from": "gate", "to": "gated", "port": 0}, {"from": "same", "to": "gated", "port": 1},
    {"from": "gated", "to": "sum3", "port": 0}, {"from": "conv", "to": "sum3", "port": 1},
    {"from": "bn", "to": "sum3", "port": 2},
    *chain("sum3", "up", "avg", "max", "deconv", "gn", "gelu", "drop2d", "amax", "relu6"),
    {"from": "amax", "to": "silu"},
    {"from": "relu6", "to": "cat", "port": 0}, {"from": "silu", "to": "cat", "port": 1},
    *chain("cat", "flat2", "perm", "ln", "gru", "swap", "conv1d", "bn1d", "elu", "mp1", "ap1", "gap1", "flat",
           "fc1", "hswish", "hsig", "tanh", "drop", "fc2", "logp"),
])

TOKENS = project("Token classifier", [
    {"id": "tokens", "type": "Input", "params": {"shape": [12], "dtype": "int64"}},
    {"id": "embed", "type": "Embedding", "params": {"num_embeddings": 50, "embedding_dim": 8, "padding_idx": 0}},
    {"id": "lstm", "type": "LSTM", "params": {"hidden_size": 6, "num_layers": 2, "dropout": 0.1}},
    {"id": "flatten", "type": "Flatten"},
    {"id": "head", "type": "Linear", "params": {"out_features": 4}},
    {"id": "softmax", "type": "Softmax", "params": {"dim": 1}},
], chain("tokens", "embed", "lstm", "flatten", "head", "softmax"))

PROJECTS = {"sample": load(SAMPLE), **{p.stem: load(p) for p in TEMPLATES}, "many_ops": MANY_OPS,
            "tokens": TOKENS}


def expected_id(graph, node_id):
    return node_id if graph.nodes[node_id].type == "Input" else safe_names(graph.nodes)[node_id]


def summary(graph, rename=lambda g, n: n):
    nodes = {rename(graph, n): (node.type, node.params, node.trainable) for n, node in graph.nodes.items()}
    edges = {(rename(graph, e.src), rename(graph, e.dst), e.port) for e in graph.edges}
    return nodes, edges


@pytest.mark.parametrize("name", PROJECTS)
def test_export_then_import_gives_the_same_graph(name, tmp_path):
    original = PROJECTS[name]
    path = tmp_path / "exported_net.py"
    path.write_text(python_source(original), encoding="utf-8")
    shape = ",".join(map(str, original.input_shape()))
    back, _ = import_source(f"{path}:{class_name(original.name)}", input_shape=tuple(map(int, shape.split(","))))
    want_nodes, want_edges = summary(original.graph, expected_id)
    got_nodes, got_edges = summary(back.graph)
    assert got_nodes == want_nodes
    assert got_edges == want_edges
    assert all(node.pos is not None for node in back.graph.nodes.values())
