"""The curve machinery without an engine: the min/max pyramid and the smoothing against brute
force, StreamPlot redraws only on change, and the Curves dock on a run directory written by
hand (overlay colours, hover readout, log scale, per-epoch means, CSV and PNG export)."""
from __future__ import annotations

import csv
import json
import os
import socket
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_window_fixtures import home, open_window, studio, window  # noqa: F401
from widgets.peak_pyramid import FANOUT, PeakPyramid
from widgets.smoothing import ema


@pytest.fixture
def win(window, studio):
    """The shared main window; before it closes, its panels' reads still in flight are let land
    (a late result must not reach a panel that is gone)."""
    yield window
    from PySide6.QtCore import QThreadPool
    from test_window_fixtures import settle
    for w in list(studio.windows):
        for pool in w.findChildren(QThreadPool):
            pool.waitForDone(10_000)
    settle()


def brute_ema(x, w):
    out, s = [], None
    for v in x:
        if np.isfinite(v):
            s = v if s is None else w * s + (1 - w) * v
        out.append(s if np.isfinite(v) else np.nan)
    return np.array(out, dtype=float)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e3, 1e3), st.just(float("nan"))), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.3, 0.9, 0.99, 0.999]), st.integers(0, 300))
def test_ema_matches_the_recurrence_also_when_continued(values, weight, cut):
    x = np.array(values)
    want = brute_ema(x, weight)
    got, _ = ema(x, weight)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    cut = min(cut, len(x))
    a, state = ema(x[:cut], weight)
    b, _ = ema(x[cut:], weight, state)
    np.testing.assert_allclose(np.r_[a, b], want, rtol=1e-9, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=6), st.integers(0, 2**31))
