"""Hypothesis fuzzing of the library API: documents and edit sequences raise only
LayerStudioError subclasses, never anything else (no blanket ``except Exception`` here: any
other exception fails the test). Derandomized by tests/conftest.py; about 20 s in total.

Two kinds of documents: generated from scratch by hypothesis strategies (shrinkable, but
slow to draw), and thousands of cheap mutations of the real templates (a seed drawn by
hypothesis drives ``random.Random``), which reach deep into inference on realistic graphs.
"""
import copy
import json
import math
import random
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import CATALOG
from engine.cli.check import Report, check_project
from engine.errors import LayerStudioError
from engine.graph import Graph
from engine.graph.inference import Inference
from engine.project import dumps, loads
from engine.project.io import from_dict, graph_from_dict, parse_json

TYPES = sorted(CATALOG)
HERE = Path(__file__).resolve().parent
IDS = ["input", "a", "b", "c", "conv", "x" * 128, "ü", "0", ""]

# -- values -------------------------------------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-3, 70), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 1e-9, 1e300, -0.0]),
    st.text(max_size=6), st.sampled_from(["float32", "int64", "zeros", "reflect", "tanh", "nearest", "same", "valid"]),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)


def param_value(p) -> st.SearchStrategy:
    """Mostly plausible values of a catalog parameter, sometimes anything."""
    plausible = {
        "int": st.integers(-2, 40), "float": st.floats(-1, 2), "bool": st.booleans(),
        "choice": st.sampled_from(p.choices or ("x",)), "str": st.text(max_size=4),
        "ints": st.one_of(st.integers(-1, 9), st.lists(st.integers(-1, 9), min_size=0, max_size=4)),
        "floats": st.one_of(st.floats(0, 4), st.lists(st.floats(0, 4), max_size=3)),
        "shape": st.lists(st.integers(-1, 40), min_size=0, max_size=5),
    }[p.kind]
    return st.one_of(plausible, plausible, plausible, json_values)


@st.composite
def params_for(draw, type_: str) -> dict:
    spec = CATALOG.get(type_)
    if spec is None or not spec.params:
        return draw(st.dictionaries(st.text(max_size=4), json_values, max_size=2))
    chosen = draw(st.lists(st.sampled_from(spec.params), unique_by=lambda p: p.name, max_size=4))
    out = {p.name: draw(param_value(p)) for p in chosen}
    if draw(st.integers(0, 9)) == 0:
        out[draw(st.text(max_size=5))] = draw(json_values)
    return out


@st.composite
def node_docs(draw) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(json_values)
    type_ = draw(st.one_of(st.sampled_from(TYPES), st.sampled_from(TYPES), json_values))
    d: dict[str, Any] = {"id": draw(st.one_of(st.sampled_from(IDS), st.text(max_size=8), json_values)),
                         "type": type_}
    if draw(st.booleans()):
        d["params"] = draw(params_for(type_)) if isinstance(type_, str) else draw(json_values)
    for key, values in (("pos", st.one_of(st.lists(st.floats(), max_size=3), json_values)),
                        ("label", st.one_of(st.text(max_size=5), json_values)),
                        ("trainable", st.one_of(st.booleans(), json_values)),
                        (draw(st.text(max_size=4)), json_values)):
        if draw(st.integers(0, 4)) == 0:
            d[key] = draw(values)
    if draw(st.integers(0, 20)) == 0:
        del d[draw(st.sampled_from(["id", "type"]))]
    return d


@st.composite
def documents(draw) -> Any:
    nodes = draw(st.lists(node_docs(), max_size=10))
    ids = [n["id"] for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)] or ["a"]
    endpoint = st.one_of(st.sampled_from(ids), st.sampled_from(ids), json_values)
    edge = st.fixed_dictionaries({"from": endpoint, "to": endpoint},
                                 optional={"port": st.one_of(st.integers(-1, 5), json_values)})
    edges = draw(st.lists(st.one_of(edge, edge, edge, json_values), max_size=14))
    graph: Any = {"nodes": nodes, "edges": edges}
    if draw(st.integers(0, 30)) == 0:
        graph = draw(json_values)
    doc = {"format": draw(st.one_of(st.just("layerstudio-project"), st.just("layerstudio-project"), json_values)),
           "version": draw(st.one_of(st.just(1), st.just(1), st.integers(-1, 3), json_values)),
           "graph": graph}
    for key in ("name", "dataset", "training", draw(st.text(max_size=4))):
        if draw(st.booleans()):
            doc[key] = draw(st.one_of(
                json_values,
                st.fixed_dictionaries({}, optional={"source": st.sampled_from(
                    ["builtin:shapes", "builtin:waves", "builtin:", "folder:x", "folder:\x00", "folder:" + "a" * 5000,
                     "torchvision:MNIST", "q"]),
                                                    "epochs": st.integers(-1, 3), "batch_size": json_values,
                                                    "optimizer": st.one_of(json_values, st.fixed_dictionaries(
                                                        {}, optional={"type": st.sampled_from(["SGD", "Adam"]),
                                                                      "lr": json_values,
                                                                      "momentum": json_values}))})))
    if draw(st.integers(0, 30)) == 0:
        return draw(json_values)
    return doc


