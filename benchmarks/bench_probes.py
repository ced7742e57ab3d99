"""Live probes' cost: LeNet-5 training throughput with every probe on at its default period
(filters, feature maps, layer health, evaluation galleries, saliency + Grad-CAM every 2 s)
÷ the same run with ``training.probes.enabled: false``; and the time of one probe round of each
kind in the worker.

Each run is a fresh process running the trainer as the training worker does: every event is
encoded for the wire and sent over a socket to a thread that decodes it (the app's side), and
the run directory (probes/ included) is written. Throughput is images per second over the
training loops of epochs 2..E (epoch 1 is warm-up), in wall-clock and in CPU time (all
threads): on a machine shared with other work, wall-clock time mostly measures the
neighbours. Probe and plain runs alternate (≥ 5 each); medians, spreads and the ratios. The
probes' own share of the training time (each round timed in the worker) is printed too: on a
busy machine it is the steadier figure.

    python benchmarks/bench_probes.py [--runs 5] [--epochs 8] [--threads 1] [--size 4800]
                                      [--rounds 50] [--skip-training]

Goals (issues 7, 8): probes on ÷ off ≥ 0.97; saliency + Grad-CAM of 8 probes ≤ 10 ms.
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
PROBE_EVENTS = ("filters", "feature_maps", "health", "evaluation", "saliency")


def project(args: argparse.Namespace, probes: bool) -> dict:
    doc = json.loads((ROOT / "assets" / "sample.json").read_text())
    doc["dataset"] = {"source": "builtin:shapes", "size": args.size, "val_fraction": 0.2, "seed": 0}
    doc["training"].update({"epochs": args.epochs, "batch_size": args.batch_size, "device": "cpu",
                            "threads": args.threads, "seed": 0, "probes": {"enabled": probes},
                            "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}})
    return doc


def train_child(args: argparse.Namespace, probes: bool) -> dict:
    """One run in this process, streaming its events like a training worker."""
    from engine.project.io import from_dict
    from engine.runs import events as ev
    from engine.service.channel import Channel, channel_pair
    from engine.train.callbacks import EventStream
    from engine.train.trainer import Trainer

    ours, theirs = channel_pair()
    reader = Channel(theirs)
    received: list[str] = []

    def drain():
        while (msg := reader.recv()) is not None:
            received.append(ev.event_from_dict(msg["event"]).type)
    consumer = threading.Thread(target=drain, daemon=True)
    consumer.start()
    starts, ends = [], []

    def sink(event):
        now = (time.perf_counter(), time.process_time())
        if isinstance(event, (ev.Started, ev.CheckpointSaved)):
            starts.append(now)  # the next epoch's training starts now
        elif isinstance(event, ev.EpochEnd):
            ends.append(now)
        ours.try_send({"event": event.to_dict()})

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(from_dict(project(args, probes)), run_dir=Path(tmp) / "run",
                          callbacks=[EventStream(sink)])
        finished = trainer.fit()
        ours.close()
        schedules = {id(c.ctx.schedule): c.ctx.schedule for c in trainer.callbacks.callbacks if hasattr(c, "ctx")}
        probe_s = sum(s.total_s - s.warmup_s for s in schedules.values())
        consumer.join(10)
        assert finished.state == "finished", finished.error
        n = trainer.train_source.num_samples
    out = {"events": {k: received.count(k) for k in PROBE_EVENTS}}
    # the probes' own share of the training time: immune to what the neighbours do to the clock
    loops = [end[0] - max(s[0] for s in starts if s[0] < end[0]) for end in ends]
    out["probe_share"] = probe_s / sum(loops)
    timed = args.epochs - 1
    for i, clock in enumerate(("", "cpu_")):
        train = [end[i] - max(s[i] for s in starts if s[0] < end[0]) for end in ends]
        out[f"{clock}images_per_s"] = timed * n / sum(train[1:])
    return out


def round_times(args: argparse.Namespace) -> dict:
    """Milliseconds of one probe round of each kind on LeNet-5 (8 probe images), in the worker's
    setting: run_probes alone, and each callback's whole round (event building, probes/ write)."""
    import torch

    from engine.explain.probes import run_probes
    from engine.project.io import from_dict
    from engine.train.callbacks.feature_maps import FeatureMapsProbe
    from engine.train.callbacks.filters import FiltersProbe
    from engine.train.callbacks.layer_health import LayerHealthProbe
    from engine.train.callbacks.saliency import SaliencyProbe
    from engine.train.trainer import Trainer

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(from_dict(project(args, True)), run_dir=Path(tmp) / "run")
        trainer.setup()
        trainer.run.create()
        probes = {type(c).__name__: c for c in trainer.callbacks.callbacks}
        ps = probes["SaliencyProbe"].ctx.probe_set(trainer)
        x, labels = ps.x, ps.labels[:ps.count]
        step = trainer.step_fn
        xb, yb = next(iter(trainer.train_source.epoch(0)))
        step(xb, yb)  # gradients exist, as after a real step

        def timed(fn, n=args.rounds):
            fn()
            fn()  # warm-up
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                out.append(1000 * (time.perf_counter() - t0))
            return statistics.median(out), min(out), max(out)

        health: LayerHealthProbe = probes["LayerHealthProbe"]

        def health_round():
            health.start(trainer)
            health.finish(trainer)
        saliency: SaliencyProbe = probes["SaliencyProbe"]
        filters: FiltersProbe = probes["FiltersProbe"]
        features: FeatureMapsProbe = probes["FeatureMapsProbe"]
        return {"run_probes (saliency + Grad-CAM, 8 images)": timed(lambda: run_probes(trainer.model, x, labels)),
                "saliency round (with its event)": timed(lambda: saliency.probe(trainer)),
                "filters round": timed(lambda: filters.probe(trainer)),
                "feature maps round": timed(lambda: features.probe(trainer)),
                "layer health round (2 steps, 32-image dead-unit pass)": timed(health_round),
                "a training step (batch %d)" % args.batch_size: timed(lambda: step(xb, yb))}


