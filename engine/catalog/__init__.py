"""The layer catalog: one static ``LayerSpec`` per layer type, pure Python.

    from engine.catalog import CATALOG, get_spec
    spec = get_spec("Conv2d")          # raises UnknownTypeError
    spec.validate_params({"out_channels": 8})
    spec.run(params, [TensorMeta((3, 32, 32))])
"""
from __future__ import annotations

from engine.catalog.layers import (activation, conv, core, dropout, embedding, linear, merge, norm, pooling,
                                   recurrent, reshape, upsample)
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import UnknownTypeError

CATALOG: dict[str, LayerSpec] = {}
for _module in (core, linear, conv, pooling, activation, norm, dropout, recurrent, embedding, merge,
                reshape, upsample):
    for _spec in _module.SPECS:
        assert _spec.type not in CATALOG, _spec.type
        CATALOG[_spec.type] = _spec

#: palette order of categories
CATEGORIES = ("Input", "Convolution", "Linear", "Activation", "Pooling", "Normalization",
              "Regularization", "Recurrent", "Embedding", "Merge", "Utility")


def get_spec(type_: str, *, node: str | None = None) -> LayerSpec:
    try:
        return CATALOG[type_]
    except (KeyError, TypeError):
        raise UnknownTypeError(f"{node + ': ' if node else ''}unknown layer type {type_!r}",
                               node=node, key="type") from None


__all__ = ["CATALOG", "CATEGORIES", "LayerCost", "LayerSpec", "Param", "TensorMeta", "get_spec"]