def exercise(graph: Graph) -> None:
    """Every query a user's edit triggers; none may raise anything."""
    inf = Inference(graph)
    inf.all()
    inf.totals()
    inf.diagnostics()
    inf.close()


def expect_layerstudio_error(fn, *args, **kwargs):
    """Run fn; a LayerStudioError is an accepted answer, anything else propagates (fails)."""
    try:
        return fn(*args, **kwargs)
    except LayerStudioError as e:
        assert isinstance(e.message, str) and e.message and "\n" not in e.message.strip()
        assert e.node is None or isinstance(e.node, str)
        assert e.key is None or isinstance(e.key, str)
        return None


@settings(max_examples=300)
@given(documents())
def test_documents_raise_only_typed_errors(doc):
    project = expect_layerstudio_error(from_dict, doc)
    if project is not None:
        exercise(project.graph)
        text = dumps(project)
        again = loads(text)  # whatever loads, saves and loads again identically
        assert again.to_dict() == json.loads(text) or _has_nan(project.to_dict())
    errors: list[LayerStudioError] = []
    collected = expect_layerstudio_error(from_dict, doc, errors=errors)
    assert all(isinstance(e, LayerStudioError) for e in errors)
    if collected is not None:
        exercise(collected.graph)
        loads(dumps(collected))  # what collecting mode keeps is itself valid
        report = Report(path="fuzz.json")  # and `layerstudio check` reports on it without failing
        check_project(collected, report, base_dir=HERE, tainted={e.node for e in errors if e.node})
        json.dumps(report.to_json())
    if project is not None:
        assert errors == [] and collected.to_dict() == project.to_dict()


def _has_nan(value) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return False


@settings(max_examples=200)
@given(st.one_of(st.binary(max_size=64), st.text(max_size=64)))
def test_bytes_raise_only_typed_errors(data):
    expect_layerstudio_error(loads, data)
    expect_layerstudio_error(parse_json, data)


# -- mutations of real projects ----------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
SEEDS = [json.loads(p.read_text(encoding="utf-8"))
         for p in [ROOT / "assets" / "sample.json", *sorted((ROOT / "assets" / "templates").glob("*.json"))]]
NASTY = [None, True, False, 0, -1, 1, 2, 3, 64, 65, 2**31, 2**63, 10**30, -10**30, 0.5, -0.0, 1e308, 1e-308,
         float("nan"), float("inf"), float("-inf"), "", "x", "input", "Conv2d", "builtin:shapes", "\u0000",
         "folder:" + "a" * 5000, "folder:\u0000", "builtin:waves", "\ud800", "a" * 200, [], [0], [1, 2],
         [-1, -1], [3, 32, 32], {}, {"a": 1}, [[]], {"": None}]


def _nasty(rng: random.Random, doc) -> Any:
    if rng.random() < 0.3:
        ids = [n.get("id") for n in doc.get("graph", {}).get("nodes", []) if isinstance(n, dict)] \
            if isinstance(doc.get("graph"), dict) and isinstance(doc["graph"].get("nodes"), list) else []
        if ids:
            return rng.choice(ids)
    if rng.random() < 0.2:
        return rng.choice(sorted(CATALOG))
    return copy.deepcopy(rng.choice(NASTY))


def _containers(value, out):
    if isinstance(value, dict):
        out.append(value)
        for v in value.values():
            _containers(v, out)
    elif isinstance(value, list):
        out.append(value)
        for v in value:
            _containers(v, out)
    return out


