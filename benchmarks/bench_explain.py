"""Interpretability speed (issue 8). Prints medians and spreads of >= 5 alternating runs:

1. Live probes: Saliency + Grad-CAM on 8 probes of the LeNet-5 template (3×32×32, 6 classes),
   ms of compute per round: engine.explain.run_probes (one forward + one backward for both
   maps) against the plain Captum baseline (Saliency, then LayerGradCam + upsampling).
   Goal: ≤ 10 ms on CPU.
2. Integrated Gradients, 32 steps, one image of the ResNet template (basic blocks, 3×32×32),
   engine.explain.integrated_gradients against plain Captum. Goal: ≤ 1 s on CPU.

    python benchmarks/bench_explain.py [--device cpu|cuda] [--threads N] [--runs 7]

Models come from the app's templates through engine.build (hand-built stand-ins otherwise).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency  # noqa: E402
from torch import nn  # noqa: E402

from engine.explain import estimate_cost, integrated_gradients, run_probes  # noqa: E402


def template(name: str) -> nn.Module | None:
    try:
        from engine.build import build_module
        from engine.project import load
    except ImportError:
        return None
    return build_module(load(ROOT / "assets" / "templates" / f"{name}.json").graph)


def lenet5() -> tuple[nn.Module, str]:
    gm = template("lenet5")
    if gm is not None:
        return gm, "c3"
    net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84),
                        nn.Tanh(), nn.Linear(84, 6))
    return net, "3"


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = (nn.Identity() if stride == 1 and cin == cout else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


def resnet() -> nn.Module:
    gm = template("resnet")
    if gm is not None:
        return gm
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for cout, stride in ((16, 1), (16, 1), (32, 2), (32, 1), (64, 2), (64, 1)):
        layers.append(Block(cin, cout, stride))
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 6))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, calls: int) -> float:
    """Mean seconds per call over ``calls`` calls."""
    sync(device)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / calls


def compare(label: str, unit: float, unit_name: str, fns: dict, device, runs: int, calls: int) -> dict:
    for fn in fns.values():  # warm-up: allocator, lazy init, cuDNN autotune
        for _ in range(3):
            fn()
    samples = {k: [] for k in fns}
    for _ in range(runs):  # alternate so that machine load hits every variant alike
        for k, fn in fns.items():
            samples[k].append(timed(fn, device, calls) / unit)
    print(label)
    medians = {}
    for k, xs in samples.items():
        medians[k] = statistics.median(xs)
        print(f"  {k:<36} median {medians[k]:8.2f} {unit_name}   spread {min(xs):.2f}–{max(xs):.2f}")
    return medians


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {name}, median of {args.runs} alternating runs")

    net, layer_id = lenet5()
    net = net.to(device).eval()
    layer = net.get_submodule(getattr(net, "layer_names", {}).get(layer_id, layer_id))
    x, y = torch.randn(8, 3, 32, 32, device=device), torch.arange(8, device=device) % 6

    def captum_probes():
        t = net(x).argmax(dim=1)
        sal = Saliency(net).attribute(x.clone().requires_grad_(True), target=t, abs=True).amax(dim=1)
        cam = LayerGradCam(net, layer).attribute(x, target=t, relu_attributions=True)
        cam = LayerAttribution.interpolate(cam, (32, 32), interpolate_mode="bilinear")
        return sal.cpu().numpy(), cam.detach().cpu().numpy()

    probes = compare("Saliency + Grad-CAM, 8 probes, LeNet-5 (goal ≤ 10 ms)", 1e-3, "ms", {
        "engine.explain.run_probes": lambda: run_probes(net, x, y, layer=layer_id),
        "Captum Saliency + LayerGradCam": captum_probes,
    }, device, args.runs, calls=50)

    model = resnet().to(device).eval()
    image = torch.randn(1, 3, 32, 32, device=device)
    ig = compare("Integrated Gradients, 32 steps, 1 image, ResNet template (goal ≤ 1 s)", 1e-3, "ms", {
        "engine.explain.integrated_gradients": lambda: integrated_gradients(model, image, 0, steps=32),
        "Captum IntegratedGradients": lambda: IntegratedGradients(model).attribute(
            image, target=0, n_steps=32, internal_batch_size=32),
    }, device, max(5, args.runs), calls=1)

    cost = estimate_cost(model, image[0], "integrated_gradients", steps=32)
    print(f"  estimate shown before IG runs: {cost.passes} passes, {cost.rows} images, "
          f"{cost.seconds * 1e3:.0f} ms (measured {ig['engine.explain.integrated_gradients']:.0f} ms)")
    ok_probe = probes["engine.explain.run_probes"] <= 10
    ok_ig = ig["engine.explain.integrated_gradients"] <= 1000
    print(f"probes {'meet' if ok_probe else 'MISS'} the 10 ms goal; "
          f"IG {'meets' if ok_ig else 'MISSES'} the 1 s goal")


if __name__ == "__main__":
    main()
