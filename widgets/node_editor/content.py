"""What a node shows, as plain values: the editor is fed these, it knows nothing of models."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeContent:
    title: str  # the display label (or id)
    kind: str  # the layer type, shown right of the title
    detail: str = ""  # key parameters, one line
    shape: str = ""  # output shape, e.g. "[6, 28, 28]"; "" while unknown
    cost: str = ""  # e.g. "456 params"
    accent: str = "#6e7681"  # category colour
    ports: tuple[int, ...] = ()  # input ports shown, left to right
    connected: frozenset[int] = field(default_factory=frozenset)  # ports that have an edge
    has_output: bool = True  # False for nodes without an output port
    error: str | None = None  # drawn red; shown on the node's footer and in the tooltip
    hint: str | None = None  # advice, drawn amber
    muted: bool = False  # e.g. frozen (not trainable): drawn dimmer
    tooltip: str = ""
