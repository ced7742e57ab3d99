"""Graph generators shared by the benchmarks (and their tests).

    from benchmarks._graphs import residual_graph, residual_project
    g = residual_graph(200)          # an engine Graph with exactly 200 nodes

A stack of residual blocks on 3×32×32 inputs whose widths all differ, so no two nodes share
an inference signature (nothing can be answered from a cache). Each block is
conv3×3 → ReLU → conv3×3, plus a 1×1 projection on the skip (the width changes), joined by
Add and followed by ReLU. The first convolution's ``kernel_size`` changes the spatial size of
every node downstream: the worst-case edit.
"""
from __future__ import annotations

from typing import Any

from engine.graph import Graph

HEAD = 3  # input, stem conv, stem relu
TAIL = 3  # pool, flatten, fc
BLOCK = 6


def residual_doc(n_nodes: int, *, classes: int = 6) -> dict[str, Any]:
    """The ``graph`` object of a project file with exactly ``n_nodes`` nodes (≥ 6)."""
    if n_nodes < HEAD + TAIL:
        raise ValueError(f"a residual graph has at least {HEAD + TAIL} nodes")
    blocks, extra = divmod(n_nodes - HEAD - TAIL, BLOCK)
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    width = 8

    def add(node_id: str, type_: str, src: str | None, params: dict | None = None, port: int | None = None):
        nodes.append({"id": node_id, "type": type_, **({"params": params} if params else {})})
        if src is not None:
            edges.append({"from": src, "to": node_id, **({"port": port} if port is not None else {})})
        return node_id

    last = add("input", "Input", None, {"shape": [3, 32, 32]})
    last = add("stem", "Conv2d", last, {"out_channels": width, "kernel_size": 3, "padding": 1})
    last = add("stem_relu", "ReLU", last)
    for i in range(extra):  # pad to exactly n_nodes with 1×1 convolutions, each its own width
        width += 1
        last = add(f"pre{i}", "Conv2d", last, {"out_channels": width, "kernel_size": 1})
    for b in range(blocks):
        width += 1
        x = last
        a = add(f"b{b}_conv1", "Conv2d", x, {"out_channels": width, "kernel_size": 3, "padding": 1})
        a = add(f"b{b}_relu1", "ReLU", a)
        a = add(f"b{b}_conv2", "Conv2d", a, {"out_channels": width, "kernel_size": 3, "padding": 1})
        s = add(f"b{b}_proj", "Conv2d", x, {"out_channels": width, "kernel_size": 1})
        add(f"b{b}_add", "Add", a, port=0)
        edges.append({"from": s, "to": f"b{b}_add", "port": 1})
        last = add(f"b{b}_relu2", "ReLU", f"b{b}_add")
    last = add("pool", "AdaptiveAvgPool2d", last, {"output_size": 1})
    last = add("flatten", "Flatten", last)
    add("fc", "Linear", last, {"out_features": classes})
    assert len(nodes) == n_nodes
    return {"nodes": nodes, "edges": edges}


def residual_project(n_nodes: int) -> dict[str, Any]:
    """A whole format-1 project document (dataset builtin:shapes) around ``residual_doc``."""
    return {"format": "layerstudio-project", "version": 1, "name": f"Residual stack ({n_nodes} nodes)",
            "graph": residual_doc(n_nodes), "dataset": {"source": "builtin:shapes"},
            "training": {"epochs": 1, "batch_size": 64}}


def residual_graph(n_nodes: int) -> Graph:
    """An engine ``Graph`` of exactly ``n_nodes`` nodes."""
    from engine.project.io import graph_from_dict
    return graph_from_dict(residual_doc(n_nodes))
