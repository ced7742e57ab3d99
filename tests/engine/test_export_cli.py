"""``layerstudio export``: every format against the engine's outputs, a run's weights, and bad input.

Runs the CLI in-process (torch is already imported by the test session). A run directory is
made with the run store's and trainer's own writers, holding a known state dict.
"""
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.build import build_module, example_inputs
from engine.cli.main import main as cli
from engine.export.python_format import load_class
from engine.export.text import class_name
from engine.project import load, save
from engine.runs.atomic import write_json_atomic
from engine.runs.checkpoints import checkpoint_name
from engine.runs.layout import RunDir
from engine.train.checkpoint import link_or_copy, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "sample.json"


def trained_state(project, seed):
    torch.manual_seed(seed)
    gm = build_module(project.graph)
    with torch.no_grad():  # not the freshly initialized values: prove these are the ones exported
        for p in gm.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for name, b in gm.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 2.0)
    return gm.state_dict()


def make_run(folder: Path, project, best: dict, last: dict | None = None) -> Path:
    run = RunDir(folder).create()
    write_json_atomic(run.config, {"format": "layerstudio-run-config"})
    write_json_atomic(run.project, project.to_dict())
    first = run.checkpoints / checkpoint_name(1, 10)
    save_checkpoint(first, {"model": best})
    link_or_copy(first, run.checkpoints / "best.pt")
    if last is not None:
        save_checkpoint(run.checkpoints / checkpoint_name(2, 20), {"model": last})
    return run.path


def engine_module(project, state):
    gm = build_module(project.graph).eval()
    gm.load_state_dict(state)
    return gm


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture(scope="module")
def sample():
    return load(SAMPLE)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, sample):
    best, last = trained_state(sample, 1), trained_state(sample, 2)
    return make_run(tmp_path_factory.mktemp("runs") / "lenet-20260101-000000", sample, best, last), best, last


def test_py_with_weights_reproduces_the_run(tmp_path, sample, run_dir, capsys):
    run, best, _ = run_dir
    out = tmp_path / "net.py"
    assert cli(["export", str(SAMPLE), "--to", "py", "-o", str(out), "--weights", str(run)]) == 0
    assert files(tmp_path) == {"net.py", "net.pt"}
    assert "net.py and" in capsys.readouterr().out
    state = torch.load(tmp_path / "net.pt", weights_only=True)
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    assert "torch.load('net.pt', weights_only=True)" in out.read_text()
    net = load_class(out, class_name(sample.name))().eval()
    net.load_state_dict(state, strict=True)
    gm = engine_module(sample, best)
    x = example_inputs(gm, batch_size=4, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(net(*x), gm(*x), atol=1e-6, rtol=0)


def test_checkpoint_last_takes_the_latest(tmp_path, sample, run_dir):
    run, best, last = run_dir
    out = tmp_path / "net.py"
    assert cli(["export", str(SAMPLE), "--to", "py", "-o", str(out), "--weights", str(run),
                "--checkpoint", "last"]) == 0
    state = torch.load(tmp_path / "net.pt", weights_only=True)
    assert torch.equal(state["fc3.weight"], last["fc3.weight"])
    assert not torch.equal(state["fc3.weight"], best["fc3.weight"])


def test_onnx_has_a_dynamic_batch_and_matches_the_engine(tmp_path, sample, run_dir):
    import onnxruntime as ort
    run, best, _ = run_dir
    out = tmp_path / "net.onnx"
    assert cli(["export", str(SAMPLE), "--to", "onnx", "-o", str(out), "--weights", str(run)]) == 0
    assert files(tmp_path) == {"net.onnx"}
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    gm = engine_module(sample, best)
    for batch in (1, 5):
        x = torch.randn(batch, 3, 32, 32)
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        with torch.no_grad():
            np.testing.assert_allclose(got, gm(x).numpy(), atol=1e-4, rtol=0)


@pytest.mark.parametrize("to,suffix", [("torchscript", ".pt"), ("pt2", ".pt2")])
def test_torchscript_and_pt2_load_back(tmp_path, sample, run_dir, to, suffix):
    run, best, _ = run_dir
    out = tmp_path / f"net{suffix}"
    assert cli(["export", str(SAMPLE), "--to", to, "-o", str(out), "--weights", str(run)]) == 0
    assert files(tmp_path) == {out.name}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript is deprecated in recent torch
        loaded = torch.jit.load(str(out)) if to == "torchscript" else torch.export.load(str(out)).module()
    gm = engine_module(sample, best)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), gm(x), atol=1e-5, rtol=0)


def test_weights_that_do_not_match_the_graph(tmp_path, sample, capsys):
    other = load(ROOT / "assets" / "templates" / "mlp.json")
    run = make_run(tmp_path / "mlp-run", other, trained_state(other, 0))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = cli(["export", str(SAMPLE), "--to", "py", "-o", str(out_dir / "net.py"), "--weights", str(run)])
    err = capsys.readouterr().err
    assert code == 1
    assert "and the graph do not match" in err and "Traceback" not in err
    assert files(out_dir) == set()


def test_changed_layer_size_names_the_node(tmp_path, sample, run_dir, capsys):
    run, _, _ = run_dir
    project = load(SAMPLE)
    project.graph.set_params("fc2", {"out_features": 80})
    changed = tmp_path / "changed.json"
    save(project, changed)
    code = cli(["export", str(changed), "--to", "onnx", "-o", str(tmp_path / "net.onnx"), "--weights", str(run)])
    err = capsys.readouterr().err
    assert code == 1 and "fc2.weight has shape [84, 120]" in err
    assert files(tmp_path) == {"changed.json"}


@pytest.mark.parametrize("case", ["no-run", "not-a-run", "no-checkpoint", "no-file", "not-json", "invalid", "no-folder",
                                  "weights-over-code"])
def test_bad_input_exit_codes_and_nothing_written(tmp_path, case, capsys):
    project_file, weights, out = SAMPLE, None, tmp_path / "net.py"
    expected = 2
    if case == "no-run":
        weights = tmp_path / "missing-run"
    elif case == "not-a-run":
        weights = tmp_path / "plain"
        weights.mkdir()
    elif case == "no-checkpoint":
        weights = RunDir(tmp_path / "empty-run").create().path
        write_json_atomic(weights / "config.json", {})
    elif case == "no-file":
        project_file = tmp_path / "nope.json"
    elif case == "not-json":
        project_file = tmp_path / "bad.json"
        project_file.write_text("{not json")
    elif case == "invalid":
        project = load(SAMPLE)
        project.graph.set_params("conv2", {"kernel_size": 30})
        project_file = tmp_path / "invalid.json"
        save(project, project_file)
        expected = 1
    elif case == "no-folder":
        out = tmp_path / "no" / "such" / "net.py"
    elif case == "weights-over-code":  # the state dict would overwrite the code file
        out = tmp_path / "net.pt"
        weights = make_run(tmp_path / "run", load(SAMPLE), trained_state(load(SAMPLE), 0))
    before = {p for p in tmp_path.rglob("*")}
    argv = ["export", str(project_file), "--to", "py", "-o", str(out)]
    if weights is not None:
        argv += ["--weights", str(weights)]
    code = cli(argv)
    err = capsys.readouterr().err
    assert code == expected, err
    assert err.startswith("layerstudio") and "Traceback" not in err and err.count("\n") == 1
    assert {p for p in tmp_path.rglob("*")} == before
