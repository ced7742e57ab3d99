"""Recurrent layers (LSTM, GRU), run with batch_first=True: input [L, features].

The node's tensor is the sequence output [L, H·(2 if bidirectional)] (H is proj_size when
an LSTM projects). FLOPs are the per-step matmuls as FlopCounterMode counts them when the
recurrence runs op by op (fused oneDNN/cuDNN kernels are invisible to it and report 0).
"""
from __future__ import annotations

from engine.catalog.layers._rules import fmt, need_float, one
from engine.catalog.spec import LayerCost, LayerSpec, Param, TensorMeta
from engine.errors import ShapeError

_GATES = {"LSTM": 4, "GRU": 3}
_GATE_OPS = {"LSTM": 12, "GRU": 10}  # element-wise work per hidden unit per step


def _make_rnn(type_: str):
    gates = _GATES[type_]

    def infer(params, inputs):
        t = one(inputs, type_)
        need_float(t, type_)
        if len(t.shape) != 2:
            raise ShapeError(f"{type_} expects an input of shape [L, features] (sequence length, "
                             f"features), got {fmt(t.shape)}")
        seq, feat = t.shape
        h, layers = params["hidden_size"], params["num_layers"]
        proj = params.get("proj_size", 0)
        if proj >= h:
            raise ShapeError(f"{type_}: proj_size ({proj}) must be smaller than hidden_size ({h})")
        dirs = 2 if params["bidirectional"] else 1
        hout = proj or h
        weights = flops_per_step = 0
        for layer in range(layers):
            fin = feat if layer == 0 else hout * dirs
            per_dir = gates * h * (fin + hout) + (h * proj if proj else 0)  # W_ih, W_hh, W_hr
            weights += dirs * per_dir
            flops_per_step += dirs * 2 * per_dir
        biases = layers * dirs * 2 * gates * h if params["bias"] else 0
        hint = None
        if params["dropout"] and layers == 1:
            hint = f"{type_}: dropout only acts between layers; it does nothing with num_layers=1"
        return LayerCost(out=TensorMeta((seq, hout * dirs)), params=weights + biases,
                         flops=seq * flops_per_step,
                         elementwise=seq * layers * dirs * h * _GATE_OPS[type_], hint=hint)
    return infer


def _rnn_params(type_: str) -> tuple[Param, ...]:
    ps = [
        Param("hidden_size", "int", 64, "Number of features of the hidden state", min=1, max=2**16),
        Param("num_layers", "int", 1, "Number of stacked recurrent layers", min=1, max=64),
        Param("bias", "bool", True, "Learn bias weights"),
        Param("dropout", "float", 0.0, "Dropout between stacked layers (not after the last)", min=0, max=1),
        Param("bidirectional", "bool", False, "Also read the sequence backwards (doubles the output features)"),
    ]
    if type_ == "LSTM":
        ps.append(Param("proj_size", "int", 0, "Project the hidden state to this size (0: no projection)",
                        min=0, max=2**16))
    return tuple(ps)


SPECS = [
    LayerSpec(t, "Recurrent", doc, _rnn_params(t), _make_rnn(t), inferred=("input_size",),
              key_params=("hidden_size", "num_layers"), torch_class=f"torch.nn.{t}")
    for t, doc in (("LSTM", "Long short-term memory over a sequence [L, features] → [L, hidden]."),
                   ("GRU", "Gated recurrent unit over a sequence [L, features] → [L, hidden]."))
]
