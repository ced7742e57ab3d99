"""The baseline of benchmarks/bench_train.py: LeNet-5 trained by a plain, hand-written PyTorch
loop, the way one would write it without LayerStudio, and without a host sync per step.

Same data as the engine (the arrays engine.data generates, normalized once and kept in
memory on the device), same model (LeNet-5 as in assets/sample.json, written out as an
nn.Sequential), same optimizer, batch size, thread count and device. Per-step loss and
correct counts are summed on the device; the host reads them once per epoch. A validation
pass ends each epoch, as the engine's does.

    python -m benchmarks.baselines.plain_loop --epochs 6 --batch-size 64 --threads 1 --size 4800
        [--ema DECAY] [--clip NORM] [--precision bf16|fp16] [--image-size 28 --channels 1]
prints one JSON line: {"train_images_per_s", "epoch_images_per_s", "cpu_…", "epochs", "samples",
...}: training throughput (the training loops of epochs 2..E) and whole-epoch throughput (from
the end of epoch 1 to the end of epoch E, validation included), per wall-clock and CPU second.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import time

import torch
from torch import nn
from torch.nn import functional as F


def lenet5(classes: int = 6, channels: int = 3, image_size: int = 32) -> nn.Module:
    side = ((image_size - 4) // 2 - 4) // 2  # after two 5×5 convolutions, each with a 2×2 pooling
    return nn.Sequential(
        nn.Conv2d(channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, classes))


def load(size: int, device: torch.device, channels: int = 3, image_size: int = 32):
    from engine.data import open_dataset
    ds = open_dataset({"source": "builtin:shapes", "size": size, "val_fraction": 0.2, "seed": 0,
                       "image_size": [image_size, image_size], "channels": channels},
                      input_shape=(channels, image_size, image_size))
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
    # the training options of issue 6, written by hand the way one would without LayerStudio
    ap.add_argument("--ema", type=float, default=0.0, help="moving average of the weights (validated), e.g. 0.999")
    ap.add_argument("--clip", type=float, default=0.0, help="clip the gradients' total norm to this")
    ap.add_argument("--precision", choices=("off", "bf16", "fp16"), default="off", help="autocast dtype")
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=3)
    args = ap.parse_args(argv)
    if args.keep_freed_memory:
        from engine.train.host_malloc import keep_freed_memory
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    (x, y), (vx, vy), classes = load(args.size, device, args.channels, args.image_size)
    model = lenet5(classes, args.channels, args.image_size).to(device)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9)
    averaged = copy.deepcopy(model) if args.ema else model
    pairs = [(a, b) for a, b in zip(averaged.state_dict().values(), model.state_dict().values())
             if a.is_floating_point()] if args.ema else []
    avg, src = [a for a, _ in pairs], [b for _, b in pairs]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else contextlib.nullcontext
    scaler = torch.amp.GradScaler(device.type) if args.precision == "fp16" else None
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
            with autocast():
                out = model(xb)
                loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                if args.clip:
                    torch.nn.utils.clip_grad_norm_(params, args.clip, foreach=True)
                opt.step()
            else:
                scaler.scale(loss).backward()
                if args.clip:
                    scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(params, args.clip, foreach=True)
                scaler.step(opt)
                scaler.update()
            if args.ema:
                torch._foreach_lerp_(avg, src, 1.0 - args.ema)
            loss_sum += loss.detach() * len(idx)
            correct += (out.argmax(1) == yb).sum()
        train_loss, train_acc = loss_sum.item() / n, correct.item() / n  # one sync per epoch
        ends.append((time.perf_counter(), time.process_time()))
        averaged.eval()
        with torch.inference_mode():
            val_correct = sum(int((averaged(vx[i:i + bs]).argmax(1) == vy[i:i + bs]).sum())
                              for i in range(0, len(vy), bs))
        marks.append((time.perf_counter(), time.process_time()))
    from benchmarks.bench_train import rates  # the same arithmetic as the engine's figures
    result = {**rates(n, args.epochs, starts, ends, marks), "epochs": args.epochs, "samples": n,
              "train_loss": train_loss, "train_acc": train_acc, "val_acc": val_correct / len(vy)}
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