def run_child(flag: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    cmd = [sys.executable, str(Path(__file__).resolve()), flag, "--epochs", str(args.epochs), "--threads",
           str(args.threads), "--size", str(args.size), "--batch-size", str(args.batch_size), "--rounds",
           str(args.rounds)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{flag} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(values: list[float]) -> str:
    m = statistics.median(values)
    spread = 100 * (max(values) - min(values)) / m
    return f"median {m:8.1f}  min {min(values):8.1f}  max {max(values):8.1f}  (spread {spread:.1f} %)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=4800)
    ap.add_argument("--rounds", type=int, default=50, help="repetitions of each probe round timing")
    ap.add_argument("--skip-training", action="store_true", help="only time the probe rounds")
    ap.add_argument("--probes-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--plain-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rounds-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probes_child or args.plain_child:
        print(json.dumps(train_child(args, probes=args.probes_child)), flush=True)
        return 0
    if args.rounds_child:
        print(json.dumps(round_times(args)), flush=True)
        return 0
    print(f"LeNet-5, builtin:shapes ({args.size} samples, 80 % train), batch {args.batch_size}, {args.threads} "
          f"thread(s), CPU")
    rounds = run_child("--rounds-child", args)
    print(f"one probe round, ms (median / min / max of {args.rounds}):")
    for name, (med, lo, hi) in rounds.items():
        print(f"  {name:55s} {med:7.2f} {lo:7.2f} {hi:7.2f}")
    print("  goal: saliency + Grad-CAM of 8 probes ≤ 10 ms")
    if args.skip_training:
        return 0
    print(f"training with every probe at its default period vs probes off: {args.epochs} epochs (first is "
          f"warm-up), {args.runs} runs each, alternating")
    got: dict = {k: {"probes": [], "plain": []} for k in ("images_per_s", "cpu_images_per_s")}
    got["share"] = []
    for i in range(args.runs):
        order = ("probes", "plain") if i % 2 == 0 else ("plain", "probes")
        results = {kind: run_child(f"--{kind}-child", args) for kind in order}
        for k in ("images_per_s", "cpu_images_per_s"):
            for kind in results:
                got[k][kind].append(results[kind][k])
        got["share"].append(results["probes"]["probe_share"])
        p, q = results["probes"], results["plain"]
        cpu = p["cpu_images_per_s"] / q["cpu_images_per_s"]
        print(f"  run {i + 1}: probes {p['images_per_s']:6.0f} img/s, off {q['images_per_s']:6.0f} img/s "
              f"(ratio {p['images_per_s'] / q['images_per_s']:.3f}, CPU time {cpu:.3f}); "
              f"probe events {p['events']}, probes took {100 * p['probe_share']:.2f} % of the training time",
              flush=True)
    shares = [r for r in got["share"]]
    print(f"probes' own share of the training time (every probe round timed in the worker, warm-up round "
          f"excluded): median {100 * statistics.median(shares):.2f} % (max {100 * max(shares):.2f} %) → "
          f"expected ratio {1 / (1 + statistics.median(shares)):.3f}")
    for k, label in (("images_per_s", "wall clock"), ("cpu_images_per_s", "CPU time")):
        a, b = got[k]["probes"], got[k]["plain"]
        ratios = [x / y for x, y in zip(a, b)]
        print(f"training images/s ({label}):")
        print(f"  probes on : {summary(a)}")
        print(f"  probes off: {summary(b)}")
        print(f"  ratio on/off: median of pairs {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max "
              f"{max(ratios):.3f}); ratio of medians {statistics.median(a) / statistics.median(b):.3f}   goal ≥ 0.97")
    return 0


if __name__ == "__main__":
    sys.exit(main())
