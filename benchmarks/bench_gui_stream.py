"""The window stays smooth while a run streams (issue 7, speed).

A fast tiny run (LeNet-5 on builtin:shapes, every step's metrics, probe images at 2 Hz) trains
for ``--seconds`` with every live dock on screen side by side (none tabbed) and the curves
pre-filled with two compared runs of ``--points`` steps each (10 curves of 1M points: loss,
accuracy, learning rate, images/s and GPU memory of each). A 1 ms precise QTimer on the GUI
thread measures how late the event loop serves it: p99, p99.9 and max of the lateness. The
GUI process's resident memory is read before and after. The same run with the window
minimized (hidden: nothing painted) gives the training speed to compare with.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_stream.py [--seconds 60] [--repeats 3]

Goals: p99 ≤ 20 ms, max ≤ 50 ms; memory growth < 200 MB; images/s visible ≥ 0.95× minimized.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIVE_DOCKS = ("curves", "runs", "filters", "feature_maps", "health", "evaluation", "saliency", "pareto")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tiny_project() -> dict:
    project = json.loads((ROOT / "assets" / "sample.json").read_text())
    project["name"] = "stream"
    project["dataset"] = {"source": "builtin:shapes", "size": 2048, "val_fraction": 0.125, "seed": 0}
    project["training"] = {"epochs": 10_000, "batch_size": 32, "seed": 0, "device": "cpu",
                           "optimizer": {"type": "SGD", "lr": 0.02, "momentum": 0.9},
                           "probes": {"period_s": 0.5}}
    return project


def prefill(manager, points: int) -> None:
    """Two compared runs with ``points`` steps each, as if read from long runs on disk."""
    from studio.runs.handle import RunHandle
    rng = np.random.default_rng(0)
    step = np.arange(1, points + 1)
    for name in ("long-run-a", "long-run-b"):
        h = RunHandle(name=name, parent=manager)
        loss = 2.0 * np.exp(-step / (points / 5)) + 0.1 * rng.random(points)
        h.history.add_train(step=step, epoch=1 + step // 1000, loss=loss, accuracy=1 - loss / 2.2,
                            lr=0.1 * 0.5 ** (step // (points // 4)), time=1e9 + step * 0.01,
                            images_per_s=3000 + 100 * rng.random(points), gpu_mem=np.full(points, 2.0**30))
        h.history.add_val(step=step[999::1000], epoch=np.arange(1, points // 1000 + 1),
                          loss=loss[999::1000], accuracy=1 - loss[999::1000] / 2.2)
        h._set_state("finished")
        manager._add(h)
        manager.set_compared(h, True)


def lay_out(window, QtCore, names=LIVE_DOCKS) -> list[str]:
    """Every live dock on screen: a row along the bottom and a column on the right, no tabs."""
    Area = QtCore.Qt.DockWidgetArea
    live = [n for n in names if n in window.docks]
    for name, dock in window.docks.items():
        window.removeDockWidget(dock)
        dock.setFloating(False)
        dock.hide()
    bottom, right = live[:len(live) // 2 + 1], live[len(live) // 2 + 1:]
    window.addDockWidget(Area.BottomDockWidgetArea, window.docks[bottom[0]])
    for a, b in zip(bottom, bottom[1:]):
        window.splitDockWidget(window.docks[a], window.docks[b], QtCore.Qt.Orientation.Horizontal)
    if right:
        window.addDockWidget(Area.RightDockWidgetArea, window.docks[right[0]])
        for a, b in zip(right, right[1:]):
            window.splitDockWidget(window.docks[a], window.docks[b], QtCore.Qt.Orientation.Vertical)
    for name in live:
        window.docks[name].show()
        window.docks[name].content()
    window.resizeDocks([window.docks[bottom[0]]], [520], QtCore.Qt.Orientation.Vertical)
    return live


def spin(app, seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_for(app, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        spin(app, 0.05)
    return True


class Probe:
    """A 1 ms timer: how late each timeout comes (the event loop's responsiveness)."""

    def __init__(self, QtCore) -> None:
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.times = np.empty(200_000)
        self.n = 0

    def _tick(self) -> None:
        if self.n < len(self.times):
            self.times[self.n] = time.perf_counter()
            self.n += 1

    def start(self) -> None:
        self.n = 0
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        gaps = np.diff(self.times[:self.n])
        return np.maximum(0.0, gaps - 0.001) * 1000  # ms late


def one_run(app, window, visible: bool, seconds: float, QtCore) -> dict:
    if visible:
        window.showNormal()
        window.raise_()
    else:
        window.hide()  # what minimizing does to painting; offscreen and bare X have no window manager
    handle = window.run_actions.train_project()
    ok = wait_for(app, lambda: handle.state == "running" and len(handle.history.train) > 50, 300)
    if not ok:
        raise SystemExit(f"the run did not start: {handle.state} {handle.failure}")
    spin(app, 3.0)  # warm-up: the first probe round, the docks' first images
    probe = Probe(QtCore)
    rss0, t0 = rss_mb(), time.time()
    cpu0, proc0 = time.thread_time(), time.process_time()
    probe.start()
    spin(app, seconds)
    late = probe.stop()
    t1, rss1 = time.time(), rss_mb()
    gui_cpu, proc_cpu = (time.thread_time() - cpu0) / (t1 - t0), (time.process_time() - proc0) / (t1 - t0)
    train = handle.history.train
    sel = (train.col("time") >= t0) & (train.col("time") <= t1)
    ips = float(np.median(train.col("images_per_s")[sel])) if sel.any() else float("nan")
    steps = int(sel.sum())
    handle.stop()
    wait_for(app, lambda: handle.ended, 60)
    out = {"visible": visible, "images_per_s": ips, "steps": steps}
    if visible:
        out.update(p99=float(np.percentile(late, 99)), p999=float(np.percentile(late, 99.9)),
                   max=float(late.max()), ticks=int(len(late)), rss_growth_mb=rss1 - rss0,
                   gui_thread_cpu=gui_cpu, process_cpu=proc_cpu,
                   events=len(handle.latest))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--docks", default=",".join(LIVE_DOCKS), help="the live docks to show (comma-separated)")
    args = parser.parse_args()

    from PySide6 import QtCore
    from PySide6.QtWidgets import QApplication
    home = tempfile.mkdtemp(prefix="ls-bench-")
    import os
    os.environ["LAYERSTUDIO_HOME"] = home
    app = QApplication(sys.argv[:1])
    from studio.app import Studio
    from studio.document import Document
    from studio.main_window import MainWindow
    studio = Studio()
    project_path = Path(home) / "stream.json"
    project_path.write_text(json.dumps(tiny_project()))
    window = MainWindow(studio, Document.open(project_path))
    studio.windows.append(window)
    window.resize(1920, 1080)
    window.show()
    studio.start_engine()
    wait_for(app, lambda: studio.engine_state == "ready", 300)
    live = lay_out(window, QtCore, [n for n in args.docks.split(",") if n])
    prefill(studio.runs, args.points)
    spin(app, 2.0)
    on_screen = [n for n in live if window.docks[n].on_screen()]
    curves = window.panel("curves")
    big = sum(1 for t in curves.traces.values() for s in t.series.values() if len(s) >= args.points)
    print(f"docks on screen: {', '.join(on_screen)}; curves of {args.points:,} points: {big}", flush=True)

    results = []
    for r in range(args.repeats):
        order = (True, False) if r % 2 == 0 else (False, True)  # alternate, so drift hits both alike
        pair = {}
        for visible in order:
            res = one_run(app, window, visible, args.seconds, QtCore)
            pair["visible" if visible else "minimized"] = res
            print(json.dumps(res), flush=True)
        results.append(pair)

    vis = [p["visible"] for p in results]
    ratio = [p["visible"]["images_per_s"] / p["minimized"]["images_per_s"] for p in results]
    def joined(key: str, fmt: str = "{:.1f}") -> str:
        return ", ".join(fmt.format(v[key]) for v in vis)
    print("\nlateness of a 1 ms timer on the GUI thread, ms (per run): "
          f"p99 {joined('p99')}; p99.9 {joined('p999')}; max {joined('max')}")
    print(f"GUI process growth, MB: {joined('rss_growth_mb', '{:.0f}')}")
    visible_ips = statistics.median(v["images_per_s"] for v in vis)
    print(f"images/s visible / minimized: {', '.join(f'{x:.3f}' for x in ratio)} "
          f"(median {statistics.median(ratio):.3f}; visible {visible_ips:,.0f} images/s)")
    ok = (max(v["p99"] for v in vis) <= 20 and max(v["max"] for v in vis) <= 50
          and max(v["rss_growth_mb"] for v in vis) < 200 and statistics.median(ratio) >= 0.95)
    print("goals met" if ok else "goals NOT met")
    window.close()
    studio.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
