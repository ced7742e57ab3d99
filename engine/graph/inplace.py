"""When may a layer with ``inplace=True`` overwrite its input? The builder and the code
exporter must agree, so the rule lives here (pure Python)."""
from __future__ import annotations

from engine.graph.model import Graph

# Producers whose output may be overwritten by an in-place successor: their backward does
# not read their own output. (ReLU, Sigmoid, Tanh, Softmax, ELU... save their result; views
# share storage with their input; an Input is the caller's tensor.)
INPLACE_SAFE_PRODUCERS = frozenset({
    "Conv1d", "Conv2d", "ConvTranspose2d", "Linear", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "GroupNorm", "Add", "Multiply", "Concat", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Upsample",
    "Embedding", "Dropout", "Dropout2d",
})


def inplace_allowed(graph: Graph, n: str) -> bool:
    """May node ``n`` overwrite its input? Only if no one else reads that tensor or its storage."""
    (src,) = graph.input_nodes(n)
    while True:
        if len(graph.outputs(src)) != 1:
            return False
        kind = graph.nodes[src].type
        if kind in ("Identity", "Flatten", "Transpose", "Permute"):  # views of their input
            (src,) = graph.input_nodes(src)
            continue
        return kind in INPLACE_SAFE_PRODUCERS