def test_the_pyramid_appended_in_pieces_keeps_every_peak(chunks, seed):
    rng = np.random.default_rng(seed)
    n = sum(chunks)
    y = rng.normal(size=n)
    y[rng.integers(0, n, 3)] = np.nan
    p = PeakPyramid()
    start = 0
    for c in chunks:
        p.append(np.arange(start, start + c), y[start:start + c])
        start += c
    for level in range(len(p._lo)):
        size = FANOUT ** (level + 1)
        bins = -(-n // size)
        pad = np.full(bins * size, np.nan)
        pad[:n] = y
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if np.isnan(pad.reshape(bins, size)).all(1).any() \
                else _nothing():
            np.testing.assert_array_equal(p._lo[level].view(), np.nanmin(pad.reshape(bins, size), 1))
            np.testing.assert_array_equal(p._hi[level].view(), np.nanmax(pad.reshape(bins, size), 1))
    x0, x1 = sorted(rng.integers(0, n, 2))
    qx, qy = p.query(float(x0), float(x1), 20)
    inside = y[x0:x1 + 1]
    if np.isfinite(inside).any():  # the envelope reaches the true extremes of the visible range
        assert np.nanmax(qy) >= np.nanmax(inside) and np.nanmin(qy) <= np.nanmin(inside)
    assert len(qx) <= 2 * (2 * 20 + 2) + 2 * FANOUT  # about max_bins bins (an envelope: 2 points each)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_stream_plot_redraws_only_when_data_changed(qtbot):
    from widgets.stream_plot import FRAME_MS, StreamPlot
    plot = StreamPlot(title="loss")
    qtbot.addWidget(plot)
    plot.resize(500, 300)
    plot.show()
    qtbot.waitExposed(plot)
    s = plot.add_series("a", "run a", "#1e88e5")
    s.set_data(np.arange(1, 200_001), np.linspace(2, 0.1, 200_000))
    qtbot.waitUntil(lambda: plot.frames >= 1, timeout=2000)
    frames = plot.frames
    qtbot.wait(FRAME_MS * 4)
    assert plot.frames == frames  # nothing new: no redraw
    shown_x, _ = s.shown
    assert len(shown_x) <= 2 * (2 * plot.vb.width() + 2)  # about a bin per pixel, not 200,000 points
    s.append([200_001], [5.0])  # a spike at the end is drawn
    qtbot.waitUntil(lambda: plot.frames > frames, timeout=2000)
    assert s.shown[1].max() == 5.0
    x, y = s.data()
    assert len(x) == 200_001 and y[-1] == 5.0 and x[0] == 1
    s.set_smoothing(0.9)
    assert np.array_equal(s.data()[1], y)  # smoothing changes what is drawn, not the data
    assert s.pyramid.y.view()[-1] < 5.0
    plot.set_log_y(True)
    qtbot.waitUntil(lambda: plot.frames > frames + 1, timeout=2000)
    (_, _), (y0, y1) = plot.vb.viewRange()
    assert y0 < np.log10(0.2) and y1 > np.log10(2)


def write_run(path, steps_per_epoch=20, epochs=3, running=False):
    """A run directory as `layerstudio train` writes it (no torch needed)."""
    from engine.runs.metrics import MetricsWriter
    from engine.runs.status import new_status, write_status
    path.mkdir(parents=True)
    (path / "project.json").write_text((open(os.path.join(os.path.dirname(__file__), "..", "..", "assets",
                                                            "sample.json")).read()))
    (path / "config.json").write_text(json.dumps({"classes": list("abcdef"), "params": 1234,
                                                  "batches_per_epoch": steps_per_epoch, "device": "cpu"}))
    w = MetricsWriter(path / "metrics.jsonl")
    rng = np.random.default_rng(len(path.name))
    step = 0
    for e in range(1, epochs + 1):
        rows = []
        for _ in range(steps_per_epoch):
            step += 1
            rows.append({"step": step, "epoch": e, "split": "train", "loss": float(rng.random()) + 1 / step,
                         "accuracy": float(rng.random()), "lr": 0.1 / e, "images_per_s": 1000.0 + e,
                         "gpu_mem": None, "time": 1e9 + step})
        w.write(rows)
        w.write([{"step": step, "epoch": e, "split": "val", "loss": 0.5 / e, "accuracy": 0.5 + e / 10, "lr": 0.1 / e,
                  "images_per_s": None, "gpu_mem": None, "time": 1e9 + step}])
    w.close()
    status = new_status(epochs=epochs, pid=os.getpid() if running else 1)
    status.update(state="running" if running else "finished", epoch=epochs, step=step, host=socket.gethostname(),
                  best={"metric": "val_accuracy", "value": 0.5 + epochs / 10, "epoch": epochs, "step": step,
                        "path": None})
    write_status(path / "status.json", status)
    return path


def test_curves_dock_overlays_runs_reads_out_and_exports(win, tmp_path, qtbot):
    window = win
    a = write_run(tmp_path / "runs" / "first-run")
    b = write_run(tmp_path / "runs" / "second-run", epochs=2)
    window.show_dock("curves")
    panel = window.panel("curves")
    ha = window.run_actions.open_run_dir(a)
    hb = window.run_actions.open_run_dir(b)
    window.runs.set_compared(ha, True)
    qtbot.waitUntil(lambda: ha in panel.traces and hb in panel.traces and panel.traces[ha].val_n == 3
                    and panel.traces[hb].val_n == 2, timeout=10_000)
    panel.sync()
    loss = panel.plots["loss"]
    ka, kb = panel.traces[ha].series[("loss", "train", "loss")], panel.traces[hb].series[("loss", "train", "loss")]
    assert ka.color != kb.color and ka.color == panel.traces[ha].series[("accuracy", "train", "accuracy")].color
    assert "first-run" in panel.legend.text() and "second-run" in panel.legend.text()
    # hover: the readout names both runs with their values at the cursor
    qtbot.waitUntil(lambda: loss.frames > 0, timeout=2000)
    seen = []
    loss.hovered.connect(lambda x, found: seen.append(found))
    scene_pos = loss.vb.mapViewToScene(pg_point(30, 1.0))
    loss._mouse_moved(scene_pos)
    assert seen and {s.name for s, _x, _y in seen[-1]} >= {"first-run", "second-run"}
    assert "step 30" in loss.readout.text()
    # per epoch: the means of the steps
    panel.x_axis.setCurrentIndex(1)
    x, y = ka.data()
    rows = [json.loads(line) for line in (a / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["split"] == "train"]
    assert list(x) == [1, 2, 3]
    assert y[1] == pytest.approx(np.mean([r["loss"] for r in train if r["epoch"] == 2]))
    # CSV: every row of every run shown, exactly
    out = tmp_path / "curves.csv"
    task = panel.export_csv(out)
    qtbot.waitSignal(task.finished, timeout=10_000) if not out.exists() else None
    qtbot.waitUntil(lambda: out.exists() and out.stat().st_size > 0, timeout=10_000)
    with open(out) as f:
        table = list(csv.DictReader(f))
    mine = [r for r in table if r["run"] == "first-run" and r["split"] == "train"]
    assert len(mine) == 60 and float(mine[7]["loss"]) == train[7]["loss"] and mine[7]["gpu_mem"] == ""
    assert len([r for r in table if r["run"] == "second-run"]) == 42
    png = tmp_path / "curves.png"
    assert panel.export_png(png) and png.stat().st_size > 5000


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(x, y)


def test_accuracy_vs_flops_marks_the_pareto_front(win, tmp_path, qtbot):
    window = win
    from studio.runs.pareto import pareto_front
    assert pareto_front([(10, 0.5), (5, 0.6), (20, 0.9), (30, 0.8), (5, 0.4)]) == [1, 2]
    runs = [write_run(tmp_path / "runs" / name, epochs=e) for name, e in (("small", 1), ("big", 3))]
    handles = [window.run_actions.open_run_dir(r) for r in runs]
    qtbot.waitUntil(lambda: all(h.flops for h in handles), timeout=10_000)
    handles[0].flops //= 2  # a cheaper model, less accurate: both on the front
    window.show_dock("pareto")
    panel = window.panel("pareto")
    panel.refresh()
    assert {h for h, _f, _a in panel.points} == set(handles)
    assert panel.front_runs == handles
    handles[0].flops *= 4  # now costlier and worse: dominated
    panel.refresh()
    assert panel.front_runs == [handles[1]]
    spot = next(s for s in panel.dots.points() if s.data() is handles[0])
    panel._clicked(panel.dots, [spot])
    assert window.runs.current() is handles[0]
