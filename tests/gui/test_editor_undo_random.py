"""Random sequences of canvas edits are undone to the exact original file and redone to the
exact final one, and the scene mirrors the graph at every stage."""
from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPointF

from engine.errors import LayerStudioError
from studio.canvas_content import node_content

TYPES = ["Conv2d", "ReLU", "Linear", "Add", "Concat", "Flatten", "MaxPool2d", "Identity"]
PARAMS = {"Conv2d": ("out_channels", 1, 32), "Linear": ("out_features", 1, 64), "MaxPool2d": ("kernel_size", 1, 3),
          "Concat": ("dim", 1, 2)}


def assert_mirrors(canvas) -> None:
    canvas.refresh()
    doc, scene = canvas.document, canvas.scene()
    g, inf = doc.graph, doc.inference
    assert set(scene.nodes()) == set(g.nodes)
    assert set(scene.edges()) == set(g.edges)
    for n, node in g.nodes.items():
        item = scene.node(n)
        assert (item.center() - QPointF(*node.pos)).manhattanLength() < 1e-6, n
        assert item.content == node_content(g, n, inf.info(n)), n
    for e, item in scene.edges().items():
        assert item.src is scene.node(e.src) and item.dst is scene.node(e.dst)
        assert (item.path().pointAtPercent(1) - item.dst.input_anchor(e.port)).manhattanLength() < 1e-6
        assert (item.path().pointAtPercent(0) - item.src.output_anchor()).manhattanLength() < 1e-6
    assert set(scene.selected_node_keys()) == set(doc.selection)


def random_edit(rng: random.Random, canvas, gesture: list[int]) -> None:
    doc = canvas.document
    g = doc.graph
    ids = list(g.nodes)
    pick = lambda k=1: rng.sample(ids, min(k, len(ids)))  # noqa: E731
    pos = QPointF(rng.uniform(-400, 400), rng.uniform(-200, 1600))
    kind = rng.choice(["add", "add", "delete", "delete_edge", "connect", "connect", "reconnect", "params",
                       "params", "move", "move", "label", "frozen", "duplicate", "copy_paste", "cut", "layout"])
    if kind == "add":
        canvas.add_layer(rng.choice(TYPES), pos)
    elif kind == "delete" and ids:
        doc.select(pick(rng.randint(1, 3)))
        canvas.delete_selected()
    elif kind == "delete_edge" and g.edges:
        canvas.scene().set_selection((), {rng.choice(g.edges)})
        canvas.delete_selected()
    elif kind == "connect" and len(ids) >= 2:
        src, dst = pick(2)
        port = rng.choice([-1, 0, 1])
        canvas._connect_requested(src, dst, port, pos)  # the request a released edge makes
    elif kind == "reconnect" and g.edges:
        edge = rng.choice(g.edges)
        canvas._reconnect_requested(edge, rng.choice([None] + ids), rng.choice([-1, 0]), pos)
    elif kind == "params":
        cands = [n for n in ids if g.nodes[n].type in PARAMS]
        if cands:
            n = rng.choice(cands)
            key, lo, hi = PARAMS[g.nodes[n].type]
            try:
                doc.set_params(n, {key: rng.randint(lo, hi)})
            except LayerStudioError:
                pass
    elif kind == "move" and ids:
        moved = pick(rng.randint(1, 3))
        gesture[0] += 1
        for step in range(rng.randint(1, 4)):  # one drag: several moves, one undo step
            canvas._nodes_dragged({n: (g.nodes[n].pos[0] + 7.5, g.nodes[n].pos[1] - 3.0) for n in moved}, gesture[0])
    elif kind == "label" and ids:
        canvas._title_edited(rng.choice(ids), rng.choice(["", "a label", "ß→λ"]))
    elif kind == "frozen" and ids:
        n = rng.choice(ids)
        doc.set_trainable(n, not g.nodes[n].trainable)
    elif kind == "duplicate" and ids:
        doc.select(pick(rng.randint(1, 4)))
        canvas.duplicate()
    elif kind == "copy_paste" and ids:
        doc.select(pick(rng.randint(1, 4)))
        canvas.copy()
        canvas._paste_at = pos
        canvas.paste()
        canvas._paste_at = None
    elif kind == "cut" and ids:
        doc.select(pick(rng.randint(1, 2)))
        canvas.cut()
    elif kind == "layout":
        canvas.auto_layout()


@pytest.mark.parametrize("seed", range(30))
def test_random_edits_undo_and_redo_exactly(canvas, seed):
    doc = canvas.document
    stack = doc.undo_stack
    original = doc.to_dict()
    rng = random.Random(seed)
    gesture = [1000 * seed]
    for _ in range(rng.randint(8, 20)):
        random_edit(rng, canvas, gesture)
        if rng.random() < 0.2 and stack.canUndo():  # sometimes undo a step mid-way, then go on
            stack.undo()
    assert_mirrors(canvas)
    final = doc.to_dict()
    steps = stack.index()
    while stack.canUndo():
        stack.undo()
    assert doc.to_dict() == original
    assert_mirrors(canvas)
    for _ in range(steps):
        stack.redo()
    assert doc.to_dict() == final
    assert_mirrors(canvas)
