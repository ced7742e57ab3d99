"""The trainer's torch schedulers give exactly engine.schedule's rates (what the app plots),
step by step, for every schedule type, with and without warm-up, per epoch and per step; and
their checkpointed state continues them exactly."""
import io
import warnings

import pytest
import torch

from engine.schedule import lr_curve
from engine.schema import resolve_training
from engine.schema.schedule import SCHEDULES
from engine.train.schedule import Schedule

STEPS_PER_EPOCH = 5
EPOCHS = 9
EXTRA = {"step": {"step_size": 2, "gamma": 0.5}, "multistep": {"milestones": [2, 5, 5], "gamma": 0.3},
         "exponential": {"decay": 0.3}, "cosine": {"min_lr": 0.001}, "polynomial": {"power": 2.0},
         "onecycle": {"pct_start": 0.25}}


def training(kind, unit, warmup, epochs=EPOCHS):
    return {"epochs": epochs, "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9},
            "schedule": {"type": kind, "unit": unit, "warmup": warmup, "warmup_start": 0.2, **EXTRA.get(kind, {})}}


def fresh(section, steps_per_epoch=STEPS_PER_EPOCH):
    cfg, _ = resolve_training(section)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=cfg["optimizer.lr"], momentum=0.9)
    return opt, Schedule(opt, cfg, steps_per_epoch)


def rates(opt, schedule, unit, epochs, start=0):
    """The rate of every optimizer step from epoch ``start``, stepping as the trainer does."""
    out = []
    for _ in range(start, epochs):
        for _ in range(STEPS_PER_EPOCH):
            out.append(opt.param_groups[0]["lr"])  # the rate this step uses
            opt.step()
            if unit == "step":
                schedule.step()
        if unit == "epoch":
            schedule.step()
    return out


@pytest.mark.parametrize("unit", ["epoch", "step"])
@pytest.mark.parametrize("warmup", [0, 3])
@pytest.mark.parametrize("kind", SCHEDULES)
def test_the_optimizer_rate_equals_the_plotted_curve_at_every_step(kind, unit, warmup):
    section = training(kind, unit, warmup)
    opt, schedule = fresh(section)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation or ordering warning either
        got = rates(opt, schedule, unit, EPOCHS)
    assert got == lr_curve(section, STEPS_PER_EPOCH)  # bit for bit, not approximately


@pytest.mark.parametrize("unit", ["epoch", "step"])
@pytest.mark.parametrize("kind", SCHEDULES)
def test_a_checkpointed_schedule_continues_exactly(kind, unit):
    section = training(kind, unit, warmup=2)
    opt, schedule = fresh(section)
    first = rates(opt, schedule, unit, 4)
    buffer = io.BytesIO()
    torch.save({"optimizer": opt.state_dict(), "scheduler": schedule.state_dict()}, buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)  # numbers only: loads as checkpoints do
    opt2, schedule2 = fresh(section)
    opt2.load_state_dict(state["optimizer"])
    schedule2.load_state_dict(state["scheduler"])
    assert first + rates(opt2, schedule2, unit, EPOCHS, start=4) == lr_curve(section, STEPS_PER_EPOCH)


@pytest.mark.parametrize("kind", ["cosine", "onecycle", "polynomial"])
def test_a_run_extended_on_resume_follows_the_new_plan(kind):
    """4 epochs planned, then resumed to 9: from epoch 5 the rates are those of a 9-epoch plan."""
    short, long = training(kind, "step", 2, epochs=4), training(kind, "step", 2, epochs=EPOCHS)
    opt, schedule = fresh(short)
    rates(opt, schedule, "step", 4)
    state = {"optimizer": opt.state_dict(), "scheduler": schedule.state_dict()}
    opt2, schedule2 = fresh(long)
    opt2.load_state_dict(state["optimizer"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schedule2.load_state_dict(state["scheduler"])
    assert rates(opt2, schedule2, "step", EPOCHS, start=4) == lr_curve(long, STEPS_PER_EPOCH)[4 * STEPS_PER_EPOCH:]


def test_a_checkpoint_of_the_formula_scheduler_before_torchs_resumes_at_its_step():
    section = training("cosine", "epoch", 1)
    opt, schedule = fresh(section)
    old = {"base_lrs": [0.1], "last_epoch": 3, "_step_count": 4, "_last_lr": [0.05]}  # FormulaLR's state
    schedule.load_state_dict(old)
    assert rates(opt, schedule, "epoch", EPOCHS, start=3) == lr_curve(section, STEPS_PER_EPOCH)[3 * STEPS_PER_EPOCH:]


def test_one_cycle_with_a_warm_up_phase_of_zero_length():
    """pct_start × length = 1: torch's OneCycleLR would divide by zero; engine.schedule starts at the peak."""
    section = training("onecycle", "epoch", 0, epochs=10)
    section["schedule"]["pct_start"] = 0.1
    opt, schedule = fresh(section)
    assert rates(opt, schedule, "epoch", 10) == lr_curve(section, STEPS_PER_EPOCH)


def test_one_cycle_keeps_the_users_momentum():
    opt, schedule = fresh(training("onecycle", "step", 0))
    rates(opt, schedule, "step", 2)
    assert opt.param_groups[0]["momentum"] == 0.9
