"""Embedding: a lookup table from int64 token ids [L] to vectors [L, embedding_dim]."""
from __future__ import annotations

from engine.catalog.layers._rules import fmt, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError


def _embedding(params, inputs):
    t = one(inputs, "Embedding")
    if t.dtype != "int64":
        raise ShapeError(f"Embedding needs int64 token ids (an Input with dtype int64), got {t.dtype} "
                         f"input {fmt(t.shape)}")
    n, dim, pad = params["num_embeddings"], params["embedding_dim"], params["padding_idx"]
    if pad is not None and not -n <= pad < n:
        raise ShapeError(f"Embedding: padding_idx={pad} must be a token id below num_embeddings ({n})")
    # a lookup (gather) does no arithmetic
    return LayerCost(out=TensorMeta(t.shape + (dim,)), params=n * dim)


SPECS = [
    LayerSpec(
        "Embedding", "Embedding", "Maps each token id to a learned vector: [L] → [L, embedding_dim].",
        (Param("num_embeddings", "int", 1000, "Vocabulary size (token ids are 0 .. num_embeddings−1)",
               min=1, max=2**31),
         Param("embedding_dim", "int", 64, "Length of each vector", min=1, max=2**20),
         Param("padding_idx", "int", None, "Token id whose vector stays zero and is not trained (empty: none)",
               nullable=True, min=-2**31, max=2**31),
         Param("max_norm", "float", None, "Renormalize looked-up vectors to at most this norm (empty: never)",
               nullable=True, min=0, min_exclusive=True, max=1e6),
         Param("norm_type", "float", 2.0, "The p of the p-norm used with max_norm", min=0,
               min_exclusive=True, max=100),
         Param("scale_grad_by_freq", "bool", False, "Scale gradients by the inverse frequency of tokens in the batch")),
        _embedding, inferred=(), key_params=("num_embeddings", "embedding_dim"),
        torch_class="torch.nn.Embedding"),
]
