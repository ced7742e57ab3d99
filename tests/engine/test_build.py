"""Building graphs into torch modules: every template, hand-made graphs and random valid graphs
produce a module whose shapes, parameter counts and FLOPs equal what inference says."""
from __future__ import annotations

import copy
import glob
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
import torch.fx as fx  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from engine.build import build_module, example_inputs  # noqa: E402
from engine.catalog import CATALOG, TensorMeta  # noqa: E402
from engine.errors import BuildError, ShapeError  # noqa: E402
from engine.graph import Graph  # noqa: E402
from engine.graph.inference import Inference  # noqa: E402
from engine.graph.naming import MODULE_ATTRS, safe_names  # noqa: E402
from engine.project import load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECTS = sorted(glob.glob(os.path.join(ROOT, "assets", "templates", "*.json"))) + [
    os.path.join(ROOT, "assets", "sample.json")]
BATCH = 2
pytestmark = [pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN"),
              pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: a second intra-op thread only adds sync cost (10x on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Recorder(fx.Interpreter):
    """Runs the module and keeps every fx node's value."""

    def __init__(self, gm):
        super().__init__(gm)
        self.values = {}

    def run_node(self, n):
        out = super().run_node(n)
        self.values[n.name] = out
        return out


def check_against_inference(graph: Graph, *, backward: bool = True) -> fx.GraphModule:
    """Build, run, and compare every node with inference; returns the module."""
    inf = Inference(graph, batch_size=BATCH)
    infos = inf.all()
    totals = inf.totals()
    assert not inf.errors(), inf.errors()
    gm = build_module(graph)

    # state-dict keys derive from node ids through safe_names
    names = safe_names(graph.nodes)
    assert all(gm.layer_names[n] == names[n] for n in gm.layer_names)
    owners = {v: k for k, v in gm.layer_names.items()}
    for key in gm.state_dict():
        assert key.split(".")[0] in owners, key

    # parameters per node and in total
    for n, attr in gm.layer_names.items():
        count = sum(p.numel() for p in gm.get_submodule(attr).parameters())
        assert count == infos[n].params, n
    assert sum(p.numel() for p in gm.parameters()) == totals.params

    # every node's value has the inferred shape and dtype (plus the batch)
    xs = example_inputs(gm, BATCH)
    for (n, shape, dtype), x in zip(gm.inputs, xs):
        assert tuple(x.shape[1:]) == shape and str(x.dtype) == f"torch.{dtype}"
    gm.eval()  # BatchNorm on batch-of-2 [C] inputs is fine either way; eval keeps it deterministic
    rec = Recorder(gm)
    with torch.no_grad():
        out = rec.run(*xs)
    for n, fx_name in gm.node_names.items():
        value = rec.values[fx_name]
        assert tuple(value.shape) == (BATCH, *infos[n].shape), n
        assert str(value.dtype) == f"torch.{infos[n].out.dtype}", n
    assert tuple(out.shape) == (BATCH, *infos[gm.output_id].shape)

    # FLOPs as FlopCounterMode counts them (op-by-op recurrences, see engine/catalog/layers/recurrent.py)
    with torch.backends.mkldnn.flags(enabled=False), torch.no_grad(), FlopCounterMode(display=False) as fc:
        gm(*xs)
    assert fc.get_total_flops() == BATCH * totals.flops

    if backward:  # in-place layers never break autograd
        gm.train()
        xs = [x.requires_grad_() if x.is_floating_point() else x for x in example_inputs(gm, BATCH)]
        y = gm(*xs)
        if y.requires_grad:  # not when every layer is parameter-free after an int64 input
            y.sum().backward()
    return gm


def graph_of(nodes, edges) -> Graph:
    g = Graph()
    for n in nodes:
        g.add_node(n[0], n[1], n[2] if len(n) > 2 else None)
    for e in edges:
        g.connect(*e)
    return g


def chain(*nodes) -> Graph:
    return graph_of(nodes, [(a[0], b[0]) for a, b in zip(nodes, nodes[1:])])


# -- templates --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PROJECTS, ids=os.path.basename)
def test_every_template_builds_as_inferred(path):
    check_against_inference(load(path).graph)


def test_templates_are_present():
    assert len(PROJECTS) >= 2


# -- hand-made graphs ----------------------------------------------------------------------------
def test_two_branch_net_of_the_design():
    g = graph_of(
        [("input", "Input", {"shape": [3, 32, 32]}), ("conv1", "Conv2d", {"out_channels": 16, "padding": 1}),
         ("relu1", "ReLU"), ("b1", "Conv2d", {"out_channels": 8, "kernel_size": 1}),
         ("b2", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}), ("cat", "Concat", {"dim": 1}),
         ("pool", "AdaptiveAvgPool2d", {"output_size": 1}), ("flat", "Flatten"), ("fc", "Linear", {"out_features": 6})],
        [("input", "conv1"), ("conv1", "relu1"), ("relu1", "b1"), ("relu1", "b2"), ("b1", "cat", 0),
         ("b2", "cat", 1), ("cat", "pool"), ("pool", "flat"), ("flat", "fc")])
    gm = check_against_inference(g)
    assert set(gm.state_dict()) == {"conv1.weight", "conv1.bias", "b1.weight", "b1.bias", "b2.weight", "b2.bias",
                                    "fc.weight", "fc.bias"}
    assert "torch.cat([b1, b2], dim = 1)" in gm.code


def test_port_order_decides_concat_order():
    g = graph_of([("x", "Input", {"shape": [4]}), ("a", "Linear", {"out_features": 2}),
                  ("b", "Linear", {"out_features": 3}), ("cat", "Concat", {"dim": -1})],
                 [("x", "a"), ("x", "b"), ("b", "cat", 0), ("a", "cat", 1)])
    gm = check_against_inference(g)
    x = torch.randn(1, 4)
    assert torch.equal(gm(x), torch.cat([gm.b(x), gm.a(x)], dim=-1))


def test_conv1d_lstm_and_residual_add():
    g = graph_of(
        [("signal", "Input", {"shape": [2, 20]}), ("conv", "Conv1d", {"out_channels": 6, "kernel_size": 3, "padding": 1}),
         ("seq", "Transpose", {"dim0": 1, "dim1": 2}), ("lstm", "LSTM", {"hidden_size": 3, "bidirectional": True}),
         ("gru", "GRU", {"hidden_size": 6, "num_layers": 2}), ("skip", "Add"), ("mul", "Multiply"),
         ("perm", "Permute", {"dims": [0, 2, 1]}), ("pool", "AdaptiveMaxPool1d", {"output_size": 4}),
         ("flat", "Flatten"), ("out", "Linear", {"out_features": 3})],
        [("signal", "conv"), ("conv", "seq"), ("seq", "lstm"), ("lstm", "gru"), ("lstm", "skip", 0),
         ("gru", "skip", 1), ("skip", "mul", 0), ("lstm", "mul", 1), ("seq", "mul", 2), ("mul", "perm"),
         ("perm", "pool"), ("pool", "flat"), ("flat", "out")])
    gm = check_against_inference(g)
    assert isinstance(gm.lstm, torch.nn.LSTM) and gm.lstm.batch_first and gm.gru.batch_first
    assert gm.node_names["lstm"] == "lstm" and gm.layer_names["lstm"] == "lstm"


def test_token_ids_feed_an_embedding():
    g = chain(("tokens", "Input", {"shape": [12], "dtype": "int64"}),
              ("emb", "Embedding", {"num_embeddings": 30, "embedding_dim": 8, "padding_idx": 0}),
              ("gru", "GRU", {"hidden_size": 5}), ("norm", "LayerNorm"), ("flat", "Flatten"),
              ("fc", "Linear", {"out_features": 2}), ("soft", "LogSoftmax", {"dim": 1}))
    gm = check_against_inference(g)
    assert gm.inputs == [("tokens", (12,), "int64")]
    assert example_inputs(gm)[0].dtype == torch.int64
    assert gm(torch.randint(0, 30, (3, 12))).shape == (3, 2)


def test_image_zoo_of_layers():
    g = chain(("img", "Input", {"shape": [3, 12, 12]}),
              ("conv", "Conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 1,
                                  "padding_mode": "reflect"}),
              ("bn", "BatchNorm2d"), ("act", "Hardswish"), ("gn", "GroupNorm", {"num_groups": 4}),
              ("drop", "Dropout2d", {"p": 0.1}), ("up", "Upsample", {"scale_factor": 2.0, "mode": "bilinear"}),
              ("deconv", "ConvTranspose2d", {"out_channels": 4, "kernel_size": 2, "stride": 2}),
              ("mp", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
              ("ap", "AvgPool2d", {"kernel_size": 2}), ("gelu", "GELU"), ("amp", "AdaptiveMaxPool2d", {"output_size": 2}),
              ("flat", "Flatten"), ("bn1", "BatchNorm1d"), ("fc", "Linear", {"out_features": 5}),
              ("sm", "Softmax"))
    check_against_inference(g)


def test_single_input_graph_is_the_identity():
    g = chain(("x", "Input", {"shape": [3]}))
    gm = build_module(g)
    x = torch.randn(2, 3)
    assert torch.equal(gm(x), x) and gm.output_id == "x"


# -- in-place layers, frozen layers, names ----------------------------------------------------
def test_in_place_only_where_no_one_else_reads_the_tensor():
    g = graph_of(
        [("x", "Input", {"shape": [4, 6, 6]}), ("conv", "Conv2d", {"out_channels": 4, "padding": 1}),
         ("relu", "ReLU", {"inplace": True}), ("relu_in", "ReLU", {"inplace": True}),
         ("conv2", "Conv2d", {"out_channels": 4, "padding": 1}), ("drop", "Dropout", {"inplace": True}),
         ("sig", "Sigmoid"), ("after_sig", "ReLU", {"inplace": True}), ("add", "Add"), ("add2", "Add")],
        [("x", "relu_in"), ("relu_in", "conv"), ("conv", "relu"), ("conv", "add", 1), ("relu", "add", 0),
         ("add", "conv2"), ("conv2", "drop"), ("drop", "sig"), ("sig", "after_sig"), ("after_sig", "add2", 0),
         ("x", "add2", 1)])
    gm = check_against_inference(g)
    assert not gm.relu.inplace  # conv's output also feeds add
    assert not gm.relu_in.inplace  # would overwrite the caller's input
    assert gm.drop.inplace  # conv2 feeds only drop
    assert not gm.after_sig.inplace  # sigmoid's backward reads its output
    x = torch.randn(2, 4, 6, 6)
    before = x.clone()
    gm.eval()
    gm(x)
    assert torch.equal(x, before)


def test_frozen_nodes_do_not_train():
    g = chain(("x", "Input", {"shape": [4]}), ("a", "Linear", {"out_features": 3}), ("b", "Linear", {"out_features": 2}))
    g.set_trainable("a", False)
    gm = build_module(g)
    assert not any(p.requires_grad for p in gm.a.parameters())
    assert all(p.requires_grad for p in gm.b.parameters())


def test_ids_that_are_not_identifiers():
    ids = ["in put", "conv-1", "conv_1", "class", "forward", "state_dict", "x; import os", "1x1", "__init__"]
    nodes = [(ids[0], "Input", {"shape": [3, 8, 8]})] + [(i, "Conv2d", {"out_channels": 3, "padding": 1})
                                                          for i in ids[1:]]
    gm = check_against_inference(chain(*nodes))
    names = safe_names(ids)
    assert set(gm.layer_names.values()) == {names[i] for i in ids[1:]}
    assert {k.split(".")[0] for k in gm.state_dict()} == set(gm.layer_names.values())
    assert "import os" not in gm.code
    compile(gm.code, "<generated>", "exec")


def test_ids_named_like_our_attributes():
    ids = ["layer_names", "node_names", "inputs", "output_id", "output", "training", "meta", "graph", "code"]
    gm = check_against_inference(chain(("x", "Input", {"shape": [3]}),
                                       *[(i, "Linear", {"out_features": 3}) for i in ids]))
    assert gm.layer_names["layer_names"] == "layer_names_" and isinstance(gm.layer_names, dict)
    assert gm.output_id == "code" and isinstance(gm.training, bool)


def test_several_inputs_in_topological_order_and_unconnected_inputs_skipped():
    g = graph_of([("img", "Input", {"shape": [2, 4, 4]}), ("meta", "Input", {"shape": [5]}),
                  ("spare", "Input", {"shape": [1]}), ("flat", "Flatten"), ("a", "Linear", {"out_features": 3}),
                  ("b", "Linear", {"out_features": 3}), ("add", "Add")],
                 [("img", "flat"), ("flat", "a"), ("meta", "b"), ("a", "add", 0), ("b", "add", 1)])
    gm = check_against_inference(g)
    assert [i[0] for i in gm.inputs] == ["img", "meta"]
    assert gm(torch.randn(3, 2, 4, 4), torch.randn(3, 5)).shape == (3, 3)


def test_reserved_names_cover_graph_module_attributes():
    public = {a for a in dir(fx.GraphModule) if not a.startswith("_")}
    missing = public - MODULE_ATTRS
    assert not missing, f"add to engine.graph.naming.MODULE_ATTRS: {sorted(missing)}"


def test_mapping_survives_deepcopy_and_state_dict_round_trip():
    g = load(PROJECTS[-1]).graph
    gm = build_module(g)
    twin = copy.deepcopy(gm)
    assert twin.layer_names == gm.layer_names and twin.inputs == gm.inputs and twin.output_id == gm.output_id
    fresh = build_module(g)
    fresh.load_state_dict(gm.state_dict())
    x = example_inputs(gm, 2)
    gm.eval(), fresh.eval()
    assert torch.equal(gm(*x), fresh(*x))


# -- errors --------------------------------------------------------------------------------------
def test_graph_with_errors_raises_build_error_naming_the_node():
    g = graph_of([("x", "Input", {"shape": [3, 8, 8]}), ("a", "Conv2d", {"out_channels": 4}),
                  ("b", "Conv2d", {"out_channels": 8}), ("add", "Add")],
                 [("x", "a"), ("x", "b"), ("a", "add", 0), ("b", "add", 1)])
    with pytest.raises(BuildError) as e:
        build_module(g)
    assert e.value.node == "add" and "[4, 6, 6] and [8, 6, 6]" in str(e.value)

    with pytest.raises(BuildError, match="no Input"):
        build_module(chain(("fc", "Linear")))
    g = graph_of([("x", "Input", {"shape": [4]}), ("a", "Linear"), ("b", "Linear")], [("x", "a"), ("x", "b")])
    with pytest.raises(BuildError, match="several outputs"):
        build_module(g)
    with pytest.raises(BuildError, match="Linear needs 1 input") as e:
        build_module(graph_of([("x", "Input", {"shape": [4]}), ("a", "Linear")], []))
    assert e.value.node == "a"


# -- random valid graphs -----------------------------------------------------------------------------
SHAPE_KEEPING = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid",
                 "Tanh", "Identity", "Dropout", "LayerNorm", "Softmax", "LogSoftmax"]
