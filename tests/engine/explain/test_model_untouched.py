"""After any explanation — finished, failed or cancelled — the model is exactly as before:
no hooks, same train/eval flags, same requires_grad, no gradients written, no memory kept."""
import gc
import tracemalloc

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.modules import module as module_globals

from engine.errors import Cancelled, ExplainError
from engine.explain import (attribute, classify_image, fgsm, maximize_activation, run_probes,
                            unwrap)
from engine.explain.preprocess import Preprocess

from .nets import lenet, small

HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
              "_state_dict_hooks", "_load_state_dict_pre_hooks")
GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                "_global_backward_pre_hooks")


def snapshot(net: nn.Module):
    return {
        "hooks": [(name, d, len(getattr(m, d))) for name, m in net.named_modules() for d in HOOK_DICTS],
        "global": [len(getattr(module_globals, g)) for g in GLOBAL_HOOKS],
        "modes": [(name, m.training) for name, m in net.named_modules()],
        "requires_grad": [(n, p.requires_grad) for n, p in net.named_parameters()],
        "grads": [(n, None if p.grad is None else p.grad.clone()) for n, p in net.named_parameters()],
        "weights": {k: v.clone() for k, v in net.state_dict().items()},
    }


def assert_same(before, after):
    assert after["hooks"] == before["hooks"]
    assert after["global"] == before["global"]
    assert after["modes"] == before["modes"]
    assert after["requires_grad"] == before["requires_grad"]
    for (n, g0), (_, g1) in zip(before["grads"], after["grads"]):
        assert (g0 is None) == (g1 is None), n
        if g0 is not None:
            assert torch.equal(g0, g1), n
    for k, v in before["weights"].items():
        assert torch.equal(v, after["weights"][k]), k


@pytest.fixture
def training_net():
    """A LeNet mid-training: train mode, one frozen layer, one eval-mode submodule, and
    gradients left over from a step."""
    torch.manual_seed(0)
    net = lenet().train()
    net[0].weight.requires_grad_(False)
    net[9].eval()
    net(torch.randn(2, 3, 32, 32)).sum().backward()
    return net


CALLS = {
    "saliency": lambda net, x: attribute(net, x, "saliency"),
    "smoothgrad": lambda net, x: attribute(net, x, "smoothgrad", samples=4),
    "integrated_gradients": lambda net, x: attribute(net, x, "integrated_gradients", steps=8),
    "grad_cam": lambda net, x: attribute(net, x, "grad_cam", layer="3"),
    "occlusion": lambda net, x: attribute(net, x, "occlusion", window=8, stride=8),
    "probes": lambda net, x: run_probes(net, x, [0, 1]),
    "fgsm": lambda net, x: fgsm(net, x, [0, 1], 0.05),
    "activation_max": lambda net, x: maximize_activation(net, (3, 32, 32), layer="3", channel=1, steps=3),
    "classify": lambda net, x: classify_image(net, x[0], Preprocess((3, 32, 32))),
}


@pytest.mark.parametrize("name", CALLS)
def test_model_is_untouched(training_net, name):
    x = torch.randn(2, 3, 32, 32)
    x0 = x.clone()
    before = snapshot(training_net)
    CALLS[name](training_net, x)
    assert_same(before, snapshot(training_net))
    assert torch.equal(x, x0) and not x.requires_grad and x.grad is None


def test_model_is_untouched_after_errors_and_cancel(training_net):
    x = torch.randn(2, 3, 32, 32)
    before = snapshot(training_net)
    with pytest.raises(ExplainError):
        attribute(training_net, x, "grad_cam", layer="7")           # a Linear: no feature map
    with pytest.raises(ExplainError):
        attribute(training_net, torch.randn(2, 1, 32, 32), "saliency")  # wrong channel count
    calls = []
    with pytest.raises(Cancelled):
        attribute(training_net, x, "integrated_gradients", steps=16, batch_size=4,
                  cancel=lambda: len(calls) >= 2, progress=calls.append)
    assert len(calls) == 2
    assert_same(before, snapshot(training_net))


def test_runs_inside_no_grad_and_inference_mode(training_net):
    x = torch.randn(2, 3, 32, 32)
    want = run_probes(training_net, x, [0, 1]).saliency
    with torch.no_grad():
        np.testing.assert_array_equal(run_probes(training_net, x, [0, 1]).saliency, want)
    with torch.inference_mode():
        np.testing.assert_array_equal(attribute(training_net, x, "saliency").display, want)


def test_wrapped_models_are_explained_through_the_plain_module():
    torch.manual_seed(0)
    net = lenet()
    x = torch.randn(2, 3, 32, 32)
    want = run_probes(net, x, [0, 1])
    compiled = torch.compile(net)     # never called: unwrap must reach _orig_mod first
    parallel = nn.DataParallel(net)   # on CPU a plain pass-through wrapper
    for wrapped in (compiled, parallel, nn.DataParallel(torch.compile(net))):
        assert unwrap(wrapped) is net
        got = run_probes(wrapped, x, [0, 1])
        np.testing.assert_array_equal(got.saliency, want.saliency)
        np.testing.assert_array_equal(got.gradcam, want.gradcam)


def test_ddp_wrapped_model():
    dist = pytest.importorskip("torch.distributed")
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("no gloo backend")
    store = dist.HashStore()
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        net = small()
        ddp = nn.parallel.DistributedDataParallel(net)
        assert unwrap(ddp) is net
        x = torch.randn(2, 3, 8, 8)
        before = snapshot(net)
        a = attribute(ddp, x, "saliency")
        np.testing.assert_array_equal(a.raw, attribute(net, x, "saliency").raw)
        assert_same(before, snapshot(net))
        # DDP still trains normally afterwards (its gradient hooks were never triggered)
        ddp(x).sum().backward()
        assert all(p.grad is not None for p in net.parameters())
    finally:
        dist.destroy_process_group()


def _live_objects() -> tuple[int, int]:
    """(tensors, all gc-tracked objects); type() rather than isinstance(): the latter trips
    deprecation shims in torch.distributed that warn on attribute access."""
    gc.collect()
    objects = gc.get_objects()
    return sum(1 for o in objects if issubclass(type(o), torch.Tensor)), len(objects)


def test_memory_stays_flat_over_a_thousand_probe_calls():
    torch.manual_seed(0)
    net = small().train()
    x, y = torch.randn(8, 3, 8, 8), torch.arange(8) % 3
    for _ in range(20):
        run_probes(net, x, y)
    tensors, objects = _live_objects()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            run_probes(net, x, y)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 32 * 1024, f"{end - start} bytes kept after 1000 calls"
    after_tensors, after_objects = _live_objects()
    assert after_tensors <= tensors
    assert after_objects - objects < 100
    assert all(len(getattr(m, d)) == 0 for m in net.modules() for d in HOOK_DICTS[:4])
    assert all(p.grad is None and p.requires_grad for p in net.parameters())


def test_memory_stays_flat_over_repeated_captum_calls():
    torch.manual_seed(0)
    net = small()
    x = torch.randn(2, 3, 8, 8)
    for _ in range(10):
        attribute(net, x, "saliency"), attribute(net, x, "grad_cam")
    tensors, objects = _live_objects()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(100):
            attribute(net, x, "saliency"), attribute(net, x, "grad_cam")
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 32 * 1024, f"{end - start} bytes kept after 200 calls"
    after_tensors, after_objects = _live_objects()
    assert after_tensors <= tensors
    assert after_objects - objects < 100
