"""Export to Python: the golden file, equality with engine.build, weights, hostile ids and labels.

The exported file must read like hand-written code, need torch alone, and compute exactly what
the engine's own module computes with the same state dict.
"""
import ast
import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import torch

from engine.build import build_module, example_inputs
from engine.export.python_code import python_source
from engine.export.python_format import load_class
from engine.export.text import class_name, comment_text
from engine.graph import Graph
from engine.project import Project, load

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"
TEMPLATES = sorted((ROOT / "assets" / "templates").glob("*.json"))
GOLDEN = Path(__file__).parent / "golden" / "sample_export.py"


def write_and_load(project: Project, tmp_path: Path, name: str = "net.py"):
    path = tmp_path / name
    path.write_text(python_source(project), encoding="utf-8")
    return load_class(path, class_name(project.name))


def test_sample_matches_golden_file():
    source = python_source(load(SAMPLE), weights_file="net.pt")
    if os.environ.get("LAYERSTUDIO_UPDATE_GOLDEN"):
        GOLDEN.write_text(source, encoding="utf-8")
    assert source == GOLDEN.read_text(encoding="utf-8"), \
        "export changed; if intended, rerun with LAYERSTUDIO_UPDATE_GOLDEN=1 and review the diff"


@pytest.mark.parametrize("path", [SAMPLE, *TEMPLATES], ids=lambda p: p.stem)
def test_exported_class_reproduces_build_module(path, tmp_path):
    project = load(path)
    torch.manual_seed(0)
    gm = build_module(project.graph).eval()
    net = write_and_load(project, tmp_path)().eval()
    # same attribute names as the engine's submodules: one state dict fits both, strictly
    assert set(net.state_dict()) == set(gm.state_dict())
    net.load_state_dict(gm.state_dict(), strict=True)
    x = example_inputs(gm, batch_size=3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(net(*x), gm(*x), atol=1e-6, rtol=0)


def test_exported_code_is_plain_straight_line_torch():
    source = python_source(load(TEMPLATES[0]) if TEMPLATES else load(SAMPLE))
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert {(type(n).__name__, getattr(n, "module", None)) for n in imports} == {("Import", None), ("ImportFrom", "torch")}
    assert [a.name for n in imports for a in n.names] in (["torch", "nn"], ["nn", "torch"])
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"exec", "eval", "compile", "__import__", "getattr", "setattr", "open", "fx"}
    forward = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "forward")
    assert all(isinstance(s, (ast.Assign, ast.Return)) for s in forward.body), "forward must be straight-line"


def test_frozen_layers_and_labels(tmp_path):
    project = load(SAMPLE)
    project.graph.set_trainable("conv1", False)
    project.graph.set_label("fc3", "Classifier head")
    source = python_source(project)
    assert "self.conv1.requires_grad_(False)" in source
    assert "self.fc3 = nn.Linear(84, 6)  # Classifier head" in source
    net = write_and_load(project, tmp_path)()
    assert not any(p.requires_grad for p in net.conv1.parameters())
    assert all(p.requires_grad for p in net.fc3.parameters())


HOSTILE_IDS = [
    "__import__('os').system('touch PWNED')",
    'a"; import os; os.system("touch PWNED") #',
    "class", "forward", "self", "x", "torch", "nn", "__init__", "_modules", "training",
    "1x1", "卷积层", "é" * 3, "conv 1", "conv-1", "a" * 128, "input",
]


def hostile_project() -> Project:
    g = Graph()
    ids = [i for i in HOSTILE_IDS if i != "input"]
    g.add_node("input", "Input", {"shape": [3, 8, 8]}, label="'''\nimport os; os.system('touch PWNED')\n'''")
    prev = "input"
    for i, node_id in enumerate(ids):
        type_ = "Conv2d" if i % 3 == 0 else "ReLU" if i % 3 == 1 else "BatchNorm2d"
        params = {"out_channels": 4, "kernel_size": 3, "padding": 1} if type_ == "Conv2d" else {}
        label = f"label {i}\r\nos.system('touch PWNED')\u2028\x00end" if i % 2 else None
        g.add_node(node_id, type_, params, label=label)
        g.connect(prev, node_id)
        prev = node_id
    g.add_node("merge", "Add")
    g.connect(ids[0], "merge", 0)
    g.connect(prev, "merge", 1)
    return Project(name='Evil """ name\n\nos.system("touch PWNED")', graph=g)


def test_hostile_ids_and_labels_cannot_run_code(tmp_path):
    project = hostile_project()
    source = python_source(project)
    # user text survives only in comments (and as inert identifiers): no string or call carries it
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING:
            assert "system" not in tok.string and "PWNED" not in tok.string, tok
    tree = ast.parse(source)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        f = call.func
        allowed = (isinstance(f, ast.Name) and f.id == "super") or (
            isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
            and (f.value.id in ("nn", "self") or (f.value.id == "torch" and f.attr == "cat")))
        allowed = allowed or (isinstance(f, ast.Attribute) and f.attr in ("__init__", "requires_grad_"))
        assert allowed, ast.unparse(call)
        assert all(not isinstance(c, ast.Constant) or not isinstance(c.value, str)
                   or "PWNED" not in c.value for c in ast.walk(call))
    attrs = [t.attr for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
             if isinstance(t, ast.Attribute)]
    assert all(a.isidentifier() and a.isascii() and not a.startswith("_") for a in attrs)
    # run it for real in a fresh interpreter: builds, computes, touches nothing
    path = tmp_path / "evil.py"
    path.write_text(source, encoding="utf-8")
    script = ("import sys, torch; sys.path.insert(0, '.'); import evil; "
              f"m = evil.{class_name(project.name)}().eval(); print(tuple(m(torch.randn(2, 3, 8, 8)).shape))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 4, 8, 8)"
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    # and the same weights fit the engine's module
    gm = build_module(project.graph).eval()
    net = load_class(path, class_name(project.name))().eval()
    net.load_state_dict(gm.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(net(x), gm(x), atol=1e-6, rtol=0)


def test_comment_text_is_one_printable_line():
    assert comment_text("a\nb\r\nc\u2028d\u2029e\x00f\x85g\tz") == "a b c d e f g z"
    assert comment_text("x" * 500).endswith("…") and len(comment_text("x" * 500)) == 120


@pytest.mark.parametrize("name,expected", [
    ("LeNet-5 on shapes", "LeNet5OnShapes"), ("", "Net"), ("1-D signal", "Net1DSignal"),
    ("None", "NoneNet"), ("class", "Class"), ("Réseau à convolution", "ReseauAConvolution"),
    ("__import__('os')", "ImportOs"),
])
def test_class_names(name, expected):
    assert class_name(name) == expected
