"""The baseline of benchmarks/bench_train.py: LeNet-5 trained by a plain, hand-written PyTorch
loop, the way one would write it without LayerStudio, and without a host sync per step.

Same data as the engine (the arrays engine.data generates, normalized once and kept in
memory on the device), same model (LeNet-5 as in assets/sample.json, written out as an
nn.Sequential), same optimizer, batch size, thread count and device. Per-step loss and
correct counts are summed on the device; the host reads them once per epoch. A validation
pass ends each epoch, as the engine's does.

    python -m benchmarks.baselines.plain_loop --epochs 6 --batch-size 64 --threads 1 --size 4800
prints one JSON line: {"train_images_per_s", "epoch_images_per_s", "cpu_…", "epochs", "samples",
...}: training throughput (the training loops of epochs 2..E) and whole-epoch throughput (from
the end of epoch 1 to the end of epoch E, validation included), per wall-clock and CPU second.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn
from torch.nn import functional as F


def lenet5(classes: int = 6) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))


def load(size: int, device: torch.device):
    from engine.data import open_dataset
    ds = open_dataset({"source": "builtin:shapes", "size": size, "val_fraction": 0.2, "seed": 0},
                      input_shape=(3, 32, 32))
    mean = torch.as_tensor(ds.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.as_tensor(ds.std, dtype=torch.float32).view(1, -1, 1, 1)

    def tensors(split):
        x, y = ds.arrays(split)
        x = (torch.from_numpy(x).float() / 255 - mean) / std
        return x.to(device), torch.from_numpy(y).long().to(device)
    return tensors("train"), tensors("val"), ds.num_classes


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", type=int, default=4800)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--keep-freed-memory", action="store_true",
                    help="apply the engine's malloc tuning (engine.train.host_malloc) to the baseline too")
    args = ap.parse_args(argv)
    if args.keep_freed_memory:
        from engine.train.host_malloc import keep_freed_memory
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    (x, y), (vx, vy), classes = load(args.size, device)
    model = lenet5(classes).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    n, bs = len(y), args.batch_size
    starts, ends, marks = [], [], []
    for epoch in range(args.epochs):
        starts.append((time.perf_counter(), time.process_time()))
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        for idx in torch.randperm(n, generator=gen).to(device).split(bs):
            xb, yb = x[idx], y[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
            correct += (out.argmax(1) == yb).sum()
        train_loss, train_acc = loss_sum.item() / n, correct.item() / n  # one sync per epoch
        ends.append((time.perf_counter(), time.process_time()))
        model.eval()
        with torch.inference_mode():
            val_correct = sum(int((model(vx[i:i + bs]).argmax(1) == vy[i:i + bs]).sum()) for i in range(0, len(vy), bs))
        marks.append((time.perf_counter(), time.process_time()))
    from benchmarks.bench_train import rates  # the same arithmetic as the engine's figures
    result = {**rates(n, args.epochs, starts, ends, marks), "epochs": args.epochs, "samples": n,
              "train_loss": train_loss, "train_acc": train_acc, "val_acc": val_correct / len(vy)}
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
