"""Speed of pure-Python inference on a 200-node residual graph (issue 2's goals).

    python benchmarks/bench_inference.py [--nodes 200] [--runs 7]

Each run is a fresh process (no warm caches from other work) that times:
- full: a new ``Inference`` over the whole graph: shapes, params, FLOPs, bytes, totals and
  diagnostics (the first one in the process, and the median of 20 more);
- worst edit: the first convolution's ``kernel_size`` (3 ↔ 5), which changes the spatial size
  of every node downstream, then ``update`` and ``diagnostics``, median of 40 edits;
- no-shape edit: a convolution's ``bias`` toggled (parameter count changes, shape does not),
  then ``update`` and ``diagnostics``, median of 200 edits.
The graph's widths all differ, so no two nodes share a signature. Prints the median and the
spread (min–max) over the runs of each figure, against the goals (≤ 10, 10 and 1 ms): wall
time, and the process's CPU time next to it, which other work on a busy machine does not
inflate.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS_MS = {"full (first)": 10.0, "full": 10.0, "worst edit": 10.0, "no-shape edit": 1.0}


def worker(n_nodes: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from benchmarks._graphs import residual_graph
    from engine.graph.inference import Inference

    g = residual_graph(n_nodes)

    class Timer:
        """Wall and CPU time of a block."""

        def __enter__(self):
            self.w, self.c = time.perf_counter(), time.process_time()
            return self

        def __exit__(self, *exc):
            self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c

    def full() -> Timer:
        with Timer() as t:
            inf = Inference(g, batch_size=64)
            inf.all()
            inf.totals()
            inf.diagnostics()
        inf.close()
        return t

    first = full()
    fulls = [full() for _ in range(20)]

    inf = Inference(g, batch_size=64)
    inf.update()
    worst = []
    for i in range(40):
        with Timer() as t:
            g.set_params("stem", {"kernel_size": 5 if i % 2 == 0 else 3})
            inf.update()
            recomputed = inf.recomputed
            inf.diagnostics()
        worst.append(t)
        assert recomputed == n_nodes - 3, recomputed  # really cascades (all but input, flatten, fc)
    small = []
    for i in range(200):
        with Timer() as t:
            g.set_params("b7_conv1", {"bias": i % 2 == 1})
            inf.update()
            recomputed = inf.recomputed
            inf.diagnostics()
        small.append(t)
        assert recomputed == 1
    out = {}
    for key, ts in (("full (first)", [first]), ("full", fulls), ("worst edit", worst), ("no-shape edit", small)):
        out[key] = statistics.median(t.wall for t in ts) * 1000
        out[key + " cpu"] = statistics.median(t.cpu for t in ts) * 1000
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.nodes)))
        return 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results: list[dict[str, float]] = []
    for _ in range(max(5, args.runs)):
        p = subprocess.run([sys.executable, __file__, "--worker", "--nodes", str(args.nodes)], env=env,
                           capture_output=True, text=True, check=True)
        results.append(json.loads(p.stdout))
    print(f"inference on a {args.nodes}-node residual graph, {len(results)} fresh processes "
          f"(Python {sys.version.split()[0]})")
    ok = True
    for key, goal in GOALS_MS.items():
        vals = [r[key] for r in results]
        med = statistics.median(vals)
        ok &= med <= goal
        cpu = [r[key + " cpu"] for r in results]
        print(f"  {key:14s} median {med:7.3f} ms  spread {min(vals):6.3f}–{max(vals):6.3f} ms  "
              f"(cpu {statistics.median(cpu):6.3f} ms, {min(cpu):.3f}–{max(cpu):.3f})  "
              f"goal ≤ {goal:g} ms  {'ok' if med <= goal else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