PARAM_CHOICES = {
    "Linear": {"out_features": [1, 3, 8], "bias": [True, False]},
    "Conv1d": {"out_channels": [2, 4], "kernel_size": [1, 3], "stride": [1, 2], "padding": [0, 1],
               "groups": [1, 2], "padding_mode": ["zeros", "circular"]},
    "Conv2d": {"out_channels": [2, 4], "kernel_size": [1, 3, (1, 3)], "stride": [1, 2], "padding": [0, 1],
               "dilation": [1, 2], "groups": [1, 2]},
    "ConvTranspose2d": {"out_channels": [2, 4], "kernel_size": [2, 3], "stride": [1, 2], "output_padding": [0, 1]},
    "MaxPool1d": {"kernel_size": [2, 3], "ceil_mode": [False, True]},
    "MaxPool2d": {"kernel_size": [2, 3], "stride": [None, 1], "padding": [0, 1]},
    "AvgPool1d": {"kernel_size": [2], "padding": [0, 1]},
    "AvgPool2d": {"kernel_size": [2, 3], "ceil_mode": [False, True], "count_include_pad": [True, False]},
    "AdaptiveAvgPool1d": {"output_size": [1, 3]}, "AdaptiveAvgPool2d": {"output_size": [1, 2]},
    "AdaptiveMaxPool2d": {"output_size": [1, 2]},
    "BatchNorm1d": {"affine": [True, False]}, "BatchNorm2d": {"track_running_stats": [True, False]},
    "GroupNorm": {"num_groups": [1, 2]}, "Dropout2d": {"p": [0.0, 0.5]},
    "Upsample": {"scale_factor": [2.0, 1.5], "mode": ["nearest", "bilinear", "linear"]},
    "LSTM": {"hidden_size": [2, 5], "bidirectional": [False, True], "proj_size": [0, 1]},
    "GRU": {"hidden_size": [3], "num_layers": [1, 2]},
    "Flatten": {"start_dim": [1, 2]}, "Transpose": {"dim0": [1, -1], "dim1": [2, 1]},
    "Concat": {"dim": [1, -1]},
    "ReLU": {"inplace": [False, True]}, "Dropout": {"inplace": [False, True]},
}
SHAPED_TYPES = sorted(set(PARAM_CHOICES) - {"Concat", "ReLU", "Dropout"})


