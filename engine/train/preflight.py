"""Checks before the first step, each failing with a message that names what to change.

- the graph has no errors (every diagnostic listed);
- the output is one score per class (the message names the output node's setting);
- the Input's shape and dtype match the data (names ``<input>.shape`` / ``<input>.dtype``);
- the estimated memory fits the device (names ``training.batch_size``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from engine.errors import PreflightError
from engine.graph.inference import Inference

GiB = 1 << 30
#: fraction of the free memory a run may plan to use (allocator slack, fragmentation, the data)
HEADROOM = 0.9


def check_graph(inference: Inference) -> None:
    errors = inference.errors()
    if errors:
        first = errors[0]
        lines = "\n".join(f"  - {d.message}" for d in errors)
        raise PreflightError(f"the model has {len(errors)} error{'s' if len(errors) > 1 else ''}; fix "
                             f"{'them' if len(errors) > 1 else 'it'} before training:\n{lines}",
                             node=first.node, key=first.key)


def output_node(inference: Inference) -> str:
    g = inference.graph
    outs = [n for n in g.output_nodes() if g.nodes[n].type != "Input"]
    if len(outs) != 1:  # check_graph reports this case first; keep a clear message anyway
        raise PreflightError("the model must have exactly one output node")
    return outs[0]


def check_output(inference: Inference, num_classes: int, class_names: Sequence[str] = ()) -> None:
    out = output_node(inference)
    node = inference.graph.nodes[out]
    shape = inference.info(out).shape
    names = f" ({', '.join(map(str, class_names[:8]))}{'…' if len(class_names) > 8 else ''})" if class_names else ""
    if shape is None:
        return  # unknown shape: check_graph has reported why
    if len(shape) != 1:
        raise PreflightError(
            f"{out}: the model's output has shape {list(shape)} per sample, but a classifier must output one "
            f"score per class, [{num_classes}]; end the model with Flatten and Linear(out_features={num_classes})",
            node=out, key="out_features")
    if shape[0] != num_classes:
        key = next((k for k in ("out_features", "out_channels", "num_embeddings") if k in node.params), None)
        fix = f"set {out}.{key} to {num_classes}" if key else f"make {out} output {num_classes} values"
        raise PreflightError(f"{out}: the model outputs {shape[0]} values per sample but the dataset has "
                             f"{num_classes} classes{names}; {fix}", node=out, key=key)


def check_input(inference: Inference, input_id: str, sample_shape: Sequence[int], sample_dtype: str) -> None:
    node = inference.graph.nodes[input_id]
    want = tuple(node.params["shape"])
    have = tuple(int(d) for d in sample_shape)
    if want != have:
        other = ""
        if len(want) == len(have) == 3 and want[1:] != have[1:]:
            other = f" (or dataset.image_size to {list(want[1:])})"
        elif len(want) == len(have) == 3 and want[0] != have[0] and want[0] in (1, 3):
            other = f" (or dataset.channels to {want[0]})"
        raise PreflightError(f"{input_id}: the Input's shape is {list(want)} but the dataset's samples are "
                             f"{list(have)}; set {input_id}.shape to {list(have)}{other}", node=input_id, key="shape")
    dtype = node.params.get("dtype", "float32")
    if dtype != sample_dtype:
        raise PreflightError(f"{input_id}: the Input's dtype is {dtype} but the dataset gives {sample_dtype}; set "
                             f"{input_id}.dtype to {sample_dtype}", node=input_id, key="dtype")


def estimate_memory(inference: Inference, cfg: Mapping[str, Any], batch_size: int) -> int:
    """Bytes a training step needs: weights, gradients and optimizer state, plus the activations
    kept for backward and their gradients at ``batch_size`` (inference counts them at its own
    batch size, so they are rescaled)."""
    totals = inference.totals()
    weights = totals.weight_bytes
    states = {"SGD": 1 if cfg.get("optimizer.momentum", 0.0) > 0 else 0, "Adam": 2}.get(cfg["optimizer.type"], 2)
    per_sample = totals.activation_bytes / max(inference.batch_size, 1)
    activations = 2 * per_sample * batch_size
    return int(weights * (2 + states) + activations)


def check_memory(needed: int, available: int | None, device: str, batch_size: int) -> None:
    if available is None or needed <= available * HEADROOM:
        return
    raise PreflightError(f"training needs about {needed / GiB:.1f} GiB at batch size {batch_size} but only "
                         f"{available / GiB:.1f} GiB is free on {device}; lower training.batch_size or use a "
                         f"smaller model", key="training.batch_size")
