"""Tiny in-process runs with the live probes: LeNet-5 (the sample) and small variants on 192
generated shapes, batch 32, on the CPU; ``every_step`` makes every step a probe round."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())
TINY_DATA = {"source": "builtin:shapes", "size": 192, "val_fraction": 0.25, "seed": 0}


def lenet(**training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["dataset"] = dict(TINY_DATA)
    doc["training"] = {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
                       "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}, **training}
    return doc


def chain(*layers: tuple[str, dict], **training) -> dict:
    """Input [3, 32, 32] followed by ``layers`` (type, params) in a chain."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [3, 32, 32]}}]
    for i, (kind, params) in enumerate(layers):
        nodes.append({"id": f"{kind.lower()}{i}", "type": kind, "params": params})
    edges = [{"from": a["id"], "to": b["id"]} for a, b in zip(nodes, nodes[1:])]
    doc = lenet(**training)
    doc["graph"] = {"nodes": nodes, "edges": edges}
    return doc


def every_step(trainer) -> None:
    """After setup: a probe round at every optimizer step, whatever it costs."""
    from engine.train.probe_context import ProbeContext
    from engine.train.probe_schedule import ProbeSchedule
    for cb in trainer.callbacks.callbacks:
        ctx = getattr(cb, "ctx", None)
        if isinstance(ctx, ProbeContext):
            ctx.schedule = ProbeSchedule(0.0, budget=math.inf)


def train(doc: dict, run_dir=None, *, each_step: bool = True):
    """(trainer, events, finished) of a run of ``doc``."""
    from engine.project.io import from_dict
    from engine.train.callbacks import EventStream
    from engine.train.trainer import Trainer
    events: list = []
    trainer = Trainer(from_dict(doc), run_dir=run_dir, callbacks=[EventStream(events.append)])
    trainer.setup()
    if each_step:
        every_step(trainer)
    finished = trainer.fit()
    assert finished.state == "finished", finished.error
    return trainer, events, finished


def of(events, kind):
    return [e for e in events if e.type == kind]


@pytest.fixture(scope="package")
def lenet_run(tmp_path_factory):
    """One LeNet-5 run with every probe at every step, shared by the read-only tests."""
    run_dir = tmp_path_factory.mktemp("probes") / "run"
    trainer, events, finished = train(lenet(epochs=3), run_dir)
    return trainer, events, finished, run_dir
