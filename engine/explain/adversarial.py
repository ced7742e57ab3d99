"""Adversarial examples by the fast gradient sign method (Goodfellow et al., 2015).

x_adv = clamp(x + ε · sign(∇_x loss(x, label)), valid pixel range). ε is in pixel units (a
fraction of the 0..1 range, what a user's slider means), so in normalized space the step of
channel c is ε / std_c, and the clamp keeps every pixel between 0 and 1 once un-normalized."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ExplainError
from engine.explain.inputs import as_batch, logits, resolve_targets
from engine.explain.model_state import explaining


@dataclass(frozen=True)
class Adversarial:
    """Per image (leading dimension N), all images in normalized space."""
    epsilon: float
    original: np.ndarray          # float32 [N, C, H, W]
    adversarial: np.ndarray       # float32 [N, C, H, W]
    perturbation: np.ndarray      # float32 [N, C, H, W]: adversarial − original
    labels: np.ndarray            # int64 [N]
    original_class: np.ndarray    # int64 [N]
    original_confidence: np.ndarray     # float32 [N]
    adversarial_class: np.ndarray       # int64 [N]
    adversarial_confidence: np.ndarray  # float32 [N]
    original_loss: np.ndarray     # float32 [N]: cross-entropy against the label
    adversarial_loss: np.ndarray  # float32 [N]


def fgsm(model: nn.Module, images: torch.Tensor, labels, epsilon: float, *,
         mean: Sequence[float] = (0.0,), std: Sequence[float] = (1.0,)) -> Adversarial:
    """FGSM on one image [C, H, W] or a batch, against ``labels`` (the true classes; pass the
    predicted ones to attack the model's own decision). ``mean``/``std`` are the dataset's."""
    if not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) or not 0 <= epsilon <= 1:
        raise ExplainError(f"ε is a fraction of the pixel range, between 0 and 1; got {epsilon!r}",
                           key="epsilon")
    with explaining(model) as module:
        x = as_batch(images, module)
        c = x.shape[1]
        m, s = (torch.as_tensor(np.ravel(a), dtype=torch.float32, device=x.device) for a in (mean, std))
        if m.numel() not in (1, c) or s.numel() not in (1, c) or bool((s <= 0).any()):
            raise ExplainError(f"mean/std need 1 or {c} values, std positive", key="dataset")
        m, s = m.expand(c)[:, None, None], s.expand(c)[:, None, None]
        lo, hi = -m / s, (1 - m) / s
        x.requires_grad_(True)
        out = logits(module, x)
        y = resolve_targets(labels, out)
        loss = F.cross_entropy(out, y, reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), x)
        with torch.no_grad():
            adv = torch.maximum(torch.minimum(x + (epsilon / s) * grad.sign(), hi), lo)
            out_adv = logits(module, adv)
            loss_adv = F.cross_entropy(out_adv, y, reduction="none")
            conf, pred = out.detach().softmax(dim=1).max(dim=1)
            conf_adv, pred_adv = out_adv.softmax(dim=1).max(dim=1)
        x = x.detach()

        def np32(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().numpy().astype(np.float32)

        return Adversarial(float(epsilon), np32(x), np32(adv), np32(adv - x), y.cpu().numpy(),
                           pred.cpu().numpy(), np32(conf), pred_adv.cpu().numpy(), np32(conf_adv),
                           np32(loss), np32(loss_adv))
