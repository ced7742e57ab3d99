"""One catalog entry + its input metadata → the real ``torch.nn`` module."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from engine.catalog import LayerSpec, TensorMeta

# Constructor arguments taken from the input's shape (without the batch dimension).
_INFERRED = {
    "in_channels": lambda shape: shape[0],
    "num_features": lambda shape: shape[0],
    "num_channels": lambda shape: shape[0],
    "in_features": lambda shape: shape[-1],
    "input_size": lambda shape: shape[-1],
    "normalized_shape": lambda shape: shape[-1],
}

# Arguments a graph editor does not offer: recurrent layers always read [N, L, features].
_FIXED: dict[str, dict[str, Any]] = {"LSTM": {"batch_first": True}, "GRU": {"batch_first": True}}


def module_class(spec: LayerSpec) -> type[torch.nn.Module]:
    prefix = "torch.nn."
    assert spec.torch_class and spec.torch_class.startswith(prefix), spec.type
    return getattr(torch.nn, spec.torch_class[len(prefix):])


def make_module(spec: LayerSpec, params: Mapping[str, Any], inputs: Sequence[TensorMeta]) -> torch.nn.Module:
    """Construct ``spec``'s torch module with validated ``params`` for these inputs.

    ``params`` are the full, normalized params (``spec.validate_params``); the shape rule is
    expected to have accepted ``inputs``.
    """
    kwargs = dict(params)
    for name in spec.inferred:
        kwargs[name] = _INFERRED[name](inputs[0].shape)
    kwargs.update(_FIXED.get(spec.type, {}))
    return module_class(spec)(**kwargs)


def returns_tuple(spec: LayerSpec) -> bool:
    """LSTM/GRU return (output, state); the node's tensor is the sequence output."""
    return spec.type in _FIXED
