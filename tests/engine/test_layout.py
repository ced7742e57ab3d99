"""Automatic layered layout: top-down, no overlaps, straight chains, few crossings, fast."""
import time

import pytest

from benchmarks._graphs import residual_graph
from engine.graph import Graph
from engine.layout import X_STEP, Y_STEP, _crossings, apply, layout, layout_missing
from engine.project import load
from engine.project.io import graph_from_dict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def chain(n: int) -> Graph:
    g = Graph()
    g.add_node("input", "Input", {"shape": [4]})
    for i in range(n):
        g.add_node(f"r{i}", "ReLU")
        g.connect("input" if i == 0 else f"r{i - 1}", f"r{i}")
    return g


def assert_no_overlap(pos):
    seen = sorted(pos.values())
    by_row = {}
    for x, y in seen:
        by_row.setdefault(y, []).append(x)
    for y, xs in by_row.items():
        xs.sort()
        assert all(b - a >= X_STEP - 1e-6 for a, b in zip(xs, xs[1:])), (y, xs)


def test_every_node_is_placed_below_its_inputs_without_overlap():
    g = residual_graph(60)
    pos = layout(g)
    assert set(pos) == set(g.nodes)
    for e in g.edges:
        assert pos[e.dst][1] > pos[e.src][1], e
    assert_no_overlap(pos)
    assert min(x for x, _ in pos.values()) == 0 and min(y for _, y in pos.values()) == 0


def test_a_chain_is_a_straight_column():
    pos = layout(chain(10))
    assert {x for x, _ in pos.values()} == {0.0}
    assert [pos[f"r{i}"][1] for i in range(10)] == [Y_STEP * (i + 1) for i in range(10)]


def test_concat_inputs_keep_port_order_and_tree_has_no_crossings():
    g = Graph()
    g.add_node("input", "Input", {"shape": [8, 16, 16]})
    for i in range(4):
        g.add_node(f"b{i}", "Conv2d", {"out_channels": 4, "kernel_size": 1})
    g.add_node("cat", "Concat")
    # connect the branches in scrambled order; ports say b0..b3
    for i in (2, 0, 3, 1):
        g.connect("input", f"b{i}")
        g.connect(f"b{i}", "cat", i)
    pos = layout(g)
    xs = [pos[f"b{i}"][0] for i in range(4)]
    assert xs == sorted(xs)
    assert pos["cat"][0] == pytest.approx(pos["input"][0])  # centred under/over the branches


def test_templates_are_laid_out_without_crossings():
    for path in sorted((ROOT / "assets" / "templates").glob("*.json")):
        g = load(path).graph
        pos = layout(g)
        assert_no_overlap(pos)
        # count crossings between consecutive layers of real edges that span one layer
        rows = {}
        for n, (x, y) in pos.items():
            rows.setdefault(y, []).append((x, n))
        spans = [(pos[e.src], pos[e.dst]) for e in g.edges if pos[e.dst][1] - pos[e.src][1] == Y_STEP]
        crossings = sum(1 for (a0, a1) in spans for (b0, b1) in spans
                        if a0[1] == b0[1] and a0[0] < b0[0] and a1[0] > b1[0])
        assert crossings == 0, path.name


def test_sweeps_remove_crossings_of_a_bad_initial_order():
    # two inputs whose consumers were added crosswise: x1 feeds the right Concat port...
    doc = {"nodes": [{"id": "a", "type": "Input", "params": {"shape": [4]}},
                     {"id": "b", "type": "Input", "params": {"shape": [4]}},
                     {"id": "rb", "type": "ReLU"}, {"id": "ra", "type": "ReLU"},
                     {"id": "cat", "type": "Concat"}],
           "edges": [{"from": "a", "to": "ra"}, {"from": "b", "to": "rb"},
                     {"from": "ra", "to": "cat", "port": 0}, {"from": "rb", "to": "cat", "port": 1}]}
    pos = layout(graph_from_dict(doc))
    assert (pos["a"][0] < pos["b"][0]) == (pos["ra"][0] < pos["rb"][0])
    assert pos["ra"][0] < pos["rb"][0]  # port order


