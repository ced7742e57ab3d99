"""One catalog entry + its input metadata → the real ``torch.nn`` module."""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from engine.catalog import LayerSpec, TensorMeta
from engine.catalog.constructor import TUPLE_OUTPUT, constructor_args


def module_class(spec: LayerSpec) -> type[torch.nn.Module]:
    prefix = "torch.nn."
    assert spec.torch_class and spec.torch_class.startswith(prefix), spec.type
    return getattr(torch.nn, spec.torch_class[len(prefix):])


def make_module(spec: LayerSpec, params: Mapping[str, Any], inputs: Sequence[TensorMeta]) -> torch.nn.Module:
    """Construct ``spec``'s torch module with validated ``params`` for these inputs.

    ``params`` are the full, normalized params (``spec.validate_params``); the shape rule is
    expected to have accepted ``inputs``.
    """
    return module_class(spec)(**constructor_args(spec, dict(params), list(inputs)))


def returns_tuple(spec: LayerSpec) -> bool:
    """LSTM/GRU return (output, state); the node's tensor is the sequence output."""
    return spec.type in TUPLE_OUTPUT