def mutate(rng: random.Random, doc: dict) -> dict:
    """One to four random structural mutations anywhere in the document."""
    for _ in range(rng.randint(1, 4)):
        target = rng.choice(_containers(doc, []))
        if isinstance(target, dict):
            key = rng.choice(list(target) + ["params", "port", "pos", "extra"])
            r = rng.random()
            if r < 0.25 and key in target:
                del target[key]
            elif r < 0.35 and key in target:
                target[rng.choice(["k", "", "id", "type", "\\ud800"])] = target[key]
            else:
                target[key] = _nasty(rng, doc)
        elif target:
            i = rng.randrange(len(target))
            r = rng.random()
            if r < 0.3:
                del target[i]
            elif r < 0.5:
                target.insert(rng.randrange(len(target) + 1), copy.deepcopy(target[i]))
            elif r < 0.6:
                j = rng.randrange(len(target))
                target[i], target[j] = target[j], target[i]
            else:
                target[i] = _nasty(rng, doc)
        else:
            target.append(_nasty(rng, doc))
    return doc


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1))
def test_mutated_projects_raise_only_typed_errors(seed):
    rng = random.Random(seed)
    for _ in range(5):  # 1500 documents in all
        doc = mutate(rng, copy.deepcopy(rng.choice(SEEDS)))
        test_documents_raise_only_typed_errors.hypothesis.inner_test(doc)
        if rng.random() < 0.2:  # and damaged text
            text = bytearray(json.dumps(doc).encode())
            for _ in range(rng.randint(1, 3)):
                text[rng.randrange(len(text))] = rng.choice(b'{}[]",:0\\ \x00\xff')
            expect_layerstudio_error(loads, bytes(text))


# -- edit sequences -------------------------------------------------------------------------------
node_ids = st.sampled_from(["input", "a", "b", "c", "d", "e"])


@st.composite
def edits(draw):
    op = draw(st.sampled_from(["add", "add", "add", "connect", "connect", "connect", "connect", "remove",
                               "disconnect", "set_params", "set_params", "move", "label", "trainable"]))
    n = draw(node_ids)
    if op == "add":
        type_ = draw(st.sampled_from(TYPES + ["Input", "Conv2d", "ReLU", "Add", "Linear", "Flatten"]))
        return op, (n, type_, draw(params_for(type_)))
    if op in ("connect", "disconnect"):
        return op, (n, draw(node_ids), draw(st.one_of(st.none(), st.integers(-1, 4))))
    if op == "set_params":
        type_ = draw(st.sampled_from(TYPES))
        return op, (n, draw(params_for(type_)))
    if op == "move":
        return op, (n, draw(st.one_of(st.tuples(st.floats(), st.floats()), json_values)))
    if op == "label":
        return op, (n, draw(st.one_of(st.text(max_size=4), json_values)))
    if op == "trainable":
        return op, (n, draw(st.one_of(st.booleans(), json_values)))
    return op, (n,)


def apply_edit(g: Graph, op: str, args: tuple) -> None:
    if op == "add":
        n, type_, params = args
        g.add_node(n, type_, params)
    elif op == "connect":
        g.connect(*args)
    elif op == "disconnect":
        src, dst, port = args
        g.disconnect(src, dst, port or 0)
    elif op == "remove":
        g.remove_node(*args)
    elif op == "set_params":
        g.set_params(*args)
    elif op == "move":
        g.move(*args)
    elif op == "label":
        g.set_label(*args)
    elif op == "trainable":
        g.set_trainable(*args)


def snapshot(inf: Inference):
    return inf.all(), sorted(inf.diagnostics(), key=repr), inf.totals()


@settings(max_examples=200)
@given(st.lists(edits(), min_size=1, max_size=40))
def test_edit_sequences_raise_only_typed_errors_and_inference_stays_exact(ops):
    g = Graph()
    g.add_node("input", "Input", {"shape": [3, 8, 8]})
    inf = Inference(g, batch_size=4)
    for op, args in ops:
        expect_layerstudio_error(apply_edit, g, op, args)
        inf.info("input")  # the editor queries after every edit
        inf.diagnostics()
    # incremental results equal those of a fresh inference over a reloaded copy
    copy = graph_from_dict(g.to_dict())
    assert list(copy.nodes) == list(g.nodes) and copy.edges == g.edges
    assert snapshot(inf) == snapshot(Inference(copy, batch_size=4))
    assert loads(dumps_graph(g)).graph.to_dict() == g.to_dict()


def dumps_graph(g: Graph) -> str:
    return json.dumps({"format": "layerstudio-project", "version": 1, "graph": g.to_dict()})
