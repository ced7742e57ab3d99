"""Addressing a layer of a built model, and capturing its output for one forward pass.

The app's models are ``torch.fx.GraphModule``s whose ``layer_names`` maps node ids to submodule
attribute names, so a layer is named by its node id; a dotted attribute path or the module
itself work too (plain ``nn.Module``s, tests, imported models)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from engine.errors import ExplainError

LayerRef = str | nn.Module | None


def node_id_of(model: nn.Module, attr: str) -> str:
    """The node id whose submodule is ``attr`` (the attribute name itself for plain modules)."""
    for node_id, name in getattr(model, "layer_names", {}).items():
        if name == attr:
            return node_id
    return attr


def resolve_layer(model: nn.Module, layer: LayerRef = None) -> tuple[str, nn.Module]:
    """(attribute name, module) for a node id, a dotted path, a submodule, or None = the last
    Conv2d of the model (the usual Grad-CAM layer: the most semantic spatial features)."""
    named = dict(model.named_modules())
    if layer is None:
        convs = [(n, m) for n, m in named.items() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ExplainError("Grad-CAM needs a convolution layer, and this network has none",
                               key="layer")
        return convs[-1]
    if isinstance(layer, nn.Module):
        for name, m in named.items():
            if m is layer:
                return name, m
        raise ExplainError(f"the layer {type(layer).__name__} is not part of this network", key="layer")
    attr = getattr(model, "layer_names", {}).get(layer, layer)
    if attr and attr in named:
        return attr, named[attr]
    raise ExplainError(f"the network has no layer {layer!r}", node=layer, key="layer")


class StopForward(Exception):
    """Raised by a ``stop=True`` capture once the layer has run: the rest of the network is
    not needed (activation maximization of an early layer)."""


@contextmanager
def captured_output(model: nn.Module, name: str, layer: nn.Module, spatial: bool = True,
                    stop: bool = False) -> Iterator[dict]:
    """Record ``layer``'s output tensor in the yielded dict under "out" during the forward pass;
    with ``spatial`` it must be a feature map [N, C, H, W] (what Grad-CAM needs); with ``stop``
    the forward pass ends there by raising ``StopForward``, which the block swallows.

    The layer passes a clone downstream (as Captum does) so that an in-place op that follows,
    such as ReLU(inplace=True), cannot overwrite the recorded activation. The hook is removed
    when the block ends, whatever happens inside it."""
    box: dict = {}

    def hook(_module, _inputs, out):
        if not isinstance(out, torch.Tensor) or out.dim() < 2 or (spatial and out.dim() != 4):
            shape = list(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
            need = "a feature map [channels, height, width]" if spatial else "one tensor"
            raise ExplainError(f"the layer {node_id_of(model, name)!r} must output {need}; it gives {shape}",
                               node=node_id_of(model, name), key="layer")
        box["out"] = out
        if stop:
            raise StopForward
        return out.clone()

    handle = layer.register_forward_hook(hook)
    try:
        yield box
    except StopForward:
        pass
    finally:
        handle.remove()
