"""Live probes: saliency and Grad-CAM for a fixed set of images, every few seconds of training.

Captum runs one forward/backward per method; here both maps come from a single forward and a
single backward for the whole probe batch (the gradient of Σ_i score_i[target_i] with respect
to the images and to the layer's activation). In eval mode every image's score depends on that
image only, so the summed gradient equals the per-image gradients Captum computes (a test
checks the equality); it halves the cost, and probes must not slow training down."""
from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ExplainError
from engine.explain.inputs import as_batch, logits
from engine.explain.layers import LayerRef, captured_output, resolve_layer
from engine.explain.maps import downscale
from engine.explain.model_state import explaining
from engine.explain.probe_result import ProbeResult


def run_probes(model: nn.Module, images: torch.Tensor, labels, layer: LayerRef = None, *,
               explain: Literal["predicted", "label"] = "predicted",
               max_side: int | None = 64) -> ProbeResult:
    """Saliency (max over channels of |d score / d pixel|) and Grad-CAM on ``layer`` (node id,
    submodule or None = the last Conv2d, upsampled bilinearly to the image size) for the probe
    images [N, C, H, W], explaining the predicted class or the label. Maps are downscaled to
    ``max_side`` for streaming. The model is left exactly as it was (see ``explaining``)."""
    if explain not in ("predicted", "label"):
        raise ExplainError(f"explain must be 'predicted' or 'label', got {explain!r}", key="explain")
    with explaining(model) as module:
        x = as_batch(images, module)
        # labels are checked on the host: a bad index on CUDA would be a device-side assert
        y_host = torch.as_tensor(labels).detach().cpu().long().reshape(-1)
        if len(y_host) != len(x):
            raise ExplainError(f"{len(y_host)} labels for {len(x)} probe images", key="labels")
        name, lay = resolve_layer(module, layer)
        with captured_output(module, name, lay) as box:
            out = logits(module, x)
        probs = out.detach().softmax(dim=1)
        confidence, predicted = probs.max(dim=1)
        if explain == "label" and (int(y_host.min()) < 0 or int(y_host.max()) >= out.shape[1]):
            raise ExplainError(f"a label is not a class of this network ({out.shape[1]} classes)",
                               key="labels")
        targets = predicted if explain == "predicted" else y_host.to(x.device)
        score = out.gather(1, targets[:, None]).sum()
        grad_x, grad_a = torch.autograd.grad(score, (x, box["out"]))
        act = box["out"].detach()
        saliency = grad_x.abs().amax(dim=1)
        weights = grad_a.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * act).sum(dim=1, keepdim=True))
        cam = F.interpolate(cam, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
        maps = downscale(torch.stack([saliency, cam]).flatten(0, 1), max_side)
        maps = maps.unflatten(0, (2, len(x)))
        scale = maps.flatten(2).amax(dim=2)                                  # [2, N]
        maps = maps / torch.where(scale > 0, scale, torch.ones_like(scale))[..., None, None]
        # two device→host copies in all: maps, then every per-probe number packed together
        maps_np = maps.cpu().numpy()
        stats = torch.stack([scale[0], scale[1], confidence, predicted.float(),
                             targets.float()]).cpu().numpy()
    return ProbeResult(saliency=maps_np[0], gradcam=maps_np[1],
                       saliency_scale=stats[0].copy(), gradcam_scale=stats[1].copy(),
                       predicted=stats[3].astype(np.int64), confidence=stats[2].copy(),
                       labels=y_host.numpy(), targets=stats[4].astype(np.int64))
