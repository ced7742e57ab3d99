"""The trainer in-process: the run directory it writes, exact resume, failures, checks."""
import json
import math

import numpy as np
import pytest
import torch

from engine.errors import ConfigError, PreflightError, RunDirError
from engine.runs import events as ev
from engine.runs.checkpoints import BEST, list_checkpoints
from engine.runs.metrics import KEYS, read_metrics
from engine.runs.status import new_status, read_status, write_status
from engine.schedule import lr_curve
from engine.schema.training import OPTIMIZERS
from engine.train import checkpoint as checkpoint_mod
from engine.train import optim
from engine.train.callbacks import Callback, EventStream
from engine.train.checkpoint import load_checkpoint
from engine.train.trainer import Trainer

from .tiny_projects import make_project


class StopAt(Callback):
    """Ask for a graceful stop after optimizer step ``step`` (a user pressing Stop)."""

    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, position):
        if position.step == self.step:
            trainer.control.stop()


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.stream = EventStream(self.events.append)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


def fit(project, run_dir, *callbacks, **overrides):
    t = Trainer(project, run_dir=run_dir, callbacks=callbacks, overrides=overrides)
    return t, t.fit()


def weights(trainer):
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- the run directory ------------------------------------------------------------------------
def test_a_run_writes_its_directory_as_designed(tmp_path):
    rec = Recorder()
    t, done = fit(make_project(epochs=3, val_every=2, checkpoint={"keep_last": 1}), tmp_path / "run", rec.stream)
    assert done.state == "finished" and done.epoch == 3 and done.error is None
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == {"project.json", "config.json", "status.json", "metrics.jsonl",
                                               "checkpoints", "probes", "log.txt"}
    bpe = t.batches_per_epoch
    rows = read_metrics(run / "metrics.jsonl")
    train = [r for r in rows if r["split"] == "train"]
    val = [r for r in rows if r["split"] == "val"]
    assert [r["step"] for r in train] == list(range(1, 3 * bpe + 1))  # one row per optimizer step
    assert all(set(r) == set(KEYS) for r in rows)
    assert [r["epoch"] for r in val] == [2, 3] and [r["step"] for r in val] == [2 * bpe, 3 * bpe]  # val_every=2 + last
    assert all(r["gpu_mem"] is None and 0 <= r["accuracy"] <= 1 and r["images_per_s"] > 0 for r in train)
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["step"] == 3 * bpe and status["error"] is None
    assert status["checkpoint"].startswith("checkpoints/epoch-0003-")
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["optimizer"]["lr"] == 0.05 and config["device"] == "cpu"
    assert config["classes"] == ["circle", "square", "triangle", "cross", "ring", "star"]
    assert json.loads((run / "project.json").read_text())["training"]["epochs"] == 3
    # best + last K=1 kept; every file loads with weights_only=True
    files = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert BEST in files and len(list_checkpoints(run / "checkpoints")) == 1
    for p in (run / "checkpoints").iterdir():
        state = torch.load(p, weights_only=True)
        assert state["format"] == "layerstudio-checkpoint" and isinstance(state["rng"]["torch"], torch.Tensor)
    log = (run / "log.txt").read_text()
    assert "started at epoch 1" in log and "checkpoint checkpoints/" in log and "finished at epoch 3" in log
    # events: typed, in order, validation carries the confusion matrix
    types = [e.type for e in rec.events]
    assert types[0] == "started" and types[-1] == "finished" and "metrics" in types
    v = rec.of(ev.Validation)[-1]
    assert v.confusion.shape == (6, 6) and v.confusion.sum() == t.val_source.num_samples
    assert math.isclose(v.accuracy, np.trace(v.confusion) / v.confusion.sum())
    m = rec.of(ev.Metrics)
    assert np.concatenate([x.step for x in m]).tolist() == list(range(1, 3 * bpe + 1))


def test_training_learns_with_adam():
    rec = Recorder()
    t, done = fit(make_project(dropout=False, epochs=4, optimizer={"type": "Adam", "lr": 0.003}), None, rec.stream)
    assert done.state == "finished"
    losses = [e.loss for e in rec.of(ev.EpochEnd)]
    assert losses[-1] < losses[0]


def test_the_torch_scheduler_gives_exactly_the_plotted_rates(tmp_path):
    for schedule in ({"type": "cosine", "unit": "step", "warmup": 2}, {"type": "step", "step_size": 1, "gamma": 0.5}):
        p = make_project(epochs=3, schedule=schedule)
        t, done = fit(p, tmp_path / schedule["type"])
        rows = [r for r in read_metrics(tmp_path / schedule["type"] / "metrics.jsonl") if r["split"] == "train"]
        assert [r["lr"] for r in rows] == lr_curve(p.training, t.batches_per_epoch)


