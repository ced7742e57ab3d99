"""Attribution methods on Captum: which input pixels (or which regions of a convolution's
feature map, for Grad-CAM) drive the score of a class.

Every function takes a plain, compiled or DDP-wrapped classifier and one image [C, H, W] or a
batch [N, C, H, W] (normalized as in training), explains ``target`` (default: the predicted
class) and returns an :class:`~engine.explain.maps.Attribution` of numpy maps. The model is left
as it was: mode, requires_grad, hooks, gradients and the global random state. The long methods
(SmoothGrad, Integrated Gradients, Occlusion) report ``progress(fraction)`` after every pass and
raise ``Cancelled`` before the next one when ``cancel()`` returns True."""
from __future__ import annotations

import inspect
from typing import Callable

import torch
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, NoiseTunnel, Occlusion, Saliency
from torch import nn

from engine.errors import ExplainError
from engine.explain.cost import occlusion_geometry, plan
from engine.explain.inputs import Target, as_batch, logits, resolve_targets
from engine.explain.layers import LayerRef, captured_output, resolve_layer
from engine.explain.maps import Attribution, make_attribution, reduce_channels
from engine.explain.model_state import explaining
from engine.explain.progress import CancelFn, ProgressFn, Tracker


def _positive(value: int, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExplainError(f"{key} must be a whole number of at least 1, got {value!r}", key=key)
    return value


def _predict(module: nn.Module, x: torch.Tensor, target: Target) -> torch.Tensor:
    with torch.no_grad():
        return resolve_targets(target, logits(module, x))


def saliency(model: nn.Module, inputs: torch.Tensor, target: Target = None, *,
             max_side: int | None = None) -> Attribution:
    """Vanilla gradient: |d score / d pixel|, the largest over the colour channels."""
    with explaining(model) as module:
        x = as_batch(inputs, module)
        t = _predict(module, x, target)
        attr = Saliency(module).attribute(x, target=t, abs=True)
        return make_attribution("saliency", reduce_channels(attr, "absmax"), t, max_side)


def smoothgrad(model: nn.Module, inputs: torch.Tensor, target: Target = None, *,
               samples: int = 16, noise: float = 0.15, batch_size: int = 16, seed: int = 0,
               max_side: int | None = None, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None) -> Attribution:
    """Saliency averaged over ``samples`` noisy copies (noise σ = ``noise`` × the value range of
    the images, as in Smilkov et al.); seeded, and the caller's random state is kept."""
    _positive(samples, "samples")
    _positive(batch_size, "batch_size")
    if not 0 <= noise <= 10:
        raise ExplainError(f"noise must be between 0 and 10 (a fraction of the value range), got {noise}",
                           key="noise")
    with explaining(model) as module:
        x = as_batch(inputs, module)
        tracker = Tracker(module, sum(plan("smoothgrad", len(x), tuple(x.shape[1:]), samples=samples,
                                           batch_size=batch_size)), progress, cancel)
        tracker.check()
        t = _predict(module, x, target)
        stdev = noise * float((x.max() - x.min()).detach())
        with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(seed)
            attr = NoiseTunnel(Saliency(tracker.forward)).attribute(
                x, nt_type="smoothgrad", nt_samples=samples,
                nt_samples_batch_size=min(samples, batch_size), stdevs=stdev, target=t, abs=True)
        return make_attribution("smoothgrad", reduce_channels(attr, "absmax"), t, max_side)


def integrated_gradients(model: nn.Module, inputs: torch.Tensor, target: Target = None, *,
                         steps: int = 32, baseline: float | torch.Tensor = 0.0, batch_size: int = 16,
                         max_side: int | None = None, progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None) -> Attribution:
    """Integrated Gradients from ``baseline`` (0 in normalized space = the dataset's mean
    colour) in ``steps`` steps; the map sums the channels so it keeps completeness
    (the map's sum ≈ score(image) − score(baseline))."""
    _positive(steps, "steps")
    _positive(batch_size, "batch_size")
    with explaining(model) as module:
        x = as_batch(inputs, module)
        tracker = Tracker(module, sum(plan("integrated_gradients", len(x), tuple(x.shape[1:]),
                                           steps=steps, batch_size=batch_size)), progress, cancel)
        tracker.check()
        t = _predict(module, x, target)
        if isinstance(baseline, torch.Tensor):
            baseline = baseline.to(x.device, torch.float32)
        attr = IntegratedGradients(tracker.forward).attribute(
            x, baselines=baseline, target=t, n_steps=steps,
            internal_batch_size=max(batch_size, len(x)))
        return make_attribution("integrated_gradients", reduce_channels(attr, "sum"), t, max_side)


def grad_cam(model: nn.Module, inputs: torch.Tensor, target: Target = None, *,
             layer: LayerRef = None, max_side: int | None = None,
             interpolation: str = "bilinear") -> Attribution:
    """Grad-CAM on ``layer`` (a node id, a submodule or None = the last Conv2d), upsampled to
    the image size: ReLU(Σ_k mean(d score / d A_k) · A_k) over the layer's channels k."""
    with explaining(model) as module:
        x = as_batch(inputs, module)
        name, lay = resolve_layer(module, layer)
        with captured_output(module, name, lay):  # checks the layer's output is [N, C, H, W]
            t = _predict(module, x, target)
        cam = LayerGradCam(module, lay).attribute(x, target=t, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode=interpolation)
        return make_attribution("grad_cam", cam[:, 0], t, max_side)


def occlusion(model: nn.Module, inputs: torch.Tensor, target: Target = None, *,
              window: int | tuple[int, int, int] | None = None,
              stride: int | tuple[int, int, int] | None = None, baseline: float = 0.0,
              batch_size: int = 16, max_side: int | None = None,
              progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Attribution:
    """How much the score drops when a square patch (all channels) is replaced by ``baseline``;
    overlapping windows are averaged. Default patch: 1/8 of the shorter side, half-overlapping."""
    _positive(batch_size, "batch_size")
    with explaining(model) as module:
        x = as_batch(inputs, module)
        shape = tuple(x.shape[1:])
        win, strd = occlusion_geometry(shape, window, stride)
        tracker = Tracker(module, sum(plan("occlusion", len(x), shape, window=win, stride=strd,
                                           batch_size=batch_size)), progress, cancel)
        tracker.check()
        t = _predict(module, x, target)
        attr = Occlusion(tracker.forward).attribute(
            x, sliding_window_shapes=win, strides=strd, baselines=baseline, target=t,
            perturbations_per_eval=batch_size)
        return make_attribution("occlusion", reduce_channels(attr, "mean"), t, max_side)


METHODS: dict[str, Callable[..., Attribution]] = {
    "saliency": saliency, "smoothgrad": smoothgrad, "integrated_gradients": integrated_gradients,
    "grad_cam": grad_cam, "occlusion": occlusion,
}


def attribute(model: nn.Module, inputs: torch.Tensor, method: str, target: Target = None,
              **options) -> Attribution:
    """Dispatch by name (what the engine service receives from the app)."""
    fn = METHODS.get(method)
    if fn is None:
        raise ExplainError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}",
                           key="method")
    accepted = {n for n, p in inspect.signature(fn).parameters.items() if p.kind is p.KEYWORD_ONLY}
    for key in options:
        if key not in accepted:
            raise ExplainError(f"{method} has no option {key!r}; it takes {', '.join(sorted(accepted))}",
                               key=key)
    return fn(model, inputs, target, **options)
