"""Project files: round trips keep every key, saves are atomic, older versions migrate."""
import json
import os
from pathlib import Path

import pytest

import engine.project.document as document
import engine.project.migrate as migrate
from engine.errors import ParamError, ProjectFormatError, UnreadableFileError
from engine.project import Project, dumps, load, loads, save

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"

RICH = {
    "format": "layerstudio-project",
    "version": 1,
    "name": "Ünïcode name",
    "author": {"who": "someone", "tags": [1, 2]},  # unknown top-level key
    "graph": {
        "layout": "manual",  # unknown key of graph
        "nodes": [
            {"id": "input", "type": "Input", "params": {"shape": [3, 8, 8], "dtype": "float32"}, "pos": [0, 0]},
            {"id": "conv", "type": "Conv2d", "params": {"out_channels": 4, "kernel_size": [3, 5], "padding": 1},
             "label": "first conv", "trainable": False, "color": "#ff0000", "notes": {"a": None}},
            {"id": "a", "type": "ReLU", "params": {}},
            {"id": "b", "type": "Sigmoid", "params": None},
            {"id": "cat", "type": "Concat", "params": {"dim": 1}},
            {"id": "flat", "type": "Flatten"},
            {"id": "fc", "type": "Linear", "params": {"out_features": 6}},
        ],
        "edges": [
            {"from": "input", "to": "conv"}, {"from": "conv", "to": "a", "port": 0},
            {"from": "conv", "to": "b", "style": "dashed"},  # unknown key of an edge
            {"from": "a", "to": "cat", "port": 0}, {"from": "b", "to": "cat", "port": 1},
            {"from": "cat", "to": "flat"}, {"from": "flat", "to": "fc"},
        ],
    },
    "dataset": {"source": "builtin:shapes", "val_fraction": 0.1, "future_option": [1, {"x": 2}]},
    "training": {"epochs": 3, "optimizer": {"type": "Adam", "lr": 0.001, "future": True}, "x": None},
}


def test_round_trip_keeps_every_key_outside_params():
    p = loads(json.dumps(RICH))
    out = json.loads(dumps(p))
    assert out["author"] == RICH["author"]
    assert out["graph"]["layout"] == "manual"
    assert out["dataset"] == RICH["dataset"] and out["training"] == RICH["training"]
    conv = out["graph"]["nodes"][1]
    # params: only what differs from the defaults, normalized; every other key kept as it was
    assert conv == {"id": "conv", "type": "Conv2d", "label": "first conv",
                    "params": {"out_channels": 4, "kernel_size": [3, 5], "padding": [1, 1]},
                    "trainable": False, "color": "#ff0000", "notes": {"a": None}}
    assert out["graph"]["nodes"][0] == {"id": "input", "type": "Input", "params": {"shape": [3, 8, 8]},
                                        "pos": [0.0, 0.0]}
    assert [e.get("port") for e in out["graph"]["edges"]] == [None, None, None, 0, 1, None, None]
    assert out["graph"]["edges"][2] == {"from": "conv", "to": "b", "style": "dashed"}
    # saving the loaded file again changes nothing
    assert dumps(loads(dumps(p))) == dumps(p)
    assert out["name"] == "Ünïcode name" and "Ünïcode" in dumps(p)  # written as UTF-8, not escaped


def test_unknown_params_key_is_refused():
    doc = json.loads(json.dumps(RICH))
    doc["graph"]["nodes"][2]["params"] = {"inplace": False, "slope": 0.1}
    with pytest.raises(ParamError) as e:
        loads(json.dumps(doc))
    assert e.value.node == "a" and e.value.key == "slope" and "inplace" in e.value.message


def test_defaults_are_filled_and_omitted_sections_get_defaults():
    p = loads(json.dumps({"format": "layerstudio-project", "version": 1,
                          "graph": {"nodes": [{"id": "input", "type": "Input"}]}}))
    assert p.name == "Untitled" and p.dataset == {"source": "builtin:shapes"} and p.training == {}
    assert p.input_shape() == (3, 32, 32)
    assert p.graph.to_dict() == {"nodes": [{"id": "input", "type": "Input", "params": {"shape": [3, 32, 32]}}],
                                 "edges": []}


def test_save_and_load(tmp_path):
    p = load(SAMPLE)
    save(p, tmp_path / "copy.json")
    assert load(tmp_path / "copy.json").to_dict() == p.to_dict()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["copy.json"]  # no temp file left


