"""The graph model refuses structural errors with typed errors naming the node or key, and
keeps shape problems as diagnostics on a graph that stays editable."""
import math

import pytest

from engine.errors import (CycleError, DuplicateEdgeError, DuplicateIdError, GraphError, ParamError,
                           SelfEdgeError, UnknownNodeError, UnknownPortError, UnknownTypeError)
from engine.graph import Edge, Graph
from engine.graph.inference import Inference


@pytest.fixture
def g():
    g = Graph()
    g.add_node("input", "Input", {"shape": [3, 16, 16]})
    g.add_node("conv", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    g.add_node("relu", "ReLU")
    g.connect("input", "conv")
    g.connect("conv", "relu")
    return g


def refused(exc_type, fn, *args, node=None, key=None, **kwargs):
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    e = info.value
    assert e.node == node and e.key == key, (e.node, e.key, e.message)
    return e.message


def test_structural_errors_are_refused_and_change_nothing(g):
    before = g.to_dict()
    assert "cycle" in refused(CycleError, g.connect, "relu", "conv", 1, node="conv")
    refused(SelfEdgeError, g.connect, "relu", "relu", node="relu")
    refused(UnknownNodeError, g.connect, "ghost", "relu", node="ghost")
    refused(UnknownNodeError, g.remove_node, "ghost", node="ghost")
    refused(UnknownNodeError, g.set_params, "ghost", {}, node="ghost")
    refused(UnknownPortError, g.connect, "input", "relu", -1, node="relu", key="port")
    refused(UnknownPortError, g.connect, "input", "relu", "0", node="relu", key="port")
    refused(UnknownPortError, g.connect, "input", "relu", True, node="relu", key="port")
    refused(UnknownPortError, g.connect, "relu", "input", node="input", key="port")  # Input takes none
    refused(DuplicateEdgeError, g.connect, "input", "relu", 0, node="relu", key="port")
    refused(UnknownTypeError, g.add_node, "x", "Conv9d", node="x", key="type")
    refused(UnknownTypeError, g.add_node, "x", None, node="x", key="type")
    refused(DuplicateIdError, g.add_node, "conv", "ReLU", node="conv", key="id")
    refused(GraphError, g.add_node, "", "ReLU", key="id")
    refused(GraphError, g.add_node, 3, "ReLU", key="id")
    refused(GraphError, g.add_node, "a\nb", "ReLU", node="a\nb", key="id")
    refused(GraphError, g.disconnect, "input", "relu", 0, node="relu", key="port")
    refused(GraphError, g.move, "relu", (math.nan, 0), node="relu", key="pos")
    refused(GraphError, g.set_label, "relu", 5, node="relu", key="label")
    refused(ParamError, g.set_trainable, "relu", "no", node="relu", key="trainable")
    assert g.to_dict() == before


@pytest.mark.parametrize("params,key,words", [
    ({"out_channels": "8"}, "out_channels", "whole number"),
    ({"out_channels": 8.5}, "out_channels", "whole number"),
    ({"out_channels": math.nan}, "out_channels", "whole number"),
    ({"out_channels": 0}, "out_channels", "≥ 1"),
    ({"out_channels": -3}, "out_channels", "-3"),
    ({"kernel_size": [3, 3, 3]}, "kernel_size", "2 numbers"),
    ({"kernel_size": []}, "kernel_size", None),
    ({"bias": 1}, "bias", "true or false"),
    ({"padding_mode": "mirror"}, "padding_mode", "zeros"),
    ({"out_chanels": 8}, "out_chanels", "no parameter"),
])
def test_bad_params_are_refused_naming_node_and_key(g, params, key, words):
    before = dict(g.node("conv").params)
    message = refused(ParamError, g.set_params, "conv", params, node="conv", key=key)
    assert message.startswith("conv.")
    if words:
        assert words in message
    assert g.node("conv").params == before  # validated as a whole before any change
    with pytest.raises(ParamError):
        g.add_node("conv2", "Conv2d", {"out_channels": 8, **params})
    assert "conv2" not in g.nodes


def test_params_are_normalized_and_explicit_params_are_what_differs(g):
    node = g.node("conv")
    assert node.params["kernel_size"] == (3, 3) and node.params["stride"] == (1, 1)
    assert node.explicit_params() == {"out_channels": 8, "padding": [1, 1]}  # kernel_size 3 is the default
    g.set_params("conv", {"kernel_size": [3, 5], "out_channels": 8.0})
    assert node.params["kernel_size"] == (3, 5) and node.params["out_channels"] == 8


def test_shape_problems_are_diagnostics_and_the_graph_stays_editable(g):
    g.add_node("other", "Input", {"shape": [4, 16, 16]})
    g.add_node("add", "Add")
    g.connect("relu", "add", 0)
    g.connect("other", "add", 1)
    inf = Inference(g)
    [d] = inf.errors()
    assert d.node == "add" and d.message == "add: Add: inputs have shapes [8, 16, 16] and [4, 16, 16]"
    g.set_params("other", {"shape": [8, 16, 16]})  # fixed by an edit
    assert inf.errors() == []
    assert inf.info("add").shape == (8, 16, 16)


def test_missing_and_extra_inputs_several_outputs_and_no_input():
    g = Graph()
    g.add_node("relu", "ReLU")
    inf = Inference(g)
    messages = [d.message for d in inf.errors()]
    assert "the graph has no Input node" in messages and "relu: ReLU needs 1 input, got 0" in messages
    g.add_node("input", "Input", {"shape": [4]})
    g.add_node("input2", "Input", {"shape": [4]})
    g.connect("input", "relu", 0)
    g.connect("input2", "relu", 1)  # a port beyond the arity is accepted: a diagnostic
    assert [d.message for d in inf.errors()] == ["relu: ReLU takes 1 input, got 2"]
    g.disconnect("input2", "relu", 1)
    g.add_node("tail", "Sigmoid")
    g.connect("input2", "tail")
    assert [d.message for d in inf.errors()] == [
        "the graph has several outputs (relu, tail); exactly one node may have no outgoing edge"]
    g.remove_node("input2")
    assert any(d.node == "tail" for d in inf.errors())


def test_variadic_ports_must_be_contiguous():
    g = Graph()
    g.add_node("input", "Input", {"shape": [4]})
    g.add_node("a", "ReLU")
    g.add_node("b", "ReLU")
    g.add_node("cat", "Concat")
    g.connect("input", "a")
    g.connect("input", "b")
    g.connect("a", "cat", 0)
    g.connect("b", "cat", 2)
    inf = Inference(g)
    assert "contiguous" in inf.errors()[0].message
    assert g.free_port("cat") == 1
    g.disconnect("b", "cat", 2)
    assert g.connect("b", "cat") == Edge("b", "cat", 1)  # the free port
    assert inf.errors() == [] and inf.info("cat").shape == (8,)


def test_queries(g):
    assert g.topological_order() == ["input", "conv", "relu"]
    assert g.output_nodes() == ["relu"]
    assert g.reachable("conv") == {"conv", "relu"}
    assert g.reachable_reverse("conv") == {"conv", "input"}
    assert g.input_nodes("relu") == ["conv"] and g.successors("input") == ["conv"]
    assert g.unique_id("Conv") == "conv1" and g.unique_id("my layer!") == "my_layer"
    assert g.free_port("relu") is None and g.free_port("input") is None


def test_remove_node_removes_its_edges(g):
    g.remove_node("conv")
    assert g.edges == [] and set(g.nodes) == {"input", "relu"}
    g.add_node("conv", "Conv2d", {"out_channels": 2})  # the id is free again
    assert g.node("conv").params["out_channels"] == 2


def test_to_dict_is_minimal_and_keeps_extra_keys(g):
    g.add_node("x", "Identity", pos=(1, 2), label="my x", trainable=False, extra={"color": "red", "id": "no"})
    g.connect("relu", "x")
    d = g.to_dict()
    assert d["nodes"][0] == {"id": "input", "type": "Input", "params": {"shape": [3, 16, 16]}}
    assert d["nodes"][2] == {"id": "relu", "type": "ReLU"}
    assert d["nodes"][3] == {"id": "x", "type": "Identity", "label": "my x", "pos": [1.0, 2.0],
                             "trainable": False, "color": "red"}
    assert d["edges"] == [{"from": "input", "to": "conv"}, {"from": "conv", "to": "relu"},
                          {"from": "relu", "to": "x"}]


def test_an_input_on_a_port_a_layer_does_not_have_is_a_diagnostic():
    g = Graph()
    g.add_node("input", "Input", {"shape": [4]})
    g.add_node("relu", "ReLU")
    g.connect("input", "relu", 3)  # accepted (the graph stays editable), but reported
    assert [d.message for d in Inference(g).errors()] == ["relu: ReLU has no input port 3 (its input: port 0)"]
