"""Incremental inference: an edit recomputes only the nodes whose inputs changed."""
import pytest

from benchmarks._graphs import residual_graph
from engine.graph import Graph
from engine.graph.inference import Inference


@pytest.fixture
def net():
    g = residual_graph(50)  # input, stem, stem_relu, 2 pads, 7 blocks of 6, pool, flatten, fc
    inf = Inference(g, batch_size=8)
    inf.update()
    return g, inf


def fresh(g, batch_size=8):
    return Inference(g, batch_size=batch_size).all()


def test_first_update_computes_every_node_once_and_queries_are_free(net):
    g, inf = net
    i2 = Inference(g)
    i2.update()
    assert i2.recomputed == len(g.nodes) == 50
    i2.all(), i2.totals(), i2.diagnostics(), i2.info("fc")
    i2.update()
    assert i2.recomputed == 0


def test_an_edit_that_changes_no_shape_recomputes_one_node(net):
    g, inf = net
    g.set_params("b3_conv1", {"bias": False})
    changed = inf.update()
    assert inf.recomputed == 1 and changed == {"b3_conv1"}  # params changed, the shape did not
    g.set_params("b3_relu1", {"inplace": True})
    inf.update()
    assert inf.recomputed == 1
    assert inf.all() == fresh(g)


def test_a_change_cascades_only_downstream_and_only_while_shapes_change(net):
    g, inf = net
    g.set_params("b4_conv1", {"kernel_size": 5, "padding": 2})  # same output shape
    inf.update()
    assert inf.recomputed == 1
    g.set_params("b4_conv1", {"out_channels": 40})  # conv1, relu1 change shape; conv2 only params
    changed = inf.update()
    assert inf.recomputed == 3 and changed == {"b4_conv1", "b4_relu1", "b4_conv2"}
    assert inf.all() == fresh(g)


def test_a_kernel_change_cascades_to_everything_downstream_and_nothing_else(net):
    g, inf = net
    g.set_params("b4_conv1", {"kernel_size": 5})  # 2 pixels smaller: the block's Add breaks
    inf.update()
    down = g.reachable("b4_conv1")
    assert "b4_proj" not in down and len(down) == 20
    assert inf.recomputed == len(down)
    assert inf.all() == fresh(g)


def test_worst_case_edit_reaches_every_node_below_the_stem(net):
    g, inf = net
    g.set_params("stem", {"kernel_size": 5})
    inf.update()
    assert inf.recomputed == len(g.nodes) - 1 - 2  # not the input; not flatten and fc (after the pool)
    assert inf.all() == fresh(g)


def test_a_shape_error_is_recomputed_once_and_unknown_downstream(net):
    g, inf = net
    g.set_params("b2_conv2", {"out_channels": 99})  # the Add of block 2 no longer matches
    inf.update()
    assert "Add: inputs have shapes" in inf.info("b2_add").error
    assert inf.info("b2_relu2").out is None and inf.info("b2_relu2").error is None  # no duplicate message
    assert inf.info("fc").out is None and not inf.totals().complete
    assert inf.all() == fresh(g)
    g.set_params("b2_conv2", {"out_channels": g.node("b2_conv1").params["out_channels"]})
    assert inf.errors() == [] and inf.all() == fresh(g)


def test_edges_and_nodes(net):
    g, inf = net
    g.disconnect("b1_relu2", "b2_conv1")
    inf.update()
    # the node lost its input, and the source's out-degree changed: both recomputed; below
    # b2_conv1 everything is unknown now
    assert inf.recomputed >= 2 and inf.info("b2_conv1").error == "Conv2d needs 1 input, got 0"
    assert inf.all() == fresh(g)
    g.connect("b1_relu2", "b2_conv1")
    assert inf.errors() == [] and inf.all() == fresh(g)
    g.remove_node("b6_relu2")
    assert inf.info("b6_relu2").out is None
    assert inf.info("pool").error == "AdaptiveAvgPool2d needs 1 input, got 0"
    assert inf.all() == fresh(g)


def test_moves_labels_and_trainable_recompute_nothing(net):
    g, inf = net
    g.move("b1_conv1", (5, 5))
    g.set_label("b1_conv1", "x")
    g.set_trainable("b1_conv1", False)
    inf.update()
    assert inf.recomputed == 0


def test_batch_size_changes_bytes_only(net):
    g, inf = net
    before = inf.info("b0_conv1")
    inf.set_batch_size(16)
    inf.update()
    assert inf.recomputed == len(g.nodes)
    after = inf.info("b0_conv1")
    assert after.activation_bytes == 2 * before.activation_bytes and after.flops == before.flops
    assert inf.all() == fresh(g, 16)


def test_close_stops_listening():
    g = Graph()
    g.add_node("input", "Input", {"shape": [4]})
    inf = Inference(g)
    inf.update()
    inf.close()
    g.add_node("r", "ReLU")
    g.connect("input", "r")
    assert inf.update() == set() and "r" not in inf.all()


def test_units_of_a_conv(net):
    g, inf = net
    info = inf.info("stem")  # 3→8 channels, 3×3, 32×32 output
    assert info.shape == (8, 32, 32)
    assert info.params == 8 * 3 * 9 + 8
    assert info.flops == 2 * 8 * 3 * 9 * 32 * 32
    assert info.weight_bytes == 4 * info.params
    assert info.activation_bytes == 8 * 32 * 32 * 4 * 8  # at batch size 8
    relu = inf.info("stem_relu")
    assert relu.flops == 0 and relu.elementwise == 8 * 32 * 32
