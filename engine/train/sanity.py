"""Sanity tools from the seeds, before a long run:

- ``overfit_batch``: train on one batch, again and again, with the project's own recipe
  (optimizer, precision, clipping…). A model and recipe that can learn drive that batch's
  loss near zero (near the floor label smoothing sets); one that cannot has a bug, too little
  capacity or a bad learning rate. Returns the loss curve.
- ``gradient_check``: ``torch.autograd.gradcheck`` of the built model in float64 on a tiny
  random input: the analytical gradients (backward) against finite differences, for the
  input and every parameter at once (fast mode: random projections, a few passes). The model
  is checked in training mode, with dropout's masks fixed for every evaluation.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from engine.errors import ConfigError
from engine.project import Project

#: how far above its floor the final loss may stay for the batch to count as learned
NEAR_ZERO = 0.05
MAX_STEPS = 100_000


@dataclass
class OverfitResult:
    losses: np.ndarray  # float32 [steps]: the batch's loss before each update (training mode)
    final_loss: float  # after the last update, in evaluation mode
    final_accuracy: float
    floor: float  # the lowest loss possible (0 without label smoothing)
    batch_size: int
    learned: bool
    seconds: float
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GradcheckResult:
    ok: bool
    message: str
    tensors: int  # inputs + parameters checked
    elements: int
    seconds: float
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def smoothing_floor(classes: int, eps: float) -> float:
    """The cross-entropy of a perfect prediction against label-smoothed targets."""
    if eps <= 0 or classes < 2:
        return 0.0
    hi, lo = 1.0 - eps + eps / classes, eps / classes
    return -(hi * math.log(hi) + (classes - 1) * lo * math.log(lo))


def overfit_batch(project: Project, steps: int = 200, *, project_path: str | os.PathLike | None = None,
                  device: str | None = None, **trainer_kw: Any) -> OverfitResult:
    """Train ``steps`` updates on the first training batch; raises LayerStudioError for a
    project that cannot train (the same checks as a run), never writes a run directory."""
    from engine.train.trainer import Trainer

    if not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"steps: must be 1 to {MAX_STEPS}, got {steps}", key="steps")
    trainer = Trainer(project, project_path=project_path, run_dir=None, overrides={"device": device}, **trainer_kw)
    trainer.setup()
    x, y = next(iter(trainer.train_source.epoch(0)))
    t0 = time.perf_counter()
    losses = []
    model, step = trainer.model, trainer.step_fn
    model.train()
    for _ in range(steps):
        loss, _ = step(x, y)
        losses.append(loss.detach().float())
    model.eval()
    with torch.no_grad():
        logits = model(x)
        final = float(trainer.criterion(logits.float(), y))
        accuracy = float((logits.argmax(1) == y).float().mean())
    curve = torch.stack(losses).cpu().numpy()
    floor = smoothing_floor(len(trainer.classes), trainer.cfg.get("label_smoothing", 0.0))
    learned = math.isfinite(final) and final - floor <= NEAR_ZERO and accuracy == 1.0
    start = float(curve[0])
    if learned:
        message = (f"the model drove one batch of {len(y)} from loss {start:.3g} to {final:.3g} in {steps} steps: "
                   f"it can learn")
    elif not math.isfinite(final):
        message = f"the loss became {final} while overfitting one batch: lower training.optimizer.lr"
    else:
        message = (f"after {steps} steps on one batch of {len(y)} the loss is still {final:.3g} (from {start:.3g}"
                   f"{f', floor {floor:.3g}' if floor else ''}), accuracy {accuracy:.0%}: try more steps or another "
                   f"learning rate, or check the model's capacity and the labels")
    return OverfitResult(losses=curve, final_loss=final, final_accuracy=accuracy, floor=floor, batch_size=len(y),
                         learned=learned, seconds=time.perf_counter() - t0, message=message)


def gradient_check(project: Project, *, batch_size: int = 2, seed: int = 0) -> GradcheckResult:
    """gradcheck of the built model in float64; raises BuildError for a graph with errors."""
    from torch.autograd.gradcheck import GradcheckError
    from torch.func import functional_call

    from engine.build import build_module, example_inputs

    torch.manual_seed(seed)
    model = build_module(project.graph).double().train()
    gen = torch.Generator().manual_seed(seed)
    inputs = [t.double().requires_grad_() if t.is_floating_point() else t
              for t in example_inputs(model, batch_size=batch_size, generator=gen)]
    names = [n for n, p in model.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]
    checked = [t for t in inputs if t.requires_grad] + params
    if not checked:
        return GradcheckResult(True, "nothing to check: the model has no parameters and no float input", 0, 0, 0.0)
    n_in = len(inputs)

    def fn(*tensors: torch.Tensor) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the same dropout masks at every evaluation
            return functional_call(model, dict(zip(names, tensors[n_in:])), tuple(tensors[:n_in]))

    labels = [f"Input '{n}'" for n, *_ in model.inputs][:n_in] + names
    t0 = time.perf_counter()
    try:
        with _without_slow_mode_report():
            torch.autograd.gradcheck(fn, (*inputs, *params), fast_mode=True, raise_exception=True)
        ok, details, culprit = True, [], None
    except GradcheckError as e:
        ok, details = False, [line for line in str(e).strip().splitlines() if line.strip()][:12]
        m = re.search(r"with respect to input (\d+)", str(e))
        culprit = labels[int(m.group(1))] if m and int(m.group(1)) < len(labels) else None
    seconds = time.perf_counter() - t0
    elements = sum(t.numel() for t in checked)
    what = f"{len(checked)} tensors ({elements:,} values: the input and every parameter)"
    where = f" for {culprit}" if culprit else ""
    message = (f"gradients check out in float64 against finite differences for {what}" if ok else
               f"the gradients do not match finite differences{where}; checked {what}")
    return GradcheckResult(ok, message, len(checked), elements, seconds, details)


@contextlib.contextmanager
def _without_slow_mode_report():
    """On a mismatch, fast gradcheck recomputes the whole Jacobian of the offending tensor in
    slow mode only to print it: minutes for a large layer, for a matrix nobody reads. Its
    first lines say what differs; that is what we show (a private hook: left alone if absent)."""
    module = sys.modules.get("torch.autograd.gradcheck")
    real = getattr(module, "_run_slow_mode_and_get_error", None)
    if real is None:
        yield
        return
    module._run_slow_mode_and_get_error = lambda *args, **kw: ""
    try:
        yield
    finally:
        module._run_slow_mode_and_get_error = real