def test_atomic_save_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "project.json"
    save(load(SAMPLE), path)
    old = path.read_bytes()
    p = load(SAMPLE)
    p.name = "changed"

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save(p, path)
    assert path.read_bytes() == old
    assert sorted(x.name for x in tmp_path.iterdir()) == ["project.json"]


def test_atomic_save_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    path = tmp_path / "project.json"
    save(load(SAMPLE), path)
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        save(Project(name="other"), path)
    assert path.read_bytes() == old
    assert sorted(x.name for x in tmp_path.iterdir()) == ["project.json"]


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "project.json"
    save(load(SAMPLE), path)
    old = path.read_bytes()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(Project(name="other"), path)
    assert path.read_bytes() == old and len(list(tmp_path.iterdir())) == 1


def test_save_writes_lone_surrogates_escaped(tmp_path):
    p = load(SAMPLE)
    p.name = "bad \ud800 name"
    save(p, tmp_path / "x.json")
    assert load(tmp_path / "x.json").name == p.name


def test_migration_hook_upgrades_older_versions(monkeypatch):
    calls = []

    def v1_to_v2(doc):
        calls.append(doc["version"])
        doc = dict(doc)
        doc["name"] = doc.get("name", "") + " (migrated)"
        return doc

    def v2_to_v3(doc):
        calls.append(doc["version"])
        doc["graph"]["nodes"][0].setdefault("label", "from v2")
        return doc

    monkeypatch.setattr(migrate, "VERSION", 3)
    monkeypatch.setattr(document, "VERSION", 3)
    monkeypatch.setitem(migrate.MIGRATIONS, 1, v1_to_v2)
    monkeypatch.setitem(migrate.MIGRATIONS, 2, v2_to_v3)
    p = load(SAMPLE)
    assert calls == [1, 2]
    assert p.name == "LeNet-5 on shapes (migrated)" and p.graph.node("input").label == "from v2"
    assert p.to_dict()["version"] == 3
    calls.clear()
    v2 = json.loads(SAMPLE.read_text())
    v2["version"] = 2
    loads(json.dumps(v2))
    assert calls == [2]  # a version-2 file takes only the later step


@pytest.mark.parametrize("version,words", [(2, "version 2"), (0, "unknown"), (-1, "unknown"), (1.0, "whole"),
                                           (True, "whole"), (None, "whole")])
def test_versions_that_cannot_be_read(version, words):
    doc = json.loads(SAMPLE.read_text())
    doc["version"] = version
    with pytest.raises(ProjectFormatError) as e:
        loads(json.dumps(doc))
    assert e.value.key == "version" and words in e.value.message


def test_load_errors_name_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "layerstudio-project", "version": 1, "graph": {"nodes": [{"id": "a", "type": "X"}]}}')
    with pytest.raises(Exception) as e:
        load(path)
    assert e.value.message.startswith("broken.json: ") and e.value.node == "a"
    path.write_bytes(b"")
    with pytest.raises(UnreadableFileError):
        load(path)


def test_collecting_mode_lists_every_error_and_keeps_the_rest():
    doc = json.loads(json.dumps(RICH))
    doc["graph"]["nodes"][1]["params"]["out_channels"] = -4  # bad param: node kept with valid params
    doc["graph"]["nodes"].append({"id": "z", "type": "Nope"})  # unknown type: skipped
    doc["graph"]["edges"].append({"from": "z", "to": "fc", "port": 1})  # edge of a skipped node: silent
    doc["graph"]["edges"].append({"from": "fc", "to": "conv", "port": 1})  # cycle
    doc["training"] = 5
    errors = []
    p = loads(json.dumps(doc), errors=errors)
    assert [(type(e).__name__, e.node, e.key) for e in errors] == [
        ("ParamError", "conv", "out_channels"), ("UnknownTypeError", "z", "type"), ("CycleError", "conv", None),
        ("ProjectFormatError", None, "training")]
    assert "conv" in p.graph.nodes and p.graph.node("conv").params["kernel_size"] == (3, 5)
    assert p.graph.node("conv").params["out_channels"] != -4
    assert "z" not in p.graph.nodes and p.training == {}
    with pytest.raises(ParamError):
        loads(json.dumps(doc))  # without a list, the first error is raised
