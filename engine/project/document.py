"""The in-memory project: a graph plus the ``dataset`` and ``training`` sections.

``dataset`` and ``training`` stay plain dicts (their keys are described and validated by
``engine.schema``) so unknown keys survive a load/save round trip untouched.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from engine.graph import Graph

FORMAT = "layerstudio-project"
VERSION = 1


@dataclass
class Project:
    name: str = "Untitled"
    graph: Graph = field(default_factory=Graph)
    dataset: dict[str, Any] = field(default_factory=lambda: {"source": "builtin:shapes"})
    training: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept
    graph_extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of "graph", kept

    def to_dict(self) -> dict[str, Any]:
        graph = self.graph.to_dict()
        graph.update({k: v for k, v in self.graph_extra.items() if k not in graph})
        doc = {"format": FORMAT, "version": VERSION, "name": self.name, "graph": graph,
               "dataset": copy.deepcopy(self.dataset), "training": copy.deepcopy(self.training)}
        doc.update({k: copy.deepcopy(v) for k, v in self.extra.items() if k not in doc})
        return doc

    def input_node(self) -> str | None:
        return next((n for n, node in self.graph.nodes.items() if node.type == "Input"), None)

    def input_shape(self) -> tuple[int, ...] | None:
        n = self.input_node()
        return tuple(self.graph.nodes[n].params["shape"]) if n else None
