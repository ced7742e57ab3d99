"""Tiny projects for the training tests: LeNet-5 (with a Dropout, so the torch generator
matters for exact resume) on 192 generated shapes, batch 32, on the CPU."""
import copy
import json
from pathlib import Path

from engine.project.io import from_dict

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = json.loads((ROOT / "assets" / "sample.json").read_text())
TINY_DATA = {"source": "builtin:shapes", "size": 192, "val_fraction": 0.25, "seed": 0}


def project_dict(*, dropout: bool = True, data: dict | None = None, **training) -> dict:
    doc = copy.deepcopy(SAMPLE)
    doc["name"] = "tiny lenet"
    if dropout:
        g = doc["graph"]
        g["nodes"].insert(9, {"id": "drop", "type": "Dropout", "params": {"p": 0.3}})
        g["edges"] = [e for e in g["edges"] if not (e["from"] == "relu3" and e["to"] == "fc2")]
        g["edges"] += [{"from": "relu3", "to": "drop"}, {"from": "drop", "to": "fc2"}]
    doc["dataset"] = dict(TINY_DATA, **(data or {}))
    base = {"epochs": 2, "batch_size": 32, "seed": 0, "device": "cpu", "threads": 1,
            "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}}
    for k, v in training.items():
        if k == "optimizer" and v.get("type", "SGD") != "SGD":
            base[k] = v  # another optimizer: SGD's momentum would not apply
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    doc["training"] = base
    return doc


def make_project(**kw):
    return from_dict(project_dict(**kw))