def test_optimizer_factory_matches_the_schema():
    assert set(optim.OPTIMIZERS) == set(OPTIMIZERS)


# -- exact resume ----------------------------------------------------------------------------
# schedules whose rate does not depend on the total number of epochs (a run of 2 epochs then
# extended to 4 follows the same rates as a run of 4)
@pytest.mark.parametrize("optimizer,schedule", [
    ({"type": "SGD", "lr": 0.05, "momentum": 0.9}, {"type": "step", "step_size": 1, "gamma": 0.7}),
    ({"type": "Adam", "lr": 0.002}, {"type": "exponential", "unit": "step", "decay": 0.05, "warmup": 2}),
])
def test_resume_is_bitwise_exact(tmp_path, optimizer, schedule):
    """4 epochs straight == 2 + resume to 4 == stop mid-epoch 2 + resume to 4 (augmentation on)."""
    project = make_project(epochs=4, optimizer=optimizer, schedule=schedule,
                           data={"augment": {"hflip": True, "crop_padding": 2, "rotation": 10.0}})
    straight, _ = fit(project, tmp_path / "a")
    _, first = fit(project, tmp_path / "b", epochs=2)
    assert first.state == "finished"
    b = Trainer.resume(tmp_path / "b", epochs=4)
    assert b.fit().state == "finished"
    bpe = straight.batches_per_epoch
    mid = bpe + bpe // 2  # in the middle of epoch 2
    _, stopped = fit(project, tmp_path / "c", StopAt(mid))
    assert stopped.state == "stopped" and stopped.step == mid and stopped.checkpoint.endswith(f"{mid:09d}.pt")
    c = Trainer.resume(tmp_path / "c")
    assert c.fit().state == "finished"
    assert same(weights(straight), weights(b)) and same(weights(straight), weights(c))
    # the record is the same too: one train row per step, nothing repeated
    for run in ("b", "c"):
        steps = [r["step"] for r in read_metrics(tmp_path / run / "metrics.jsonl") if r["split"] == "train"]
        assert steps == list(range(1, 4 * bpe + 1))
    assert read_status(tmp_path / "c" / "status.json")["resumed"] == 1


def test_resume_drops_rows_written_after_the_checkpoint_and_stale_temps(tmp_path):
    _, done = fit(make_project(epochs=2), tmp_path / "r", StopAt(3))
    with open(tmp_path / "r" / "metrics.jsonl", "a") as f:  # the run went on after its checkpoint, then died
        f.write(json.dumps({"step": 4, "epoch": 1, "split": "train"}) + "\n")
    stale = tmp_path / "r" / "checkpoints" / ".epoch-0001-step-000000004.pt.zz.tmp"
    stale.write_bytes(b"half")
    t = Trainer.resume(tmp_path / "r")
    t.setup()
    assert not stale.exists()
    assert [r["step"] for r in read_metrics(tmp_path / "r" / "metrics.jsonl")] == [1, 2, 3]


def test_resume_refusals(tmp_path):
    with pytest.raises(RunDirError, match="no such run"):
        Trainer.resume(tmp_path / "nope")
    _, done = fit(make_project(epochs=2), tmp_path / "r")
    with pytest.raises(ConfigError, match="training.epochs") as e:
        Trainer.resume(tmp_path / "r", epochs=1).setup()
    assert e.value.key == "training.epochs"
    status = read_status(tmp_path / "r" / "status.json")
    status["state"] = "running"  # with our own (live) pid
    write_status(tmp_path / "r" / "status.json", status)
    with pytest.raises(RunDirError, match="still running"):
        Trainer.resume(tmp_path / "r")
    empty = tmp_path / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    write_status(empty / "status.json", dict(new_status(epochs=1), state="failed"))
    with pytest.raises(RunDirError, match="no checkpoint"):
        Trainer.resume(empty)


# -- failures -------------------------------------------------------------------------------
def test_a_huge_learning_rate_fails_with_nonfinite_and_saves_no_nan(tmp_path):
    rec = Recorder()
    t, done = fit(make_project(epochs=3, optimizer={"lr": 100.0, "momentum": 0.9}), tmp_path / "r", rec.stream)
    assert done.state == "failed"
    f = done.error
    assert f["kind"] == "nonfinite" and f"step {f['step']}" in f["message"] and "lr" in f["advice"]
    assert rec.of(ev.Error)[0].failure["kind"] == "nonfinite"
    status = read_status(tmp_path / "r" / "status.json")
    assert status["state"] == "failed" and status["error"]["kind"] == "nonfinite"
    for p in (tmp_path / "r" / "checkpoints").glob("*.pt"):
        assert all(torch.isfinite(v).all() for v in torch.load(p, weights_only=True)["model"].values())
    # caught within one flush: no train row after the flush that saw the first bad step
    rows = [r for r in read_metrics(tmp_path / "r" / "metrics.jsonl") if r["split"] == "train"]
    assert rows[-1]["step"] < f["step"] + 2 * t.batches_per_epoch


