"""Training options: the optimizer zoo and its keys, weight decay, clipping, accumulation, EMA,
label smoothing, initialization, early stopping, speed options and their refusals, frozen
layers, TensorBoard."""
import copy
import shutil

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from engine.build import build_module
from engine.errors import ConfigError, PreflightError
from engine.runs import events as ev
from engine.schema import resolve_training
from engine.train import speed
from engine.train.callbacks import EventStream
from engine.train.callbacks.early_stopping import EarlyStopping
from engine.train.callbacks.tensorboard import TensorBoard
from engine.train.checkpoint import load_checkpoint
from engine.train.ema import EMA
from engine.train.init import init_weights
from engine.train.loop import evaluate
from engine.train.loss import make_loss
from engine.train.optim import make_optimizer
from engine.train.step import TrainStep
from engine.train.trainer import Trainer

from .tiny_projects import make_project


def cfg(**training):
    values, _ = resolve_training(training)
    return values


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def batch(n=12, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def events_of(recorded, cls):
    return [e for e in recorded if isinstance(e, cls)]


def run(project, tmp_path=None, *callbacks, name="r", **overrides):
    recorded = []
    t = Trainer(project, run_dir=tmp_path / name if tmp_path else None,
                callbacks=[EventStream(recorded.append), *callbacks], overrides=overrides)
    done = t.fit()
    assert done.state == "finished", done.error
    return t, recorded


# -- optimizers -------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer,cls,group", [
    ({"type": "SGD", "lr": 0.1, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01},
     torch.optim.SGD, {"momentum": 0.8, "dampening": 0.1, "nesterov": False, "weight_decay": 0.01}),
    ({"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True}, torch.optim.SGD, {"nesterov": True}),
    ({"type": "Adam", "lr": 0.002, "betas": [0.8, 0.99], "eps": 1e-6, "amsgrad": True},
     torch.optim.Adam, {"betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True}),
    ({"type": "AdamW", "lr": 0.002, "weight_decay": 0.05}, torch.optim.AdamW, {"weight_decay": 0.05, "eps": 1e-8}),
    ({"type": "Adagrad", "lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
     torch.optim.Adagrad, {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-10}),
    ({"type": "RMSprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True},
     torch.optim.RMSprop, {"alpha": 0.9, "momentum": 0.5, "centered": True}),
    ({"type": "Adadelta", "lr": 1.0, "rho": 0.95, "eps": 1e-5}, torch.optim.Adadelta, {"rho": 0.95, "eps": 1e-5}),
])
def test_each_optimizer_gets_its_hyperparameters(optimizer, cls, group):
    opt = make_optimizer(mlp(), cfg(optimizer=optimizer))
    assert type(opt) is cls and opt.param_groups[0]["lr"] == optimizer["lr"]
    for key, value in group.items():
        assert opt.param_groups[0][key] == value, key
    x, y = batch()
    before = copy.deepcopy(opt.param_groups[0]["params"][0].detach())
    F.cross_entropy(_forward(opt, x), y).backward()
    opt.step()
    assert not torch.equal(before, opt.param_groups[0]["params"][0])


def _forward(opt, x):
    """The mlp's forward from the optimizer's own parameters."""
    w1, b1, w2, b2 = opt.param_groups[0]["params"]
    return F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2)


@pytest.mark.parametrize("optimizer,key", [
    ({"type": "Adam", "momentum": 0.9}, "training.optimizer.momentum"),
    ({"type": "SGD", "betas": [0.9, 0.99]}, "training.optimizer.betas"),
    ({"type": "SGD", "rho": 0.9}, "training.optimizer.rho"),
    ({"type": "Adagrad", "nesterov": True}, "training.optimizer.nesterov"),
    ({"type": "Adadelta", "alpha": 0.9}, "training.optimizer.alpha"),
    ({"type": "SGD", "eps": 1e-8}, "training.optimizer.eps"),
])
def test_a_key_of_another_optimizer_is_an_error_naming_it(optimizer, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as e:
        resolve_training({"optimizer": optimizer})
    assert e.value.key == key


def test_nesterov_needs_momentum_and_no_dampening(tmp_path):
    with pytest.raises(ConfigError, match="Nesterov") as e:
        Trainer(make_project(optimizer={"nesterov": True, "dampening": 0.5}), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.optimizer.nesterov" and not (tmp_path / "r").exists()


def test_weight_decay_shrinks_the_weights():
    model = nn.Linear(4, 2)
    w = model.weight.detach().clone()
    opt = make_optimizer(model, cfg(optimizer={"type": "SGD", "lr": 0.5, "weight_decay": 0.1}))
    (model.weight * 0).sum().backward()  # no gradient from the loss: only the decay moves the weights
    opt.step()
    assert torch.allclose(model.weight, w * (1 - 0.5 * 0.1))


# -- the step: clipping, accumulation, precision ---------------------------------------------------
def test_clipping_bounds_the_gradient_norm():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    norms = []
    real_step = opt.step

    def step(*a, **kw):
        norms.append(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])))
        return real_step(*a, **kw)
    opt.step = step
    x, y = batch()
    TrainStep(model, nn.CrossEntropyLoss(), opt)(x * 100, y)  # a large gradient
    TrainStep(model, nn.CrossEntropyLoss(), opt, clip_norm=0.5)(x * 100, y)
    assert norms[0] > 1.0 and norms[1] <= 0.5 + 1e-5


@pytest.mark.parametrize("parts", [4, 5])
def test_accumulated_micro_batches_make_the_whole_batch_update(parts):
    """4 equal micro-batches, or 5 unequal ones (3, 3, 2, 2, 2): the same update as the batch."""
    whole, split = mlp(), mlp()
    steps = [TrainStep(m, nn.CrossEntropyLoss(), torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9),
                       accumulation=a) for m, a in ((whole, 1), (split, parts))]
    for i in range(3):
        x, y = batch(seed=i)
        (loss1, logits1), (loss2, logits2) = (s(x, y) for s in steps)
        assert torch.allclose(loss1, loss2, atol=1e-6) and torch.allclose(logits1, logits2, atol=1e-6)
    for a, b in zip(whole.parameters(), split.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert not torch.equal(whole[0].weight, mlp()[0].weight)


def test_fp16_loss_scaling_skips_an_overflowing_step_and_counts_it():
    """The GradScaler path (CUDA in a run; its CPU twin here): an inf loss skips the update."""
    class BlowsUpOnce(nn.Module):
        calls = 0

        def forward(self, out, y):
            self.calls += 1
            loss = F.cross_entropy(out.float(), y)
            return loss * float("inf") if self.calls == 2 else loss
    model = mlp()
    step = TrainStep(model, BlowsUpOnce(), torch.optim.SGD(model.parameters(), lr=0.1), precision="fp16",
                     device=torch.device("cpu"), clip_norm=1.0)
    x, y = batch()
    weights = []
    for _ in range(3):
        step(x, y)
        weights.append(model[0].weight.detach().clone())
    assert int(step.skipped_steps) == 1
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[1], weights[2])


def test_accumulation_that_does_not_divide_the_batch_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="do not divide") as e:
        Trainer(make_project(batch_size=32, gradient={"accumulation": 3}), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.gradient.accumulation" and not (tmp_path / "r").exists()


def test_label_smoothing_is_the_losss():
    x, y = batch()
    logits = mlp()(x)
    smooth, plain = make_loss(cfg(label_smoothing=0.1)), make_loss(cfg())
    assert torch.allclose(smooth(logits, y), F.cross_entropy(logits, y, label_smoothing=0.1))
    assert not torch.allclose(smooth(logits, y), plain(logits, y))


# -- EMA -------------------------------------------------------------------------------------------
def test_ema_weights_equal_the_hand_computed_average():
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    ema = EMA(model, decay=0.9)
    step = TrainStep(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.3))
    hand = {k: v.clone() for k, v in model.state_dict().items()}
    for i in range(5):
        step(*batch(seed=i))
        ema.update()
        for k, v in model.state_dict().items():
            hand[k] = 0.9 * hand[k] + 0.1 * v if v.is_floating_point() else v.clone()
    got = ema.state_dict()
    for k in hand:
        assert torch.allclose(got[k], hand[k], atol=1e-6), k
    assert int(got["1.num_batches_tracked"]) == 5
    assert not torch.allclose(got["0.weight"], model[0].weight)


def test_with_ema_validation_and_checkpoints_use_the_average_and_resume_exactly(tmp_path):
    project = make_project(epochs=2, ema={"decay": 0.8})
    straight, recorded = run(project, tmp_path, name="a")
    val = events_of(recorded, ev.Validation)[-1]
    loss, _, _ = evaluate(straight.ema.module, straight.criterion, straight.val_source, 6, straight.device)
    other, _, _ = evaluate(straight.model, straight.criterion, straight.val_source, 6, straight.device)
    assert val.loss == pytest.approx(loss, rel=1e-6) and loss != pytest.approx(other, rel=1e-6)
    state = load_checkpoint(sorted((tmp_path / "a" / "checkpoints").glob("epoch-*"))[-1])
    for k, v in straight.ema.state_dict().items():
        assert torch.equal(state["model"][k], v)
    for k, v in straight.model.state_dict().items():
        assert torch.equal(state["train_model"][k], v)
    run(project, tmp_path, name="b", epochs=1)
    resumed = Trainer.resume(tmp_path / "b", epochs=2)
    assert resumed.fit().state == "finished"
    for a, b in ((straight.model, resumed.model), (straight.ema.module, resumed.ema.module)):
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k


# -- initialization -------------------------------------------------------------------------------
def _layers(model):
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def test_initialization_schemes_are_seeded_and_follow_their_formulas():
    graph = make_project().graph
    built = []
    for _ in range(2):
        torch.manual_seed(5)
        m = build_module(graph)
        init_weights(m, "xavier_uniform")
        built.append(m)
    assert all(torch.equal(a, b) for a, b in zip(built[0].state_dict().values(), built[1].state_dict().values()))
    for layer in _layers(built[0]):
        fan_out, fan_in = layer.weight.shape[0], layer.weight[0].numel()
        rf = layer.weight[0, 0].numel()
        bound = (6 / (fan_in + fan_out * rf)) ** 0.5
        assert layer.weight.abs().max() <= bound and torch.all(layer.bias == 0)
    torch.manual_seed(5)
    m = build_module(graph)
    init_weights(m, "kaiming_normal")
    fc1 = m.get_submodule(m.layer_names["fc1"]).weight  # 120 × 400
    assert fc1.std().item() == pytest.approx((2 / 400) ** 0.5, rel=0.05)
    torch.manual_seed(5)
    default = build_module(graph)
    assert init_weights(default, "default") == 0 and not torch.all(_layers(default)[0].bias == 0)


# -- early stopping ---------------------------------------------------------------------------------
class _Trainer:
    finish_early = False

    def log(self, message):
        self.logged = message


@pytest.mark.parametrize("monitor,values,stop_after", [
    ("val_accuracy", [0.5, 0.6, 0.605, 0.61, 0.7], 4),  # 0.605 and 0.61 are within min_delta of 0.6
    ("val_loss", [1.0, 0.95, 0.98, 0.7, 0.695, 0.699], 6),
])
def test_early_stopping_stops_at_the_expected_validation(monitor, values, stop_after):
    stopper, trainer = EarlyStopping(monitor, patience=2, min_delta=0.01), _Trainer()
    for n, value in enumerate(values, 1):
        stopper.on_validation_end(trainer, ev.Validation(epoch=n, step=n, loss=value, accuracy=value,
                                                         confusion=None))
        if trainer.finish_early:
            break
    assert trainer.finish_early and n == stop_after


# -- speed options -------------------------------------------------------------------------------------
def test_fp16_on_the_cpu_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU") as e:
        Trainer(make_project(mixed_precision="fp16"), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.mixed_precision" and not (tmp_path / "r").exists()


def test_compile_where_it_cannot_compile_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no C++ compiler on this machine
    with pytest.raises(ConfigError, match="C\\+\\+ compiler") as e:
        Trainer(make_project(compile=True), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.compile" and not (tmp_path / "r").exists()


def test_bf16_channels_last_and_compile_train_on_the_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(speed, "COMPILE_BACKEND", "eager")  # the plumbing, without a compiler run
    project = make_project(epochs=1, mixed_precision="bf16", channels_last=True, compile=True, cudnn_benchmark=True)
    t, recorded = run(project, tmp_path)
    x, y = next(iter(t.train_source.epoch(0)))
    _, logits = t.step_fn(x, y)
    assert logits.dtype == torch.bfloat16  # the forward ran under autocast
    assert t.model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert type(t.train_model).__name__ == "OptimizedModule"
    logs = [e.message for e in events_of(recorded, ev.Log)]
    assert any(m.startswith("torch.compile: the first step took") for m in logs)
    assert any("cudnn_benchmark has no effect on cpu" in m for m in logs)
    assert set(load_checkpoint(next((tmp_path / "r" / "checkpoints").glob("epoch-*")))["model"]) == \
        set(t.model.state_dict())  # plain keys: the checkpoint is the module's, not the wrapper's


# -- freezing ---------------------------------------------------------------------------------------------
def test_frozen_layers_keep_their_weights(tmp_path):
    project = make_project(epochs=1, optimizer={"type": "SGD", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
                           ema={"decay": 0.5})
    for node in ("conv1", "fc3"):
        project.graph.set_trainable(node, False)
    torch.manual_seed(0)
    fresh = build_module(project.graph).state_dict()
    t, _ = run(project)
    for k, v in t.model.state_dict().items():
        frozen = k.startswith(("conv1.", "fc3."))
        assert torch.equal(v, fresh[k]) == frozen, k


def test_freezing_every_layer_is_refused_naming_the_flag(tmp_path):
    project = make_project()
    for node in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        project.graph.set_trainable(node, False)
    with pytest.raises(PreflightError, match="nothing to train") as e:
        Trainer(project, run_dir=tmp_path / "r").setup()
    assert e.value.key == "trainable" and e.value.node == "conv1" and not (tmp_path / "r").exists()


# -- TensorBoard ------------------------------------------------------------------------------------------
def test_tensorboard_without_the_package_is_refused_with_the_fix(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tensorboard(name, *a, **kw):
        if name == "tensorboard" or name.startswith("tensorboard."):
            raise ModuleNotFoundError("No module named 'tensorboard'")
        return real_import(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    monkeypatch.delitem(__import__("sys").modules, "torch.utils.tensorboard", raising=False)
    with pytest.raises(ConfigError, match="pip install tensorboard") as e:
        Trainer(make_project(tensorboard=True), run_dir=tmp_path / "r").setup()
    assert e.value.key == "training.tensorboard" and not (tmp_path / "r").exists()


class FakeWriter:
    made = []

    def __init__(self, log_dir, **kw):
        self.log_dir, self.kw, self.scalars, self.images, self.closed = log_dir, kw, [], [], False
        FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, float(value), int(step)))

    def add_images(self, tag, images, step, dataformats):
        self.images.append((tag, images.shape, step, dataformats))

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_the_tensorboard_callback_writes_every_scalar_and_the_probe_images(tmp_path):
    import numpy as np
    FakeWriter.made.clear()
    tb = TensorBoard(tmp_path / "r" / "tensorboard", writer_class=FakeWriter)
    t, recorded = run(make_project(epochs=2), tmp_path, tb)
    w = FakeWriter.made[0]
    assert w.log_dir == str(tmp_path / "r" / "tensorboard") and w.kw == {} and w.closed
    steps = [s for tag, _, s in w.scalars if tag == "train/loss"]
    assert steps == list(range(1, t.position.step + 1))
    vals = [(s, v) for tag, v, s in w.scalars if tag == "val/accuracy"]
    assert vals == [(e.step, pytest.approx(e.accuracy)) for e in events_of(recorded, ev.Validation)]
    assert {tag for tag, _, _ in w.scalars} >= {"train/accuracy", "train/lr", "train/images_per_s", "epoch/loss",
                                                "val/loss"}
    tb.on_fit_start(t, ev.Started(None, 4, 1, 1, 1, [], "cpu", 1, 3, 12, 0))  # a resumed run
    assert FakeWriter.made[-1].kw == {"purge_step": 13}
    tb.on_event(t, ev.Filters(epoch=1, step=12, layer="conv1", weights=np.random.rand(6, 3, 5, 5).astype(np.float32),
                              truncated=False, mean=0.0, std=1.0, hist_counts=np.zeros(32, np.int64),
                              hist_edges=np.zeros(33, np.float32)))
    tb.on_event(t, ev.Saliency(epoch=1, step=12, saliency=np.zeros((4, 8, 8), np.float32), gradcam=None,
                               pred=np.zeros(4, np.int64), confidence=np.zeros(4, np.float32), label=np.zeros(4, np.int64)))
    assert FakeWriter.made[-1].images == [("filters/conv1", (6, 1, 5, 5), 12, "NCHW"),
                                          ("saliency/saliency", (4, 1, 8, 8), 12, "NCHW")]
