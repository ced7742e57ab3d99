"""Fine-tuning: start from another run's weights (``training.init_from``), matching layers by
node id, and say what was loaded, reshaped or skipped.

A layer of this model takes the other run's tensors when the run's graph has a node with the
same id and the same type. A tensor whose shape changed (a classifier for a new number of
classes) keeps its fresh initialization and is reported as reshaped; layers new to this
model are reported as skipped; the run's layers this model no longer has, as unused. A run
that gives nothing to load is refused: fine-tuning from it would silently be training from
scratch. Freezing is separate: the per-node ``trainable`` flag (engine.build).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from engine.errors import ConfigError, LayerStudioError
from engine.graph.model import Graph
from engine.graph.naming import safe_names
from engine.project.io import from_dict
from engine.runs.checkpoints import best_checkpoint, latest_checkpoint
from engine.runs.layout import open_run
from engine.train.checkpoint import load_checkpoint

RUN_KEY = "training.init_from.run"
CHECKPOINT_KEY = "training.init_from.checkpoint"


@dataclass
class InitReport:
    run: str
    checkpoint: str
    loaded: list[str] = field(default_factory=list)  # node ids whose tensors were all loaded
    reshaped: list[dict[str, Any]] = field(default_factory=list)  # {node, tensor, run_shape, shape}
    skipped: list[dict[str, str]] = field(default_factory=list)  # {node, reason}: kept fresh
    unused: list[str] = field(default_factory=list)  # the run's layers this model does not have
    tensors: int = 0  # tensors loaded

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"fine-tuning from {self.checkpoint}: loaded {self.tensors} tensors of "
               f"{len(self.loaded)} layer(s) ({', '.join(self.loaded)})"]
        for r in self.reshaped:
            out.append(f"  {r['node']}.{r['tensor']}: shape {r['run_shape']} in the run, {r['shape']} here: "
                       f"kept freshly initialized")
        for s in self.skipped:
            out.append(f"  {s['node']}: {s['reason']}: kept freshly initialized")
        if self.unused:
            out.append(f"  not used from the run: {', '.join(self.unused)}")
        return out


def resolve_run(value: str, base_dir: str | os.PathLike) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else Path(base_dir) / path


def checkpoint_path(run_dir: Path, which: str) -> Path:
    try:
        run = open_run(run_dir)
    except LayerStudioError as e:
        raise ConfigError(f"{RUN_KEY}: {e.message}", key=RUN_KEY) from None
    if which == "best":
        path = best_checkpoint(run.checkpoints)
        if path is None:
            raise ConfigError(f"{CHECKPOINT_KEY}: {run.path} has no best checkpoint (it never validated); "
                              f"use \"last\"", key=CHECKPOINT_KEY)
        return path
    last = latest_checkpoint(run.checkpoints)
    if last is None:
        raise ConfigError(f"{RUN_KEY}: {run.path} has no checkpoint to start from", key=RUN_KEY)
    return last.path


def _run_graph(run_dir: Path) -> Graph:
    try:
        run = open_run(run_dir)
        return from_dict(run.read_json(run.project)).graph
    except LayerStudioError as e:
        raise ConfigError(f"{RUN_KEY}: {run_dir}: its project.json is not readable ({e.message})",
                          key=RUN_KEY) from None


def load_init_from(model: torch.nn.Module, graph: Graph, cfg: Mapping[str, Any],
                   base_dir: str | os.PathLike) -> InitReport:
    """Copy the matching tensors of ``training.init_from``'s checkpoint into ``model`` (built
    from ``graph``: its ``layer_names`` map node ids to submodules)."""
    run_dir = resolve_run(cfg["init_from.run"], base_dir)
    path = checkpoint_path(run_dir, cfg.get("init_from.checkpoint", "best"))
    try:
        tensors: Mapping[str, torch.Tensor] = load_checkpoint(path)["model"]
    except (LayerStudioError, KeyError) as e:
        raise ConfigError(f"{RUN_KEY}: {path} cannot be read ({getattr(e, 'message', e)})", key=RUN_KEY) from None
    theirs = _run_graph(run_dir)
    their_names = safe_names(theirs.nodes)
    ours = model.state_dict()
    report = InitReport(run=str(run_dir), checkpoint=str(path))
    new: dict[str, torch.Tensor] = {}
    layer_names: Mapping[str, str] = model.layer_names
    for node, sub in layer_names.items():
        own = [k for k in ours if k.startswith(sub + ".")]
        if not own:
            continue  # a layer without weights (ReLU, pooling)
        other = theirs.nodes.get(node)
        if other is None:
            report.skipped.append({"node": node, "reason": "not in the run"})
            continue
        mine = graph.nodes[node].type
        if other.type != mine:
            report.skipped.append({"node": node, "reason": f"a {other.type} in the run, a {mine} here"})
            continue
        took = 0
        for key in own:
            name = key[len(sub) + 1:]
            src = tensors.get(f"{their_names[node]}.{name}")
            if src is None:
                report.skipped.append({"node": node, "reason": f"{name} is not in the checkpoint"})
            elif tuple(src.shape) != tuple(ours[key].shape):
                report.reshaped.append({"node": node, "tensor": name, "run_shape": list(src.shape),
                                        "shape": list(ours[key].shape)})
            else:
                new[key] = src
                took += 1
        if took:
            report.loaded.append(node)
    with_weights = {k.split(".", 1)[0] for k in tensors}
    report.unused = sorted(n for n, name in their_names.items() if name in with_weights and n not in layer_names)
    if not new:
        why = ("no layer of this model has the same id and type as one of the run's" if not report.reshaped
               else "every matching layer changed shape")
        raise ConfigError(f"{RUN_KEY}: nothing to load from {run_dir}: {why}; fine-tuning from it would be "
                          f"training from scratch", key=RUN_KEY)
    model.load_state_dict(new, strict=False)
    report.tensors = len(new)
    return report