class PoisonAt(Callback):
    """Fault injection: the weights become NaN after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, trainer, position):
        if (position.epoch + 1, position.batch) == (self.epoch, self.batch):
            with torch.no_grad():
                next(trainer.model.parameters()).fill_(float("nan"))


def test_nan_mid_run_names_the_step_and_the_last_good_checkpoint_which_resumes(tmp_path):
    project = make_project(epochs=3)
    t, done = fit(project, tmp_path / "p", PoisonAt(2, 2))
    bpe = t.batches_per_epoch
    bad = bpe + 2
    f = done.error
    assert done.state == "failed" and f["kind"] == "nonfinite" and f["step"] == bad + 1
    assert f["checkpoint"].endswith(f"epoch-0001-step-{bpe:09d}.pt") and "epoch-0001" in f["message"]
    assert max(c.step for c in list_checkpoints(tmp_path / "p" / "checkpoints")) == bpe
    again = Trainer.resume(tmp_path / "p")
    assert again.fit().state == "finished"


def test_a_failing_checkpoint_write_is_classified_and_the_last_good_one_stays(tmp_path, monkeypatch):
    real_save = torch.save
    calls = []

    def save(obj, f, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_save(obj, f, *a, **kw)

    monkeypatch.setattr(checkpoint_mod.torch, "save", save)
    t, done = fit(make_project(epochs=3), tmp_path / "r")
    assert done.state == "failed" and done.error["kind"] == "checkpoint_write"
    assert "No space left on device" in done.error["message"] and "epoch-0001" in done.error["message"]
    ck = tmp_path / "r" / "checkpoints"
    assert [c.epoch for c in list_checkpoints(ck)] == [1]
    assert not [p for p in ck.iterdir() if p.name.endswith(".tmp")]
    load_checkpoint(list_checkpoints(ck)[0].path)
    assert read_status(tmp_path / "r" / "status.json")["state"] == "failed"
    monkeypatch.setattr(checkpoint_mod.torch, "save", real_save)
    assert Trainer.resume(tmp_path / "r").fit().state == "finished"


def test_an_exception_in_the_loop_is_reported_with_its_traceback(tmp_path):
    class Boom(Callback):
        def on_batch_end(self, trainer, position):
            raise RuntimeError("boom at step %d" % position.step)

    t, done = fit(make_project(), tmp_path / "r", Boom())
    assert done.state == "failed" and done.error["kind"] == "exception"
    assert done.error["message"] == "RuntimeError: boom at step 1" and "Traceback" in done.error["details"]
    log = (tmp_path / "r" / "log.txt").read_text()
    assert "ERROR: RuntimeError: boom at step 1" in log and "Traceback" in log


# -- checks before the first step -------------------------------------------------------------
def _no_run(tmp_path):
    return not (tmp_path / "r").exists()


@pytest.mark.parametrize("training,key", [
    ({"optimizer": {"lr": -1}}, "training.optimizer.lr"),
    ({"batch_size": 0}, "training.batch_size"),
    ({"optimizer": {"type": "LBFGS"}}, "training.optimizer.type"),
    ({"optimizer": {"type": "Adam", "momentum": 0.9}}, "training.optimizer.momentum"),
    ({"device": "tpu"}, "training.device"),
])
def test_bad_settings_are_refused_before_any_work(tmp_path, training, key):
    with pytest.raises(ConfigError) as e:
        Trainer(make_project(**training), run_dir=tmp_path / "r").setup()
    assert e.value.key == key and key in str(e.value)
    assert _no_run(tmp_path)


def test_output_size_must_match_the_classes(tmp_path):
    p = make_project()
    p.graph.set_params("fc3", {"out_features": 10})
    with pytest.raises(PreflightError, match=r"outputs 10 values per sample but the dataset has 6 classes "
                                             r"\(circle, .*\); set fc3.out_features to 6") as e:
        Trainer(p, run_dir=tmp_path / "r").setup()
    assert (e.value.node, e.value.key) == ("fc3", "out_features") and _no_run(tmp_path)


def test_input_shape_and_dtype_must_match_the_data(tmp_path):
    p = make_project(data={"image_size": [32, 32]})  # fixed by the data, not taken from the Input
    p.graph.set_params("input", {"shape": [3, 28, 28]})
    with pytest.raises(PreflightError) as e:
        Trainer(p, run_dir=tmp_path / "r").setup()
    assert (e.value.node, e.value.key) == ("input", "shape")
    assert "set input.shape to [3, 32, 32] (or dataset.image_size to [28, 28])" in str(e.value)
    p = make_project()
    for n in list(p.graph.nodes):
        if n != "input":
            p.graph.remove_node(n)
    p.graph.set_params("input", {"dtype": "int64"})  # token ids, but the data are images
    p.graph.add_node("emb", "Embedding", {"num_embeddings": 256, "embedding_dim": 2})
    p.graph.add_node("flat", "Flatten")
    p.graph.add_node("fc", "Linear", {"out_features": 6})
    for a, b in (("input", "emb"), ("emb", "flat"), ("flat", "fc")):
        p.graph.connect(a, b)
    with pytest.raises(PreflightError, match="set input.dtype to float32") as e:
        Trainer(p, run_dir=tmp_path / "r").setup()
    assert (e.value.node, e.value.key) == ("input", "dtype") and _no_run(tmp_path)


def test_memory_that_does_not_fit_is_refused(tmp_path, monkeypatch):
    from engine.train import trainer as trainer_mod
    monkeypatch.setattr(trainer_mod, "available_memory", lambda device: 1 << 20)
    with pytest.raises(PreflightError, match="lower training.batch_size") as e:
        Trainer(make_project(), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.batch_size" and _no_run(tmp_path)


def test_graph_errors_are_all_listed(tmp_path):
    p = make_project()
    p.graph.disconnect("pool2", "flatten")
    with pytest.raises(PreflightError, match="error"):
        Trainer(p, run_dir=tmp_path / "r").setup()


def test_a_final_softmax_gets_a_warning(tmp_path):
    p = make_project(epochs=1)
    p.graph.add_node("soft", "Softmax", {"dim": 1})
    p.graph.connect("fc3", "soft")
    rec = Recorder()
    _, done = fit(p, tmp_path / "r", rec.stream)
    warnings = [e.message for e in rec.of(ev.Log) if e.level == "warning"]
    assert any("ends with Softmax" in w and "remove soft" in w for w in warnings)
    assert "WARNING: soft: the model ends with Softmax" in (tmp_path / "r" / "log.txt").read_text()


# -- callbacks ------------------------------------------------------------------------------
def test_early_stopping_ends_the_run(tmp_path):
    p = make_project(epochs=6, monitor="val_loss", early_stopping={"patience": 2, "min_delta": 1e6})
    _, done = fit(p, tmp_path / "r")
    assert done.state == "finished" and done.epoch == 3  # first validation sets the best, two more fail to beat it
    assert "early stopping" in (tmp_path / "r" / "log.txt").read_text()


def test_no_host_sync_per_step(monkeypatch):
    """The loop's own code never reads a device value per step: the number of host reads
    does not grow with the number of steps (flushes are made rare here)."""
    from engine.train import metrics as metrics_mod
    monkeypatch.setattr(metrics_mod, "FLUSH_INTERVAL_S", 1e9)
    reads = []
    for name in ("item", "cpu", "numpy", "tolist", "__bool__", "__float__", "__int__"):
        real = getattr(torch.Tensor, name)

        def counted(self, *a, _real=real, _name=name, **kw):
            import sys
            caller = sys._getframe(1).f_code.co_filename
            if "/engine/train/" in caller:
                reads.append((_name, caller))
            return _real(self, *a, **kw)
        monkeypatch.setattr(torch.Tensor, name, counted)
    counts = []
    for size in (192, 384):  # twice the steps
        reads.clear()
        t, done = fit(make_project(epochs=1, data={"size": size, "val_fraction": 0.0}), None)
        assert done.state == "finished"
        counts.append((t.position.step, len(reads)))
    (steps1, reads1), (steps2, reads2) = counts
    assert steps2 > steps1 and reads1 == reads2


def test_cpu_training_keeps_freed_memory_for_reuse():
    """glibc's malloc is tuned once per training process (see engine.train.host_malloc)."""
    import ctypes.util
    import sys

    from engine.train.host_malloc import keep_freed_memory
    if not sys.platform.startswith("linux") or not ctypes.util.find_library("c"):
        pytest.skip("glibc only")
    assert keep_freed_memory() and keep_freed_memory()


def test_a_model_with_nothing_to_train_is_refused(tmp_path):
    p = make_project()
    for n in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        p.graph.set_trainable(n, False)
    with pytest.raises(PreflightError, match="nothing to train"):
        Trainer(p, run_dir=tmp_path / "r").setup()
    assert _no_run(tmp_path)
