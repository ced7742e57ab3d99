"""Dataset figures (issue 3). Prints each figure; timings are the median and spread of >= 5
alternating runs.

    python benchmarks/bench_data.py                 everything (a few minutes on 2 cores)
    python benchmarks/bench_data.py --part gen      one part: gen, difficulty, waves, folder, resident
    python benchmarks/bench_data.py --part resident --device cuda

Parts:
- gen: builtin:shapes generation of the default size (10,000 samples: 8,000 training images).
- difficulty: builtin:shapes validation accuracy of a linear classifier on raw pixels (must be
  <= 60%) and of LeNet-5 trained like the sample project (SGD lr 0.05, momentum 0.9, batch 64,
  5 epochs; must be >= 95%), several seeds; plain torch loop, model built by hand.
- waves: builtin:waves, linear classifier vs a small Conv1d, same loop.
- folder: 10,000 32x32 PNGs, open_dataset + one full training epoch touching every page:
  first pass (decode into the cache) vs cached pass; absolute images/s and the ratio.
- resident: the device-resident training path with flip + crop, batch 512, images/s
  (synchronized on CUDA).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))



def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"median {med:.3g} (min {min(values):.3g}, max {max(values):.3g}, n={len(values)})"


# -- gen -------------------------------------------------------------------------------------
def bench_gen(runs: int) -> None:
    from engine.data.shapes import generate_shapes
    from engine.schema.dataset import DATASET_SETTINGS
    size = next(s.param.default for s in DATASET_SETTINGS if s.key == "size")
    times, cpu = [], []
    for i in range(runs):
        t, c = time.perf_counter(), time.process_time()
        generate_shapes(size, seed=i)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(f"shapes generation, {size:,} images ({int(size * 0.8):,} training): wall {spread(times)} s "
          f"({size / statistics.median(times):,.0f} images/s); CPU time (all threads) {spread(cpu)} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


# -- difficulty --------------------------------------------------------------------------------
def _train(model, ds, *, epochs, lr, momentum, batch, seed, threads=1, cosine=False):
    import torch
    from engine.data.loader import make_batch_source
    torch.set_num_threads(threads)
    tr = make_batch_source(ds, "train", batch_size=batch, device="cpu", seed=seed, train=True)
    va = make_batch_source(ds, "val", batch_size=1000, device="cpu", seed=seed, train=False)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * tr.batches_per_epoch) if cosine else None
    accs = []
    for e in range(epochs):
        model.train()
        for x, y in tr.epoch(e):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in va.epoch(0):
                correct += int((model(x).argmax(1) == y).sum())
                total += len(y)
        accs.append(correct / total)
    return accs


def lenet5(channels=3, classes=6):
    import torch.nn as nn
    return nn.Sequential(nn.Conv2d(channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, classes))


def bench_difficulty(seeds: int) -> None:
    import torch
    from engine.data import open_dataset
    ds = open_dataset({"source": "builtin:shapes", "val_fraction": 0.2, "seed": 0}, input_shape=(3, 32, 32))
    print(f"builtin:shapes: {ds.split_size('train'):,} train / {ds.split_size('val'):,} val")
    lin, net, best, low, cos = [], [], [], [], []
    for s in range(seeds):
        torch.manual_seed(s)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 6))
        # the linear model gets a generous budget: 15 epochs, a learning rate that suits it
        lin.append(max(_train(model, ds, epochs=15, lr=0.005, momentum=0.9, batch=64, seed=s)))
        torch.manual_seed(s)
        accs = _train(lenet5(), ds, epochs=5, lr=0.05, momentum=0.9, batch=64, seed=s)
        net.append(accs[-1])
        best.append(max(accs))
        torch.manual_seed(s)
        low.append(_train(lenet5(), ds, epochs=5, lr=0.01, momentum=0.9, batch=64, seed=s)[-1])
        torch.manual_seed(s)
        cos.append(_train(lenet5(), ds, epochs=5, lr=0.05, momentum=0.9, batch=64, seed=s, cosine=True)[-1])
        print(f"  seed {s}: linear best val {lin[-1]:.3f}; LeNet-5 val by epoch "
              f"{' '.join(f'{a:.3f}' for a in accs)}; lr 0.01: {low[-1]:.3f}; lr 0.05 cosine: {cos[-1]:.3f}",
              flush=True)
    print(f"linear classifier on raw pixels, best val accuracy: {spread(lin)} (floor: <= 0.60)")
    print(f"LeNet-5 (sample project: SGD 0.05, momentum 0.9, batch 64), val accuracy after 5 epochs: {spread(net)} "
          f"(goal: >= 0.95)")
    print(f"  best epoch within the 5: {spread(best)}")
    print(f"  same with lr 0.01: {spread(low)}; with lr 0.05 and a per-step cosine decay: {spread(cos)}")


# -- waves -----------------------------------------------------------------------------------
def bench_waves(seeds: int) -> None:
    import torch
    import torch.nn as nn
    from engine.data import open_dataset
    ds = open_dataset({"source": "builtin:waves", "val_fraction": 0.2, "seed": 0})
    lin, conv = [], []
    for s in range(seeds):
        torch.manual_seed(s)
        lin.append(max(_train(nn.Sequential(nn.Flatten(), nn.Linear(128, 4)), ds, epochs=15, lr=0.01,
                              momentum=0.9, batch=64, seed=s)))
        torch.manual_seed(s)
        model = nn.Sequential(nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(), nn.MaxPool1d(2),
                              nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                              nn.Linear(32, 4))
        conv.append(_train(model, ds, epochs=5, lr=0.05, momentum=0.9, batch=64, seed=s)[-1])
    print(f"builtin:waves linear classifier, best val accuracy: {spread(lin)}")
    print(f"builtin:waves small Conv1d (2 conv layers), val accuracy after 5 epochs: {spread(conv)}")


# -- folder ----------------------------------------------------------------------------------
def make_pngs(root: Path, n: int) -> None:
    from PIL import Image
    from engine.data.shapes import generate_shapes
    x, y = generate_shapes(n, seed=1)
    names = ["circle", "square", "triangle", "cross", "ring", "star"]
    for k in names:
        (root / k).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(x[i].transpose(1, 2, 0)).save(root / names[y[i]] / f"{i:05d}.png")


def bench_folder(runs: int, n: int) -> None:
    import torch
    from engine.data import open_dataset
    from engine.data.loader import make_batch_source
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="bench-data-"))
    try:
        root = work / "pngs"
        make_pngs(root, n)
        cfg = {"source": f"folder:{root}", "val_fraction": 0.0}

        def one_pass(cache: Path) -> float:
            t = time.perf_counter()
            ds = open_dataset(cfg, input_shape=(3, 32, 32), cache_dir=cache)
            src = make_batch_source(ds, "train", batch_size=256, device="cpu", seed=0, train=True, augment={})
            total = 0.0
            for x, _ in src.epoch(0):
                total += float(x[:, 0, 0, 0].sum())  # touch the batch
            return time.perf_counter() - t

        first, cached = [], []
        for i in range(runs):
            cache = work / f"cache{i}"
            first.append(one_pass(cache))
            cached.append(one_pass(cache))
            shutil.rmtree(cache)
        f, c = statistics.median(first), statistics.median(cached)
        print(f"folder of {n:,} 32x32 PNGs, open + one training epoch:")
        print(f"  first pass (scan, decode, cache): {spread(first)} s -> {n / f:,.0f} images/s")
        print(f"  cached pass:                      {spread(cached)} s -> {n / c:,.0f} images/s")
        print(f"  cached / first speed: {f / c:.1f}x (goal: >= 20x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- resident --------------------------------------------------------------------------------
def bench_resident(runs: int, device: str, n: int, threads: int) -> None:
    import torch
    from engine.data import open_dataset
    from engine.data.loader import make_batch_source
    if device == "cpu":
        torch.set_num_threads(threads)
    ds = open_dataset({"source": "builtin:shapes", "size": n, "val_fraction": 0.0}, input_shape=(3, 32, 32))
    src = make_batch_source(ds, "train", batch_size=512, device=device, seed=0, train=True,
                            augment={"hflip": True, "crop_padding": 4}, resident=True)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for x, _ in src.epoch(0):  # warm-up
        pass
    rates = []
    for e in range(1, runs + 1):
        sync()
        t = time.perf_counter()
        count = 0
        for x, _ in src.epoch(e):
            count += x.shape[0]
        sync()
        rates.append(count / (time.perf_counter() - t))
    where = f"cpu, {threads} thread(s)" if device == "cpu" else device
    print(f"resident path on {where}, flip + crop (pad 4), batch 512, {src.num_samples:,} images/epoch: "
          f"{spread(rates)} images/s")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("gen", "difficulty", "waves", "folder", "resident"), action="append")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--folder-size", type=int, default=10_000)
    ap.add_argument("--resident-size", type=int, default=50_000)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads of the resident part (torch)")
    args = ap.parse_args(argv)
    parts = args.part or ["gen", "difficulty", "waves", "folder", "resident"]
    os.environ.setdefault("LAYERSTUDIO_CACHE_DIR", tempfile.mkdtemp(prefix="bench-data-cache-"))
    if "gen" in parts:
        bench_gen(args.runs)
    if "difficulty" in parts:
        bench_difficulty(args.seeds)
    if "waves" in parts:
        bench_waves(args.seeds)
    if "folder" in parts:
        bench_folder(args.runs, args.folder_size)
    if "resident" in parts:
        bench_resident(args.runs, args.device, args.resident_size, args.threads)


if __name__ == "__main__":
    main()
