"""Automatic layered layout of a graph, top-down (a small Sugiyama-style pipeline).

1. Layers by longest path from the sources (a source that is not an Input, e.g. a second
   input branch, is pulled down next to its first consumer instead of sitting at the top).
2. Edges that span several layers get invisible dummy points, one per layer crossed, so the
   skip connections of residual blocks take part in ordering and get their own lane.
3. Order within each layer: barycentric sweeps down and up (the inputs of a Concat/Add keep
   their port order), keeping the ordering with the fewest crossings seen.
4. x coordinates: alternate passes pull every node towards the mean x of its neighbours, then
   the optimal placement that keeps the order and the minimum gaps is found exactly by
   isotonic regression (pool adjacent violators), so chains come out straight.

Pure Python, linear-ish in the graph size: about 40 ms for 1000 nodes. ``layout(graph)``
places every node; ``layout_missing(graph)`` only those without a position (loading a file
with none; pasting nodes), leaving the user's positions alone.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Hashable

from engine.graph import Graph

X_STEP = 200.0  # distance between neighbouring nodes of a layer (node width + gap)
Y_STEP = 120.0  # distance between layers
DUMMY_W = 40.0  # the lane an edge passing through a layer takes
SWEEPS = 8
X_PASSES = 7  # odd: the last pass goes down, so a chain ends up straight under its input

Pos = tuple[float, float]


def layout(graph: Graph, *, x_step: float = X_STEP, y_step: float = Y_STEP) -> dict[str, Pos]:
    """Positions ``{node_id: (x, y)}`` for every node; y grows downwards, the top layer at y=0."""
    if not graph.nodes:
        return {}
    order = graph.topological_order()
    layer = _layers(graph, order)
    rows, preds, succs, port = _with_dummies(graph, order, layer)
    rows = _order_rows(rows, preds, succs, port)
    xs = _coordinates(rows, preds, succs, x_step)
    x0 = min(xs.values())
    return {n: (round(xs[n] - x0, 1), layer[n] * y_step) for n in order}


def layout_missing(graph: Graph, *, x_step: float = X_STEP, y_step: float = Y_STEP) -> dict[str, Pos]:
    """Positions for the nodes that have none (nothing else moves); returns only those.

    Without any position in the graph this is ``layout``. Otherwise each missing node goes
    below its placed inputs (or above its placed consumers), shifted right until it overlaps
    no other node.
    """
    missing = [n for n, node in graph.nodes.items() if node.pos is None]
    if not missing:
        return {}
    if len(missing) == len(graph.nodes):
        return layout(graph, x_step=x_step, y_step=y_step)
    placed: dict[str, Pos] = {n: node.pos for n, node in graph.nodes.items() if node.pos is not None}
    grid = _Grid(x_step, y_step)
    for p in placed.values():
        grid.add(p)
    todo = set(missing)
    new: dict[str, Pos] = {}
    for n in graph.topological_order():
        if n not in todo:
            continue
        above = [placed[s] for s in graph.input_nodes(n) if s in placed]
        below = [placed[d] for d in graph.successors(n) if d in placed]
        if above:
            want = (sum(p[0] for p in above) / len(above), max(p[1] for p in above) + y_step)
        elif below:
            want = (sum(p[0] for p in below) / len(below), min(p[1] for p in below) - y_step)
        else:  # unconnected: start a new column to the right of everything
            want = (max(p[0] for p in placed.values()) + x_step, min(p[1] for p in placed.values()))
        pos = grid.free_near(want)
        grid.add(pos)
        placed[n] = new[n] = pos
    return new


def apply(graph: Graph, positions: dict[str, Pos]) -> None:
    """Move the nodes (one ``node_moved`` signal each); the editor wraps this in an undo command."""
    for n, p in positions.items():
        graph.move(n, p)


# -- 1. layers -------------------------------------------------------------------------------
def _layers(graph: Graph, order: list[str]) -> dict[str, int]:
    layer: dict[str, int] = {}
    for n in order:
        ins = graph.input_nodes(n)
        layer[n] = max((layer[s] + 1 for s in ins), default=0)
    # Sources other than Input hang just above their first consumer, not at the top.
    for n in reversed(order):
        if not graph.input_nodes(n) and graph.nodes[n].type != "Input":
            outs = graph.successors(n)
            if outs:
                layer[n] = max(0, min(layer[d] for d in outs) - 1)
    return layer


# -- 2. dummy points on long edges ---------------------------------------------------------------
def _with_dummies(graph: Graph, order: list[str], layer: dict[str, int]):
    """Rows of items (node ids and dummy tuples), and adjacency between consecutive rows.

    ``port[(u, v)]`` is the input port the edge u→v ends in, used to order a node's inputs.
    """
    depth = max(layer.values()) + 1
    rows: list[list[Hashable]] = [[] for _ in range(depth)]
    preds: dict[Hashable, list[Hashable]] = {}
    succs: dict[Hashable, list[Hashable]] = {}
    port: dict[tuple, int] = {}
    for n in order:
        rows[layer[n]].append(n)
        preds.setdefault(n, [])
        succs.setdefault(n, [])
    for n in order:
        for p, e in sorted(graph.inputs(n).items()):
            prev = e.src
            for k in range(layer[e.src] + 1, layer[n]):
                d = ("dummy", e.src, n, p, k)
                rows[k].append(d)
                preds[d], succs[d] = [prev], []
                succs[prev].append(d)
                port[(prev, d)] = p
                prev = d
            preds[n].append(prev)
            succs[prev].append(n)
            port[(prev, n)] = p
    return rows, preds, succs, port


# -- 3. order within layers --------------------------------------------------------------------
def _order_rows(rows, preds, succs, port):
    rank = {item: i for row in rows for i, item in enumerate(row)}
    best = [list(r) for r in rows]
    best_cross = _crossings(best, succs, rank)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        if best_cross == 0 and down and sweep:
            break  # stop after an up sweep: it is the one that puts inputs in port order
        seq = range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)
        for k in seq:
            neigh = preds if down else succs

            def bary(item, _neigh=neigh, _down=down):
                ns = _neigh[item]
                if not ns:
                    return rank[item]  # no neighbour on that side: stay where it is
                # the inputs of a multi-input node keep their port order (tiny nudge)
                pull = [rank[v] + (0.0 if _down else 0.01 * port.get((item, v), 0)) for v in ns]
                return sum(pull) / len(pull)

            rows[k].sort(key=lambda it: (bary(it), rank[it]))
            for i, it in enumerate(rows[k]):
                rank[it] = i
        c = _crossings(rows, succs, rank)
        if c <= best_cross:
            best, best_cross = [list(r) for r in rows], c
    return best


def _crossings(rows, succs, rank) -> int:
    """Edge crossings between consecutive rows (inversion count, O(E log E) per pair)."""
    total = 0
    for row in rows[:-1]:
        pos = {it: i for i, it in enumerate(row)}
        targets = sorted((pos[u], rank[v]) for u in row for v in succs[u])
        seen: list[int] = []
        for _, t in targets:
            # edges already seen whose target lies strictly right of t cross this one
            i = bisect_right(seen, t)
            total += len(seen) - i
            seen.insert(i, t)
    return total


# -- 4. x coordinates --------------------------------------------------------------------------
def _coordinates(rows, preds, succs, x_step: float) -> dict[Hashable, float]:
    width = {it: (DUMMY_W if isinstance(it, tuple) else x_step) for row in rows for it in row}
    xs: dict[Hashable, float] = {}
    for row in rows:
        xs.update(zip(row, _pack(row, [0.0] * len(row), width)))
    for p in range(X_PASSES):
        down = p % 2 == 0
        seq = rows[1:] if down else rows[-2::-1]
        neigh = preds if down else succs
        for row in seq:
            want = [(sum(xs[v] for v in neigh[it]) / len(neigh[it])) if neigh[it] else xs[it] for it in row]
            xs.update(zip(row, _pack(row, want, width)))
    return xs


def _pack(row, want: list[float], width: dict) -> list[float]:
    """Least-squares closest positions to ``want`` keeping the row's order and minimum gaps.

    With offsets o_i (cumulative minimum gaps), x_i = y_i + o_i where y must be
    non-decreasing: isotonic regression of want_i - o_i, solved by pool adjacent violators.
    """
    offs, acc = [], 0.0
    for i, it in enumerate(row):
        if i:
            acc += (width[row[i - 1]] + width[it]) / 2
        offs.append(acc)
    blocks: list[list[float]] = []  # [mean, count]
    for w, o in zip(want, offs):
        blocks.append([w - o, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks[-1]
            blocks[-1] = [(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2]
    ys: list[float] = []
    for m, c in blocks:
        ys.extend([m] * c)
    return [y + o for y, o in zip(ys, offs)]


# -- placing single nodes ------------------------------------------------------------------------
class _Grid:
    """Occupied positions bucketed by cell, to find a free spot near a wanted one quickly."""

    def __init__(self, dx: float, dy: float) -> None:
        self.dx, self.dy = dx, dy
        self.cells: dict[tuple[int, int], list[Pos]] = {}

    def _cell(self, p: Pos) -> tuple[int, int]:
        return int(p[0] // self.dx), int(p[1] // self.dy)

    def add(self, p: Pos) -> None:
        self.cells.setdefault(self._cell(p), []).append(p)

    def _taken(self, p: Pos) -> bool:
        cx, cy = self._cell(p)
        return any(abs(q[0] - p[0]) < self.dx * 0.9 and abs(q[1] - p[1]) < self.dy * 0.9
                   for i in (-1, 0, 1) for j in (-1, 0, 1) for q in self.cells.get((cx + i, cy + j), ()))

    def free_near(self, want: Pos) -> Pos:
        x, y = want
        for k in range(10_000):
            # try right, then left, further out each time
            cand = (x + ((k + 1) // 2) * self.dx * (1 if k % 2 else -1) if k else x, y)
            if not self._taken(cand):
                return cand
        return (x, y)