@st.composite
def valid_graphs(draw):
    """A random valid graph: layers are only added where their shape rule accepts the input."""
    g = Graph()
    shapes = draw(st.sampled_from([[3, 8, 8], [2, 6, 5], [4, 9, 9], [4, 10], [3, 7], [6], [5, 4], "tokens"]))
    if shapes == "tokens":  # int64 ids: an Embedding reads them, nothing else
        g.add_node("in", "Input", {"shape": [6], "dtype": "int64"})
        g.add_node("emb", "Embedding", {"num_embeddings": 7, "embedding_dim": draw(st.sampled_from([3, 4]))})
        g.connect("in", "emb")
        metas = {"emb": CATALOG["Embedding"].run(g.nodes["emb"].params, [TensorMeta((6,), "int64")]).out}
    else:
        g.add_node("in", "Input", {"shape": shapes})
        metas = {"in": TensorMeta(tuple(shapes))}
    for i in range(draw(st.integers(2, 10))):
        n = f"n{i}"
        if draw(st.integers(0, 4)) == 0 and len(metas) > 1:  # a merge of two nodes, if their shapes fit
            candidates = [draw(st.sampled_from(["Add", "Multiply", "Concat"]))]
            srcs = draw(st.permutations(sorted(metas)))[:2]
        else:  # the first layer type (in a random order) that accepts the chosen input
            # layers with parameters first, so convolutions, pools and RNNs are common
            shaped, keeping = draw(st.permutations(SHAPED_TYPES)), draw(st.permutations(SHAPE_KEEPING))
            candidates = keeping + shaped if draw(st.integers(0, 2)) == 0 else shaped + keeping
            branch = draw(st.integers(0, 3)) == 0
            srcs = [draw(st.sampled_from(sorted(metas))) if branch else list(metas)[-1]]
        for type_ in candidates:
            params = {k: draw(st.sampled_from(v)) for k, v in PARAM_CHOICES.get(type_, {}).items()}
            spec = CATALOG[type_]
            try:
                cost = spec.run(spec.validate_params(params), [metas[s] for s in srcs])
            except ShapeError:
                continue
            g.add_node(n, type_, params)
            for port, s in enumerate(srcs):
                g.connect(s, n, port)
            metas[n] = cost.out
            break
    # one output: flatten every dangling end to a vector, then add them up
    ends = [n for n in g.output_nodes() if n != "in" or len(g.nodes) == 1]
    if len(ends) > 1:
        for e in ends:
            g.add_node(f"{e}_flat", "Flatten")
            g.add_node(f"{e}_fc", "Linear", {"out_features": 4})
            g.connect(e, f"{e}_flat")
            g.connect(f"{e}_flat", f"{e}_fc")
        g.add_node("sum", "Add")
        for port, e in enumerate(ends):
            g.connect(f"{e}_fc", "sum", port)
    return g


@settings(derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_graphs())
def test_random_valid_graphs_build_as_inferred(g):
    check_against_inference(g)
