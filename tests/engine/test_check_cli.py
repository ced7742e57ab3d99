"""``layerstudio check``: table, --json, exit codes, and every kind of bad input.

Most cases call the CLI in-process (fast); a few run it as a real subprocess to check the
start-up time, that torch is never imported and that no traceback reaches the user.
"""
import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.cli.main import main as cli_main
from studio.cli import main as studio_main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"
BASE = json.loads(SAMPLE.read_text(encoding="utf-8"))


def doc(**changes):
    d = copy.deepcopy(BASE)
    d.update(changes)
    return d


def node(d, node_id):
    return next(n for n in d["graph"]["nodes"] if n["id"] == node_id)


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def json(self):
        return json.loads(self.out)


@pytest.fixture
def check(tmp_path, capsys):
    def run(content, *args, name="project.json"):
        path = tmp_path / name
        if isinstance(content, (dict, list)):
            content = json.dumps(content)
        if isinstance(content, str):
            content = content.encode("utf-8")
        if content is not None:
            path.write_bytes(content)
        code = cli_main(["check", str(path), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)
    return run


def assert_one_error(r: Result, code: int, *words: str):
    """Exit code, one line on stderr naming what is wrong, same in --json, no traceback."""
    assert r.code == code, (r.code, r.out, r.err)
    lines = [ln for ln in r.err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err + r.out
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def assert_json_error(r: Result, code: int, node=None, key=None):
    assert r.code == code
    rep = r.json
    assert rep["valid"] is False and rep["errors"], rep
    assert set(rep) >= {"valid", "nodes", "total_params", "total_flops", "errors"}
    err = rep["errors"][0]
    assert set(err) >= {"node", "key", "message"}
    if node is not None:
        assert err["node"] == node
    if key is not None:
        assert err["key"] == key
    return err


# -- success ---------------------------------------------------------------------------------
def test_sample_table(check):
    r = check(BASE)
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[1].split() == ["id", "type", "output", "shape", "params", "FLOPs"]
    conv1 = next(ln for ln in lines if ln.startswith("conv1 "))
    assert conv1.split()[:2] == ["conv1", "Conv2d"] and "[6, 28, 28]" in conv1 and "456" in conv1
    assert "706 K" in conv1  # 2·6·3·25·28·28 = 705,600 FLOPs
    total = next(ln for ln in lines if ln.startswith("total"))
    assert "61,666" in total
    assert lines[-1].startswith("valid: 13 nodes, 61,666 parameters")


def test_sample_json(check):
    r = check(BASE, "--json")
    assert r.code == 0
    rep = r.json
    assert rep["valid"] is True and rep["errors"] == [] and rep["total_params"] == 61666
    assert rep["total_flops"] == sum(n["flops"] for n in rep["nodes"]) == 1302768
    assert [n["id"] for n in rep["nodes"]][:3] == ["input", "conv1", "relu1"]
    assert rep["nodes"][1] == {"id": "conv1", "type": "Conv2d", "output_shape": [6, 28, 28], "params": 456,
                               "flops": 705600, "elementwise": 0}


def test_every_error_is_listed_and_unknown_values_are_null(check):
    d = doc(training={"optimizer": {"type": "SGD", "lr": 0}, "epochs": -1})
    node(d, "conv2")["params"]["kernel_size"] = 0
    node(d, "fc2")["params"]["bias"] = "yes"
    r = check(d, "--json")
    assert r.code == 1
    rep = r.json
    assert {(e["node"], e["key"]) for e in rep["errors"]} == {
        ("conv2", "kernel_size"), ("fc2", "bias"), (None, "training.optimizer.lr"), (None, "training.epochs")}
    by_id = {n["id"]: n for n in rep["nodes"]}
    assert by_id["conv1"]["output_shape"] == [6, 28, 28]
    # downstream of a refused parameter nothing is known: null, not a guess
    assert by_id["conv2"]["output_shape"] is None and by_id["fc3"]["params"] is None
    assert rep["total_params"] is None and rep["total_flops"] is None
    r = check(d)
    assert r.code == 1 and len([ln for ln in r.err.splitlines() if ln.startswith("error:")]) == 4
    assert r.err.splitlines()[-1] == "invalid: 4 errors"


def test_warnings_do_not_make_it_invalid(check):
    d = doc(training={**BASE["training"], "my_note": "kept"}, dataset={"source": "folder:no/such/dir"})
    r = check(d, "--json")
    assert r.code == 0 and r.json["valid"] is True
    keys = {w["key"] for w in r.json["warnings"]}
    assert "training.my_note" in keys and "dataset.source" in keys
    r = check(d)
    assert r.code == 0 and "warning: training.my_note" in r.err


def test_linear_after_feature_map_is_a_hint(check):
    d = copy.deepcopy(BASE)
    d["graph"]["nodes"].insert(1, {"id": "lin", "type": "Linear", "params": {"out_features": 32}})
    d["graph"]["edges"][0] = {"from": "input", "to": "lin"}
    d["graph"]["edges"].insert(1, {"from": "lin", "to": "conv1"})
    r = check(d, "--json")
    assert r.code == 0 and any(w["severity"] == "hint" and w["node"] == "lin" for w in r.json["warnings"])


# -- graph diagnostics and dataset agreement ----------------------------------------------------
def test_shape_mismatch_names_the_node(check):
    d = copy.deepcopy(BASE)
    d["graph"]["nodes"].append({"id": "skip", "type": "Add"})
    d["graph"]["edges"] = [e for e in d["graph"]["edges"] if e["to"] != "conv2"] + [
        {"from": "relu1", "to": "skip", "port": 0}, {"from": "pool1", "to": "skip", "port": 1},
        {"from": "skip", "to": "conv2"}]
    line = assert_one_error(check(d), 1, "skip", "[6, 28, 28] and [6, 14, 14]")
    assert line == "error: skip: Add: inputs have shapes [6, 28, 28] and [6, 14, 14]"
    rep = check(d, "--json").json
    assert rep["errors"][0]["node"] == "skip"
    by_id = {n["id"]: n for n in rep["nodes"]}
    assert by_id["pool1"]["output_shape"] == [6, 14, 14] and by_id["fc3"]["output_shape"] is None


def test_output_must_match_the_class_count(check):
    d = copy.deepcopy(BASE)
    node(d, "fc3")["params"]["out_features"] = 10
    line = assert_one_error(check(d), 1, "fc3", "10", "6 classes")
    assert "out_features" in line
    assert_json_error(check(d, "--json"), 1, node="fc3", key="out_features")
    d["dataset"] = {"source": "builtin:waves"}
    node(d, "input")["params"]["shape"] = [1, 128]
    assert check(d).code == 1  # waves have 4 classes (and the convs are 2-D: more errors)


def test_output_that_is_not_one_score_per_class(check):
    d = copy.deepcopy(BASE)
    d["graph"]["nodes"] = d["graph"]["nodes"][:2]
    d["graph"]["edges"] = d["graph"]["edges"][:1]
    assert_one_error(check(d), 1, "conv1", "[6, 28, 28]", "[6]")


def test_input_must_match_a_builtin_dataset(check):
    d = copy.deepcopy(BASE)
    node(d, "input")["params"]["shape"] = [1, 32, 32]
    assert_one_error(check(d), 1, "input", "[3, 32, 32]", "[1, 32, 32]")
    assert_json_error(check(d, "--json"), 1, node="input", key="shape")


def test_bad_dataset_source(check):
    assert_one_error(check(doc(dataset={"source": "builtin:nope"})), 1, "dataset.source", "nope")
    assert_one_error(check(doc(dataset={"source": "http://x"})), 1, "dataset.source")
    assert_json_error(check(doc(dataset={"source": 5}), "--json"), 1, key="dataset.source")


@pytest.mark.parametrize("source", ["folder:" + "a" * 5000, "folder:a\u0000b", "folder:/proc/self/mem/x",
                                    "folder:" + "../" * 200 + "no_such_dir"])
def test_odd_folder_paths_are_a_warning(check, source):
    r = check(doc(dataset={"source": source}), "--json")
    assert r.code == 0 and [w["key"] for w in r.json["warnings"]] == ["dataset.source"]


def test_data_that_is_not_here_is_not_an_error(check):
    d = doc(dataset={"source": "torchvision:MNIST", "val_fraction": 0.1})
    node(d, "input")["params"]["shape"] = [1, 28, 28]
    node(d, "fc3")["params"]["out_features"] = 10
    node(d, "conv1")["params"]["padding"] = 2
    r = check(d, "--json")
    assert r.code == 0, r.json["errors"]


# -- files that cannot be used (exit 2) ------------------------------------------------------------
@pytest.mark.parametrize("content,words", [
    (b"", ["empty"]),
    (b"   \n\t ", ["empty"]),
    (b"{\"format\": ", ["not valid JSON", "line 1"]),
    (b"hello", ["not valid JSON"]),
    (b"\x00\x01\x02\xff" * 100, ["binary"]),
    (b"\xff\xfe{\x00}", ["binary"]),
    (b"{\"name\": \"\xe9\"}", ["UTF-8"]),
    (b"[" * 100_000, ["nested"]),
    (b"{\"a\":" * 100_000, ["nested"]),
])
def test_unusable_files(check, content, words):
    t = time.perf_counter()
    r = check(content)
    assert time.perf_counter() - t < 1.0
    assert_one_error(r, 2, *words)
    r = check(content, "--json")
    assert_json_error(r, 2)
    assert r.json["nodes"] == [] and r.json["total_params"] is None


def test_missing_file_and_folder(check, tmp_path):
    assert_one_error(check(None, name="missing.json"), 2, "missing.json", "no such file")
    (tmp_path / "dir.json").mkdir()
    assert_one_error(check(None, name="dir.json"), 2, "folder")
    assert_json_error(check(None, "--json", name="missing.json"), 2)


def test_unreadable_file(check, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "locked.json"
    path.write_text("{}")
    path.chmod(0)
    assert_one_error(check(None, name="locked.json"), 2, "permission")


@pytest.mark.parametrize("argv,words", [
    (["check"], ["required"]),
    (["check", "a.json", "b.json"], ["unrecognized"]),
    (["check", "--bogus", "a.json"], ["unrecognized"]),
    (["chekc", "x"], ["unknown command"]),
])
def test_usage_errors(capsys, argv, words):
    assert cli_main(argv) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err


# -- documents that are not valid projects (exit 1) -------------------------------------------------
def edges_plus(*extra):
    d = copy.deepcopy(BASE)
    d["graph"]["edges"] += list(extra)
    return d


def nodes_plus(*extra):
    d = copy.deepcopy(BASE)
    d["graph"]["nodes"] += list(extra)
    return d


def with_param(node_id, **params):
    d = copy.deepcopy(BASE)
    node(d, node_id).setdefault("params", {}).update(params)
    return d


CASES = {
    "not an object": ([1, 2, 3], None, None, ["JSON object"]),
    "wrong format": (doc(format="keras"), None, "format", ["format", "keras"]),
    "no format": ({k: v for k, v in BASE.items() if k != "format"}, None, "format", ["format"]),
    "future version": (doc(version=99), None, "version", ["version 99", "Update"]),
    "version not a number": (doc(version="1"), None, "version", ["version"]),
    "graph not an object": (doc(graph=[]), None, "graph", ["graph"]),
    "nodes not a list": (doc(graph={"nodes": {}, "edges": []}), None, "graph.nodes", ["graph.nodes"]),
    "node not an object": (nodes_plus(5), None, "graph.nodes[13]", ["graph.nodes[13]"]),
    "node without type": (nodes_plus({"id": "x"}), None, "graph.nodes[13]", ["id and a type"]),
    "cycle": (edges_plus({"from": "relu2", "to": "conv1", "port": 1}), "conv1", None, ["cycle"]),
    "cycle via free port": (doc(graph={"nodes": [{"id": "a", "type": "Add"}, {"id": "b", "type": "ReLU"}],
                                       "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a", "port": 0}]}),
                            "a", None, ["cycle"]),
    "self edge": (edges_plus({"from": "relu1", "to": "relu1", "port": 1}), "relu1", None, ["itself"]),
    "unknown node": (edges_plus({"from": "ghost", "to": "fc1", "port": 3}), "ghost", None, ["ghost"]),
    "unknown port": (edges_plus({"from": "input", "to": "fc1", "port": -1}), "fc1", "port", ["port"]),
    "port not a number": (edges_plus({"from": "input", "to": "fc1", "port": "1"}), "fc1", "port", ["port"]),
    "taken port": (edges_plus({"from": "input", "to": "fc1"}), "fc1", "port", ["already"]),
    "unknown type": (nodes_plus({"id": "x", "type": "Conv9d"}), "x", "type", ["Conv9d"]),
    "type not text": (nodes_plus({"id": "x", "type": ["Conv2d"]}), "x", "type", ["type"]),
    "duplicate id": (nodes_plus({"id": "conv1", "type": "ReLU"}), "conv1", "id", ["conv1", "exists"]),
    "empty id": (nodes_plus({"id": "", "type": "ReLU"}), None, "id", ["id"]),
    "id not text": (nodes_plus({"id": 7, "type": "ReLU"}), None, "id", ["id"]),
    "id too long": (nodes_plus({"id": "x" * 129, "type": "ReLU"}), None, "id", ["longer"]),
    "id with control character": (nodes_plus({"id": "a\u009bb", "type": "ReLU"}), "a\u009bb", "id", ["control"]),
    "ill-typed param": (with_param("conv1", out_channels="6"), "conv1", "out_channels", ["conv1", "out_channels"]),
    "bool for int": (with_param("conv1", out_channels=True), "conv1", "out_channels", ["out_channels"]),
    "fractional int": (with_param("conv1", out_channels=6.5), "conv1", "out_channels", ["whole number"]),
    "NaN param": ('NaN', "fc2", "out_features", ["fc2", "out_features"]),
    "Infinity param": ('Infinity', "fc2", "out_features", ["fc2", "out_features"]),
    "negative param": (with_param("conv2", out_channels=-16), "conv2", "out_channels", ["conv2", "≥ 1", "-16"]),
    "zero kernel": (with_param("conv1", kernel_size=0), "conv1", "kernel_size", ["kernel_size"]),
    "out of range": (with_param("pool1", kernel_size=10**20), "pool1", "kernel_size", ["kernel_size"]),
    "wrong tuple length": (with_param("conv1", kernel_size=[3, 3, 3]), "conv1", "kernel_size", ["kernel_size"]),
    "bad choice": (with_param("conv1", padding_mode="mirror"), "conv1", "padding_mode", ["padding_mode"]),
    "unknown param key": (with_param("conv1", out_chanels=6), "conv1", "out_chanels", ["out_chanels"]),
    "params not an object": (nodes_plus({"id": "x", "type": "ReLU", "params": [1]}), "x", "params", ["params"]),
    "negative input shape": (with_param("input", shape=[3, -32, 32]), "input", "shape", ["input", "shape"]),
    "empty input shape": (with_param("input", shape=[]), "input", "shape", ["shape"]),
    "input shape too large": (with_param("input", shape=[10**6] * 4), "input", "shape", ["10^15"]),
    "bad pos": (nodes_plus({"id": "x", "type": "ReLU", "pos": [0, "a"]}), "x", "pos", ["pos"]),
    "bad trainable": (nodes_plus({"id": "x", "type": "ReLU", "trainable": "no"}), "x", "trainable", ["trainable"]),
    "bad label": (nodes_plus({"id": "x", "type": "ReLU", "label": 3}), "x", "label", ["label"]),
    "name not text": (doc(name=["x"]), None, "name", ["name"]),
    "training not an object": (doc(training=[]), None, "training", ["training"]),
    "bad setting": (doc(training={"optimizer": {"lr": "fast"}}), None, "training.optimizer.lr", ["lr"]),
    "NaN setting": ('NaN-setting', None, "training.optimizer.lr", ["lr"]),
    "setting group not an object": (doc(training={"optimizer": 1}), None, "training.optimizer", ["object"]),
    "setting that does not apply": (doc(training={"optimizer": {"type": "Adam", "momentum": 0.9}}), None,
                                    "training.optimizer.momentum", ["only applies"]),
    "val_fraction out of range": (doc(dataset={"source": "builtin:shapes", "val_fraction": 1.5}), None,
                                  "dataset.val_fraction", ["val_fraction"]),
}


def _content(case):
    if case == "NaN":
        return json.dumps(BASE).replace('"out_features": 84', '"out_features": NaN')
    if case == "Infinity":
        return json.dumps(BASE).replace('"out_features": 84', '"out_features": -Infinity')
    if case == "NaN-setting":
        return json.dumps(BASE).replace('"lr": 0.05', '"lr": NaN')
    return case


@pytest.mark.parametrize("name", list(CASES))
def test_invalid_projects(check, name):
    content, node_id, key, words = CASES[name]
    content = _content(content)
    assert_one_error(check(content), 1, *words)
    err = assert_json_error(check(content, "--json"), 1, node=node_id, key=key)
    assert "\n" not in err["message"]


def test_an_impossible_graph_is_refused_with_one_error_per_problem(check):
    d = copy.deepcopy(BASE)
    d["graph"]["nodes"] += [{"id": "conv1", "type": "ReLU"}, {"id": "z", "type": "Nope"}]
    d["graph"]["edges"] += [{"from": "z", "to": "fc3", "port": 1}, {"from": "relu4", "to": "relu4"}]
    rep = check(d, "--json").json
    # the edge from the refused node "z" is not reported again
    assert [(e["node"], e["key"]) for e in rep["errors"]] == [("conv1", "id"), ("z", "type"), ("relu4", None)]


# -- huge layers, and ids that are data ---------------------------------------------------------------
def test_huge_layer_is_answered_instantly(check):
    d = doc(graph={"nodes": [
        {"id": "input", "type": "Input", "params": {"shape": [1, 1_000_000, 1_000_000]}},
        {"id": "conv", "type": "Conv2d", "params": {"out_channels": 1, "kernel_size": 1}},
        {"id": "pool", "type": "AdaptiveAvgPool2d", "params": {"output_size": 1}},
        {"id": "flat", "type": "Flatten"},
        {"id": "fc", "type": "Linear", "params": {"out_features": 6}}],
        "edges": [{"from": "input", "to": "conv"}, {"from": "conv", "to": "pool"}, {"from": "pool", "to": "flat"},
                  {"from": "flat", "to": "fc"}]}, dataset={"source": "folder:elsewhere"})
    t = time.perf_counter()
    r = check(d, "--json")
    assert time.perf_counter() - t < 0.5
    assert r.code == 0, r.json
    conv = r.json["nodes"][1]
    assert conv["output_shape"] == [1, 10**6, 10**6] and conv["flops"] == 2 * 10**12  # 2·1·1·1²·10¹²
    assert "2 T" in check(d).out


HOSTILE = ["__import__('os').system('touch pwned')", "'; import os; os.system(\"touch pwned\") #",
           '"); touch pwned; echo ("', "{0.__class__.__mro__}", "%s%s%n", "$(touch pwned)", "`touch pwned`",
           "<script>alert(1)</script>", "\\", "ünïcødé ✓ 𝔁", "a" * 128, "self", "None", "True", "0", "-1",
           " lead and trail ", "torch.nn", "__class__", "x.y[0]"]


def test_hostile_ids_are_only_data(check, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nodes = [{"id": HOSTILE[0], "type": "Input", "params": {"shape": [8]}}]
    edges = []
    for prev, cur in zip(HOSTILE, HOSTILE[1:]):
        nodes.append({"id": cur, "type": "ReLU", "label": cur})
        edges.append({"from": prev, "to": cur})
    nodes.append({"id": "out", "type": "Linear", "params": {"out_features": 6}})
    edges.append({"from": HOSTILE[-1], "to": "out"})
    d = doc(name=HOSTILE[0], graph={"nodes": nodes, "edges": edges}, dataset={"source": "folder:data"})
    r = check(d, "--json")
    assert r.code == 0, r.json
    assert [n["id"] for n in r.json["nodes"]] == HOSTILE + ["out"]
    r = check(d)
    assert r.code == 0 and "\n" + HOSTILE[0][:31] in r.out
    assert not (tmp_path / "pwned").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.json"]


def test_hostile_text_cannot_reach_the_terminal(check):
    d = copy.deepcopy(BASE)
    d["name"] = "evil\x1b[2J\u009b31m"  # names are free text; printed escaped
    node(d, "conv1")["params"]["padding_mode"] = "\x1b]0;owned\x07"
    r = check(d)
    assert r.code == 1
    assert "\x1b" not in r.out + r.err and "\u009b" not in r.out + r.err and "\x07" not in r.err
    assert "\\x1b" in r.out


# -- the real command line ----------------------------------------------------------------------------
def run_cli(*args, cwd=ROOT, env_extra=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.update(env_extra or {})
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "studio", *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=60)
    return p, time.perf_counter() - t


def test_subprocess_answers_in_under_a_second():
    # best of two: the first may pay for cold disk caches on a busy machine
    (p, t1), (_, t2) = run_cli("check", "assets/sample.json"), run_cli("check", "assets/sample.json")
    assert p.returncode == 0 and "valid: 13 nodes" in p.stdout and p.stderr == ""
    assert min(t1, t2) < 1.0, (t1, t2)


def test_subprocess_bad_inputs_have_no_traceback(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "bad.json").write_text(json.dumps(with_param("conv1", kernel_size=-1)))
    for name, code in (("deep.json", 2), ("bad.json", 1), ("missing.json", 2)):
        p, t = run_cli("check", str(tmp_path / name))
        assert p.returncode == code and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) <= 2 and t < 5
        p, _ = run_cli("check", "--json", str(tmp_path / name))
        assert p.returncode == code and json.loads(p.stdout)["valid"] is False


def test_check_never_imports_torch():
    code = ("import sys; from studio.cli import main; "
            "assert main(['check', 'assets/templates/resnet.json']) == 0; "
            "assert main(['check', 'assets/templates/signal_1d.json', '--json']) == 0; "
            "bad = [m for m in ('torch', 'torchvision', 'PySide6', 'numpy.core._multiarray_tests') if m in sys.modules]; "
            "print('IMPORTED', bad)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "IMPORTED []" in p.stdout


def test_layerstudio_without_window_prints_the_sample_check(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "studio.app", None)  # as before the window existed
    assert studio_main([]) == 0
    out, err = capsys.readouterr()
    assert "valid: 13 nodes" in out and "not available yet" in err


def test_layerstudio_opens_the_window_on_the_sample_or_a_file(monkeypatch, tmp_path):
    import types
    opened = []
    fake = types.ModuleType("studio.app")
    fake.run = lambda path=None: opened.append(path) or 0
    monkeypatch.setitem(sys.modules, "studio.app", fake)  # the real one needs a display
    assert studio_main([]) == 0
    assert studio_main(["open", str(SAMPLE)]) == 0
    assert studio_main(["open", str(tmp_path)]) == 0  # a run directory
    assert opened == [None, str(SAMPLE), str(tmp_path)]


def test_open_usage(capsys, tmp_path):
    assert studio_main(["open"]) == 2
    assert studio_main(["open", str(tmp_path / "nope.json")]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 2 and "no such file" in err


def test_help_lists_commands(capsys):
    assert studio_main(["--help"]) == 0
    out, _ = capsys.readouterr()
    assert "check" in out and "open FILE|RUN_DIR" in out
