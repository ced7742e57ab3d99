"""Training speed: the engine through the ``layerstudio train`` code path ÷ a plain PyTorch loop.

Same model (the LeNet-5 sample), same in-memory data (engine.data's builtin:shapes), batch
size, thread count and device. The engine runs exactly as the command line runs it, with its
progress bar, metrics.jsonl, status heartbeat and checkpoints, and with event streaming on:
every event is also encoded for the wire and sent over a socket to a thread that decodes
them (what the app's side does). The baseline is benchmarks/baselines/plain_loop.py (no
host sync per step). Both validate once per epoch.

The figure is training throughput: images per second over the training loops of epochs
2..E (epoch 1 is warm-up), timed from outside the loop (for the engine: from the end of one
epoch's checkpoint to the next epoch's summary event). A second figure, whole epochs, runs
from the end of epoch 1 to the end of the last, so the engine's validation, checkpoints
(fsync'd) and run-directory writes count too. Each run is a fresh process; engine and
baseline runs alternate (≥ 5 each). Prints the median and spread of each, and the ratios.
Each figure is also given per CPU second (process_time of all the process's threads): on a
machine shared with other work, wall-clock time mostly measures the neighbours, CPU time
measures the work done (the engine's extra threads, event encoding and writing included).

    python benchmarks/bench_train.py [--runs 5] [--epochs 6] [--batch-size 64] [--threads 1]
                                     [--device cpu] [--size 4800] [--tuned-baseline] [--pin CPU]
                                     [--ema-clip] [--precision bf16|fp16] [--image-size S --channels C]
                                     [--resident] [--gpu]

On the CPU the engine keeps freed activation memory in the heap (engine.train.host_malloc);
``--tuned-baseline`` gives the plain loop the same malloc settings, so the ratio then measures
only the loop's own overhead (metrics, events, run-directory writes).

``--ema-clip`` turns on an exponential moving average of the weights (decay 0.999, used for
validation) and gradient clipping (norm 1.0) in both: the engine through its settings, the
baseline written by hand (foreach lerp, clip_grad_norm_). ``--precision``, ``--image-size``,
``--channels`` and ``--resident`` likewise apply to both.

``--gpu`` is issue 6's GPU figure: LeNet-5 on 28×28 grayscale data, batch 512, data resident
in GPU memory, bf16 autocast, 60,000 samples, on cuda (the epoch-end reads synchronize the
GPU, so the timings are of finished work). Goal there: ≥ 500,000 images/s on an H100-class
GPU and engine ÷ plain ≥ 0.97.

Goals: engine ÷ plain ≥ 0.97 on CPU (issue 4); ≥ 0.95 with ``--ema-clip`` (issue 6).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def engine_child(args: argparse.Namespace) -> dict:
    """One engine run in this process, through the CLI code path."""
    from engine.cli import main as cli
    from engine.cli import train as train_cmd
    from engine.runs import events as ev
    from engine.service.channel import channel_pair, Channel

    doc = json.loads((ROOT / "assets" / "sample.json").read_text())
    doc["dataset"] = {"source": "builtin:shapes", "size": args.size, "val_fraction": 0.2, "seed": 0,
                      "image_size": [args.image_size, args.image_size], "channels": args.channels}
    if args.resident:
        doc["dataset"]["resident"] = True
    next(n for n in doc["graph"]["nodes"] if n["type"] == "Input")["params"]["shape"] = \
        [args.channels, args.image_size, args.image_size]
    doc["training"].update({"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device,
                            "threads": args.threads, "seed": 0, "mixed_precision": args.precision,
                            "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}})
    if args.ema_clip:
        doc["training"].update({"ema": {"decay": EMA_DECAY}, "gradient": {"clip_norm": CLIP_NORM}})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lenet.json"
        path.write_text(json.dumps(doc))
        # event streaming: encode every event and drain it on another thread, as the app does
        ours, theirs = channel_pair()
        reader = Channel(theirs)
        received = []

        def drain():
            while (msg := reader.recv()) is not None:
                received.append(ev.event_from_dict(msg["event"]).type)
        consumer = threading.Thread(target=drain, daemon=True)
        consumer.start()
        starts, ends, marks = [], [], []

        def sink(event):
            now = (time.perf_counter(), time.process_time())
            if isinstance(event, (ev.Started, ev.CheckpointSaved)):
                starts.append(now)  # the next epoch's training starts now
            elif isinstance(event, ev.EpochEnd):
                ends.append(now)
            elif isinstance(event, ev.Validation):
                marks.append(now)
            ours.try_send({"event": event.to_dict()})

        parsed = cli.build_parser("train").parse_args(["train", str(path), "--run-dir", str(Path(tmp) / "run")])
        with open(os.devnull, "w") as devnull:
            code = train_cmd.train(parsed, sinks=[sink], err=devnull)
        ours.close()
        consumer.join(10)
        assert code == 0, f"the engine run exited {code}"
        n = json.loads((Path(tmp) / "run" / "config.json").read_text())["train_samples"]
    return rates(n, args.epochs, starts, ends, marks) | {"samples": n, "events": len(received)}


def rates(n: int, epochs: int, starts: list, ends: list, marks: list) -> dict:
    """Images per second of wall-clock time and of CPU time (all threads of the process),
    from (perf_counter, process_time) pairs: the training loop of epoch e runs from the last
    start before its end to its end; whole epochs from the first mark to the last."""
    timed = epochs - 1
    out = {}
    for i, clock in enumerate(("", "cpu_")):
        train = [end[i] - max(s[i] for s in starts if s[0] < end[0]) for end in ends]
        out[f"{clock}train_images_per_s"] = timed * n / sum(train[1:])
        out[f"{clock}epoch_images_per_s"] = timed * n / (marks[-1][i] - marks[0][i])
    return out


EMA_DECAY, CLIP_NORM = 0.999, 1.0


def child_command(kind: str, args: argparse.Namespace) -> list[str]:
    common = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--threads", str(args.threads),
              "--device", args.device, "--size", str(args.size), "--precision", args.precision,
              "--image-size", str(args.image_size), "--channels", str(args.channels)]
    if kind == "engine":
        return [sys.executable, str(Path(__file__).resolve()), "--child", *common,
                *(["--ema-clip"] if args.ema_clip else []), *(["--resident"] if args.resident else [])]
    tuned = ["--keep-freed-memory"] if args.tuned_baseline else []
    options = ["--ema", str(EMA_DECAY), "--clip", str(CLIP_NORM)] if args.ema_clip else []
    return [sys.executable, "-m", "benchmarks.baselines.plain_loop", *common, *tuned, *options]


def run_child(kind: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    pin = (lambda: os.sched_setaffinity(0, {args.pin})) if args.pin is not None else None
    out = subprocess.run(child_command(kind, args), cwd=ROOT, env=env, capture_output=True, text=True,
                         preexec_fn=pin)
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):8.1f}  min {min(values):8.1f}  max {max(values):8.1f}  "
            f"(spread {100 * (max(values) - min(values)) / statistics.median(values):.1f} %)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", type=int, default=4800)
    ap.add_argument("--tuned-baseline", action="store_true",
                    help="give the baseline the engine's malloc tuning too (isolates the loop's own overhead)")
    ap.add_argument("--pin", type=int, metavar="CPU", help="run every child on this CPU only (less migration noise)")
    ap.add_argument("--ema-clip", action="store_true",
                    help=f"EMA of the weights ({EMA_DECAY}) and gradient clipping ({CLIP_NORM}) in both loops")
    ap.add_argument("--precision", choices=("off", "bf16", "fp16"), default="off", help="autocast in both loops")
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--channels", type=int, choices=(1, 3), default=3)
    ap.add_argument("--resident", action="store_true", help="the engine keeps the data on the device (as the "
                    "baseline always does; on the CPU the engine's default already does when it fits)")
    ap.add_argument("--gpu", action="store_true",
                    help="the GPU figure: cuda, bf16, batch 512, 28×28 grayscale, resident data, 60,000 samples")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.gpu:
        args.device, args.precision, args.batch_size, args.image_size, args.channels = "cuda", "bf16", 512, 28, 1
        args.resident, args.size = True, max(args.size, 60_000)
    if args.child:
        print(json.dumps(engine_child(args)), flush=True)
        return 0
    print(f"LeNet-5, builtin:shapes ({args.size} samples, 80 % train, {args.channels}×{args.image_size}×"
          f"{args.image_size}), batch {args.batch_size}, {args.threads} thread(s), {args.device}, {args.epochs} epochs "
          f"(first is warm-up), {args.runs} runs each"
          + (", baseline with the engine's malloc tuning" if args.tuned_baseline else "")
          + (f", EMA {EMA_DECAY} + clipping {CLIP_NORM} in both" if args.ema_clip else "")
          + (f", {args.precision} autocast" if args.precision != "off" else ""))
    goal = 0.95 if args.ema_clip else 0.97
    got: dict[str, dict[str, list[float]]] = {m: {"engine": [], "plain": []} for m in METRICS}
    for i in range(args.runs):
        order = ("engine", "plain") if i % 2 == 0 else ("plain", "engine")  # alternate who goes first
        results = {kind: run_child(kind, args) for kind in order}
        line = []
        for m, label in METRICS.items():
            for kind in ("engine", "plain"):
                got[m][kind].append(results[kind][m])
            line.append(f"{label.split()[0]}{'/cpu' if 'CPU' in label else ''} "
                        f"{results['engine'][m] / results['plain'][m]:.3f}")
        print(f"  run {i + 1}: engine {results['engine']['train_images_per_s']:6.0f} img/s, plain "
              f"{results['plain']['train_images_per_s']:6.0f} img/s; ratios " + ", ".join(line), flush=True)
    for m, label in METRICS.items():
        e, p = got[m]["engine"], got[m]["plain"]
        ratios = [a / b for a, b in zip(e, p)]
        print(f"{label}:")
        print(f"  engine img/s: {summary(e)}")
        print(f"  plain  img/s: {summary(p)}")
        print(f"  ratio engine/plain: median of pairs {statistics.median(ratios):.3f} (min {min(ratios):.3f}, "
              f"max {max(ratios):.3f}); ratio of medians {statistics.median(e) / statistics.median(p):.3f}"
              + (f"   goal ≥ {goal}" if m == "train_images_per_s" else ""))
    return 0


METRICS = {"train_images_per_s": "training (wall clock)", "cpu_train_images_per_s": "training (CPU time)",
           "epoch_images_per_s": "whole epochs (wall clock)", "cpu_epoch_images_per_s": "whole epochs (CPU time)"}


if __name__ == "__main__":
    sys.exit(main())
