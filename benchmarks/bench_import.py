"""Importing torchvision's resnet50, engine part: build the model (meta device), trace with
torch.fx, map to catalog layers, check every shape against torch, lay the graph out.

    python benchmarks/bench_import.py [--runs 7] [--model resnet50]

Goal (issue 9): with the engine service warm, importing resnet50 and showing it laid out in the
editor ≤ 2 s; this script measures the engine's share (what the service does before the GUI
gets the graph). The baseline is plain ``torch.fx.symbolic_trace`` of the same model built the
same way: the least any fx-based importer must do. Runs alternate (baseline, import, ...);
the first of each is a warm-up and not counted. Prints the median and spread in wall time and
in this process's CPU time (on a shared machine the CPU figure says what the code costs).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import fx  # noqa: E402

from engine.graph.inference import Inference  # noqa: E402
from engine.importer import sources  # noqa: E402
from engine.importer.check import check_against_model  # noqa: E402
from engine.importer.fx_to_graph import to_graph  # noqa: E402
from engine.importer.load import import_source  # noqa: E402
from engine.importer.trace import trace  # noqa: E402
from engine.layout import layout  # noqa: E402


def clock():
    return time.perf_counter(), time.process_time()


def since(start) -> tuple[float, float]:
    wall, cpu = clock()
    return (wall - start[0]) * 1000, (cpu - start[1]) * 1000


def baseline(name: str) -> tuple[float, float]:
    start = clock()
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None, **sources.TORCHVISION_KWARGS.get(name, {}))
    fx.symbolic_trace(model.eval())
    return since(start)


def stages(name: str) -> dict[str, tuple[float, float]]:
    """The import, stage by stage (the same steps as import_source)."""
    out = {}
    start = clock()
    source = sources.torchvision_model(name)
    out["build model (meta)"] = since(start)
    s = clock()
    gm = trace(source.model, source.what)
    out["trace (torch.fx)"] = since(s)
    s = clock()
    imported = to_graph(gm, source.what, input_shape=source.default_shape, input_id="input")
    out["map to catalog"] = since(s)
    s = clock()
    check_against_model(imported, gm, source.what, source.default_shape, "float32")
    out["check shapes vs torch"] = since(s)
    s = clock()
    positions = layout(imported.graph)
    out["layout"] = since(s)
    out["total (stages)"] = since(start)
    assert len(positions) == len(imported.graph.nodes)
    return out


def whole(name: str) -> tuple[float, float]:
    start = clock()
    project, _ = import_source(f"torchvision:{name}")
    result = since(start)
    assert Inference(project.graph).totals().params > 0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="resnet50")
    args = parser.parse_args()
    name = args.model
    results: dict[str, list[tuple[float, float]]] = {}
    for i in range(args.runs + 1):  # alternate, the first round is a warm-up
        b = baseline(name)
        st = stages(name)
        w = whole(name)
        if i == 0:
            continue
        results.setdefault("baseline: fx.symbolic_trace (meta model)", []).append(b)
        for k, v in st.items():
            results.setdefault(k, []).append(v)
        results.setdefault("import_source (end to end)", []).append(w)
    project, _ = import_source(f"torchvision:{name}")
    print(f"import torchvision:{name}: {len(project.graph.nodes)} nodes, {args.runs} runs "
          f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")
    for k, vals in results.items():
        wall = [v[0] for v in vals]
        cpu = [v[1] for v in vals]
        print(f"  {k:44s} median {statistics.median(wall):8.1f} ms  (min {min(wall):7.1f}, max {max(wall):7.1f})"
              f"   CPU median {statistics.median(cpu):8.1f} ms")
    ours = statistics.median(v[0] for v in results["import_source (end to end)"])
    base = statistics.median(v[0] for v in results["baseline: fx.symbolic_trace (meta model)"])
    print(f"  ratio import / baseline: {ours / base:.1f}×; goal for the engine part: well under 2000 ms "
          f"({'met' if ours < 2000 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
