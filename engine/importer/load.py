"""Import a model: source → trace → map → check against torch → lay out → ``Project``.

    project, imported = import_source("torchvision:resnet50")
    project, imported = import_source("net.py:Net", input_shape=(1, 28, 28))
    imported = import_model(model, "my model", input_shape=(3, 32, 32))

``imported.module_paths`` maps node ids to the model's module paths, so the model's own state
dict loads into ``engine.build.build_module(project.graph)`` (``state_dict_for_graph``).
Nothing is written here; the caller saves the project when everything succeeded.
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import fx, nn

from engine.errors import ImportModelError
from engine.graph.inference import Inference
from engine.importer import sources
from engine.importer.dataset_guess import guess_dataset
from engine.importer.check import check_against_model
from engine.importer.fx_to_graph import Imported, to_graph
from engine.importer.trace import trace
from engine.layout import apply, layout
from engine.project import Project

DEFAULT_SHAPE = (3, 224, 224)


def import_source(spec: str, *, input_shape: tuple[int, ...] | None = None) -> tuple[Project, Imported]:
    source = sources.load(spec)
    shape = tuple(input_shape or source.default_shape or DEFAULT_SHAPE)
    imported = import_model(source.model, source.what, input_shape=shape, input_id=source.input_id)
    g = imported.graph
    inference = Inference(g, batch_size=1)
    output = next(n for n in g.output_nodes() if g.nodes[n].type != "Input")
    dataset = guess_dataset(shape, inference.info(output).shape)
    inference.close()
    return Project(name=source.name, graph=g, dataset=dataset), imported


def import_model(model: nn.Module, what: str, *, input_shape: tuple[int, ...],
                 input_dtype: str | None = None, input_id: str | None = None) -> Imported:
    """The model as a checked, laid-out graph; raises ``ImportModelError`` (nothing partial)."""
    if not input_shape or any(not isinstance(d, int) or d < 1 for d in input_shape):
        raise ImportModelError(f"the input shape must be positive sizes, got {list(input_shape)}",
                               key="input_shape")
    gm = trace(model, what)
    dtype = input_dtype or _input_dtype(gm)
    placeholder = next((n for n in gm.graph.nodes if n.op == "placeholder"), None)
    if input_id is None and placeholder is not None and placeholder.name == "x":
        input_id = "input"  # `def forward(self, x)` is how code spells the Input (see export)
    imported = to_graph(gm, what, input_shape=tuple(input_shape), input_dtype=dtype, input_id=input_id)
    check_against_model(imported, gm, what, tuple(input_shape), dtype)
    apply(imported.graph, layout(imported.graph))
    return imported


def _input_dtype(gm: fx.GraphModule) -> str:
    """Token ids (int64) when the input goes straight into an Embedding, floats otherwise."""
    for n in gm.graph.nodes:
        if n.op == "placeholder":
            for user in n.users:
                if user.op == "call_module" and isinstance(gm.get_submodule(user.target), nn.Embedding):
                    return "int64"
    return "float32"


def state_dict_for_graph(model_state: Mapping[str, torch.Tensor], imported: Imported,
                         layer_names: Mapping[str, str]) -> dict[str, torch.Tensor]:
    """Re-key a model's state dict (module path prefixes) for the built graph
    (``layer_names``: node id → submodule name, as ``build_module`` reports it)."""
    out = {}
    for node_id, path in imported.module_paths.items():
        prefix = f"{path}."
        for key, value in model_state.items():
            if key.startswith(prefix) and "." not in key[len(prefix):]:
                out[f"{layer_names[node_id]}.{key[len(prefix):]}"] = value
    return out