def test_inputs_stay_on_top_and_a_dangling_source_sits_next_to_its_consumer():
    g = chain(6)
    g.add_node("extra", "Input", {"shape": [4]})
    g.add_node("gate", "Sigmoid")  # its input is not wired yet (a graph being edited)
    g.add_node("mul", "Multiply")
    g.connect("r5", "mul", 0)
    g.connect("gate", "mul", 1)
    g.add_node("cat", "Concat")
    g.connect("mul", "cat", 0)
    g.connect("extra", "cat", 1)
    pos = layout(g)
    assert pos["extra"][1] == pos["input"][1] == 0  # every Input is in the top row
    assert pos["gate"][1] == pos["mul"][1] - Y_STEP  # not at the top, far from its use


def test_crossing_count():
    rows = [["a", "b"], ["c", "d"]]
    succs = {"a": ["d"], "b": ["c"], "c": [], "d": []}
    rank = {"a": 0, "b": 1, "c": 0, "d": 1}
    assert _crossings(rows, succs, rank) == 1
    succs = {"a": ["c", "d"], "b": ["d"], "c": [], "d": []}
    assert _crossings(rows, succs, rank) == 0


def test_layout_missing_fills_only_missing_positions():
    g = chain(4)
    full = layout(g)
    apply(g, {n: full[n] for n in ("input", "r0", "r1")})  # r2, r3 have none
    moved = []
    g.node_moved.connect(moved.append)
    new = layout_missing(g)
    assert set(new) == {"r2", "r3"}
    assert new["r2"] == (full["r1"][0], full["r1"][1] + Y_STEP)  # below its input
    assert new["r3"][1] == new["r2"][1] + Y_STEP
    assert moved == []  # layout_missing only computes; apply() moves
    apply(g, new)
    assert moved == ["r2", "r3"] and g.node("r3").pos == new["r3"]
    assert layout_missing(g) == {}


def test_layout_missing_avoids_occupied_spots_and_places_loose_nodes():
    g = chain(2)
    apply(g, layout(g))
    g.add_node("other", "ReLU")  # takes the spot below r1? no input: new column
    g.add_node("r2", "ReLU")
    g.connect("r1", "r2")
    g.add_node("squatter", "Identity", pos=(0.0, 3 * Y_STEP))  # where r2 would go
    new = layout_missing(g)
    assert set(new) == {"other", "r2"}
    placed = [n.pos for n in g.nodes.values() if n.pos] + list(new.values())
    for i, p in enumerate(placed):
        for q in placed[i + 1:]:
            assert abs(p[0] - q[0]) >= X_STEP * 0.9 or abs(p[1] - q[1]) >= Y_STEP * 0.9
    assert new["r2"][1] == 3 * Y_STEP


def test_layout_missing_without_any_position_is_the_full_layout():
    g = residual_graph(30)
    assert layout_missing(g) == layout(g)
    assert layout(Graph()) == {} and layout_missing(Graph()) == {}


def test_deterministic_and_fast_for_1000_nodes():
    g = residual_graph(1000)
    t = time.perf_counter()
    pos = layout(g)
    elapsed = time.perf_counter() - t
    assert pos == layout(residual_graph(1000))
    assert elapsed < 1.0, f"layout of 1000 nodes took {elapsed:.2f} s"  # ~30 ms here; generous for CI


def test_chains_inside_templates_are_straight():
    for path in sorted((ROOT / "assets" / "templates").glob("*.json")):
        g = load(path).graph
        pos = layout(g)
        for e in g.edges:  # a link of a chain: one way out of src, one way into dst
            if len(g.successors(e.src)) == 1 and len(g.input_nodes(e.dst)) == 1:
                assert pos[e.src][0] == pos[e.dst][0], (path.name, e)
