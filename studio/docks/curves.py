"""Curves: loss and accuracy (training per step, validation per epoch), learning rate, images/s
and GPU memory of the current run, with any runs ticked in the Runs panel overlaid (each in
the colour its name hashes to, every session).

The data are the runs' histories (studio.runs.history): exactly the rows of metrics.jsonl,
live or read back. Smoothing (an exponential moving average, as in TensorBoard) and the
per-epoch view change only what is drawn; hovering shows the values at the cursor; Export
writes the data as CSV or the panel as a PNG.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSlider, QVBoxLayout, QWidget)

from studio.runs.handle import RunHandle
from widgets import background, units
from widgets.stream_plot import StreamPlot, stable_color
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow

SYNC_MS = 40

# plot name, title, y label, (split, metric) series, log scale applies
PLOTS = (
    ("loss", "Loss", "loss", (("train", "loss"), ("val", "loss")), True),
    ("accuracy", "Accuracy", "accuracy", (("train", "accuracy"), ("val", "accuracy")), False),
    ("lr", "Learning rate", "lr", (("train", "lr"),), True),
    ("images_per_s", "Images/s", "images/s", (("train", "images_per_s"),), False),
    ("gpu_mem", "GPU memory", "peak allocated", (("train", "gpu_mem"),), False),
)
CSV_COLUMNS = ("run", "split", "step", "epoch", "loss", "accuracy", "lr", "images_per_s", "gpu_mem", "time")


@dataclass
class _Trace:
    """What of a run's history is already in the plots."""
    handle: RunHandle
    train_n: int = 0
    val_n: int = 0
    resets: int = -1
    version: int = -1
    series: dict = field(default_factory=dict)  # (plot, split, metric) → StreamSeries


class CurvesPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.manager = window.runs
        self.traces: dict[RunHandle, _Trace] = {}
        self.per_epoch = False
        self.smoothing = 0.0

        self.x_axis = QComboBox()
        self.x_axis.setObjectName("curves_x")
        self.x_axis.addItems(["Step", "Epoch"])
        self.x_axis.setToolTip("Per training step, or one point per epoch (the mean of its steps)")
        self.x_axis.currentIndexChanged.connect(self._x_axis_changed)
        self.smooth = QSlider(Qt.Orientation.Horizontal)
        self.smooth.setObjectName("curves_smoothing")
        self.smooth.setRange(0, 99)
        self.smooth.setFixedWidth(110)
        self.smooth.setToolTip("Smoothing: exponential moving average of the per-step curves (0: off)")
        self.smooth_label = QLabel("0")
        self.smooth_label.setMinimumWidth(28)
        self._smooth_timer = QTimer(self)  # re-smoothing a million points is not for every slider tick
        self._smooth_timer.setSingleShot(True)
        self._smooth_timer.setInterval(120)
        self._smooth_timer.timeout.connect(self._apply_smoothing)
        self.smooth.valueChanged.connect(self._smoothing_moved)
        self.log = QCheckBox("Log scale")
        self.log.setObjectName("curves_log")
        self.log.setToolTip("Logarithmic y axis for loss and learning rate")
        self.log.toggled.connect(self._log_toggled)
        csv_button = QPushButton("Export CSV…")
        csv_button.setToolTip("The data of the runs shown, one row per step and per validation")
        csv_button.clicked.connect(self._export_csv_dialog)
        png_button = QPushButton("Export PNG…")
        png_button.setToolTip("A picture of these plots")
        png_button.clicked.connect(self._export_png_dialog)
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 0)
        controls.addWidget(QLabel("x:"))
        controls.addWidget(self.x_axis)
        controls.addSpacing(10)
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smooth)
        controls.addWidget(self.smooth_label)
        controls.addSpacing(10)
        controls.addWidget(self.log)
        controls.addStretch(1)
        controls.addWidget(csv_button)
        controls.addWidget(png_button)

        self.legend = QLabel()
        self.legend.setObjectName("curves_legend")
        self.legend.setWordWrap(True)
        self.legend.setContentsMargins(6, 0, 6, 0)
        self.empty = QLabel("No run to show. Train the project (F5) or select a run in the Runs panel.")
        self.empty.setContentsMargins(8, 8, 8, 8)
        muted(self.empty)

        self.plots: dict[str, StreamPlot] = {}
        self.area = QWidget()
        self.grid = QGridLayout(self.area)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(4)
        for name, title, ylabel, _series, _log in PLOTS:
            plot = StreamPlot(self.area, title=title)  # parented: a plot not laid out (GPU) is still owned
            plot.setObjectName(f"curve_{name}")
            plot.setMinimumSize(160, 120)
            plot.x_format = self._x_text
            if name == "gpu_mem":
                plot.y_format = units.binary_bytes
                plot.getPlotItem().getAxis("left").setLabel("bytes")
            elif name == "images_per_s":
                plot.y_format = lambda v: f"{units.si(v)} img/s"
            elif name == "accuracy":
                plot.y_format = lambda v: f"{v:.2%}"
            self.plots[name] = plot
        self._placed: list[str] = []
        self._place_plots()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.legend)
        layout.addWidget(self.empty)
        layout.addWidget(self.area, 1)

        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(SYNC_MS)
        self._sync_timer.timeout.connect(self.sync)
        self.manager.current_changed.connect(self._runs_shown_changed)
        self.manager.compare_changed.connect(self._runs_shown_changed)
        self._runs_shown_changed()

    # -- which runs -----------------------------------------------------------------------------
    def _runs_shown_changed(self, *_) -> None:
        shown = self.manager.shown()
        for handle in [h for h in self.traces if h not in shown]:
            self._drop(handle)
        for handle in shown:
            if handle not in self.traces:
                self.traces[handle] = _Trace(handle)
                handle.changed.connect(self.schedule)
        self.empty.setVisible(not shown)
        self.area.setVisible(bool(shown))
        self._update_legend()
        self.sync()

    def _drop(self, handle: RunHandle) -> None:
        trace = self.traces.pop(handle, None)
        if trace is None:
            return
        try:
            handle.changed.disconnect(self.schedule)
        except (RuntimeError, TypeError):
            pass
        for (plot, split, metric) in trace.series:
            self.plots[plot].remove_series(self._key(trace, split, metric))

    def schedule(self) -> None:
        if not self._sync_timer.isActive():
            self._sync_timer.start()

    # -- data → plots ---------------------------------------------------------------------------
    @staticmethod
    def _key(trace: _Trace, split: str, metric: str) -> str:
        return f"{id(trace.handle)}:{split}:{metric}"

    def _series(self, trace: _Trace, plot: str, split: str, metric: str):
        s = trace.series.get((plot, split, metric))
        if s is None:
            name = trace.handle.name + (" (val)" if split == "val" else "")
            s = self.plots[plot].add_series(self._key(trace, split, metric), name, stable_color(trace.handle.name),
                                            dashed=split == "val", symbol="o" if split == "val" else None)
            if split == "train" and not self.per_epoch:
                s.set_smoothing(self.smoothing)
            trace.series[(plot, split, metric)] = s
        return s

    def sync(self) -> None:
        """Bring every plot up to date with the histories (only the new rows, unless rows went away)."""
        self._sync_timer.stop()
        for trace in self.traces.values():
            self._sync_trace(trace)
        self._update_gpu_plot()
        streaming = any(h.is_live for h in self.traces)
        for plot in self.plots.values():
            if plot.antialias == streaming:
                plot.set_antialias(not streaming)

    def _sync_trace(self, trace: _Trace) -> None:
        hist = trace.handle.history
        if hist.version == trace.version:
            return
        full = hist.resets != trace.resets
        trace.resets, trace.version = hist.resets, hist.version
        train, val = hist.train, hist.val
        if self.per_epoch:
            for plot, _t, _y, series, _log in PLOTS:
                for split, metric in series:
                    s = self._series(trace, plot, split, metric)
                    if split == "train":
                        epochs, _last, means = hist.per_epoch(metric)
                        s.set_data(epochs, means)
                    else:
                        s.set_data(val.col("epoch"), val.col(metric))
            trace.train_n, trace.val_n = len(train), len(val)
            return
        t0 = 0 if full else trace.train_n
        v0 = 0 if full else trace.val_n
        if t0 > len(train) or v0 > len(val):
            t0 = v0 = 0
            full = True
        for plot, _t, _y, series, _log in PLOTS:
            for split, metric in series:
                s = self._series(trace, plot, split, metric)
                cols, start = (train, t0) if split == "train" else (val, v0)
                x, y = cols.col("step")[start:], cols.col(metric)[start:]
                if full:
                    s.set_data(x, y)
                elif len(x):
                    s.append(x, y)
        trace.train_n, trace.val_n = len(train), len(val)

    def _update_gpu_plot(self) -> None:
        has_gpu = any(np.isfinite(t.handle.history.train.col("gpu_mem")[-256:]).any() for t in self.traces.values())
        if has_gpu != ("gpu_mem" in self._placed):
            self._place_plots(has_gpu)

    def _place_plots(self, gpu: bool = False) -> None:
        names = [p[0] for p in PLOTS if p[0] != "gpu_mem" or gpu]
        for name in self._placed:
            self.grid.removeWidget(self.plots[name])
        for i, name in enumerate(names):
            self.grid.addWidget(self.plots[name], i // 2, i % 2)
            self.plots[name].show()
        if not gpu:
            self.plots["gpu_mem"].hide()
        self._placed = names

    def _update_legend(self) -> None:
        parts = [f"<span style='color:{stable_color(h.name)}'>■</span> {h.name}" for h in self.traces]
        style = "&nbsp;&nbsp;<span style='color:gray'>— training &nbsp; ┄● validation</span>"
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts) + (style if parts else ""))

    # -- controls -------------------------------------------------------------------------------
    def _x_text(self, x: float) -> str:
        return f"epoch {x:,.0f}" if self.per_epoch else f"step {x:,.0f}"

    def _x_axis_changed(self, index: int) -> None:
        self.per_epoch = index == 1
        for trace in self.traces.values():
            trace.version = -1
            trace.resets = -1
            for s in trace.series.values():
                if not s.item.opts.get("symbol"):
                    s.set_smoothing(0.0 if self.per_epoch else self.smoothing)
        for plot in self.plots.values():
            plot.follow_data()
        self.sync()

    def _smoothing_moved(self, value: int) -> None:
        self.smooth_label.setText(f"{value / 100:.2f}" if value else "0")
        self._smooth_timer.start()

    def _apply_smoothing(self) -> None:
        self.smoothing = self.smooth.value() / 100
        if not self.per_epoch:
            for trace in self.traces.values():
                for (plot, split, _m), s in trace.series.items():
                    if split == "train":
                        s.set_smoothing(self.smoothing)

    def _log_toggled(self, on: bool) -> None:
        for name, _t, _y, _series, log in PLOTS:
            if log:
                self.plots[name].set_log_y(on)

    # -- export ---------------------------------------------------------------------------------
    def _export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves as CSV", self._default_name(".csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def _export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves as PNG", self._default_name(".png"),
                                              "PNG images (*.png)")
        if path:
            if not self.export_png(path):
                self.window_.show_error("Not exported", f"{path} could not be written.")

    def _default_name(self, suffix: str) -> str:
        h = self.manager.current()
        folder = h.run_dir if h is not None and h.run_dir is not None else Path.home()
        return str(Path(folder) / f"curves{suffix}")

    def export_csv(self, path: str | Path) -> background.Task:
        """Every row of the runs shown (their exact values), written off the GUI thread."""
        tables = []
        for h in self.traces:
            train, val = h.history.train, h.history.val
            tables.append((h.name, "train", {k: train.col(k).copy() for k in train.names}))
            tables.append((h.name, "val", {k: val.col(k).copy() for k in val.names}))

        def write(task) -> Path:
            with open(path, "w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(CSV_COLUMNS)
                for name, split, cols in tables:
                    n = len(cols["step"])
                    columns = [[name] * n, [split] * n] + [
                        cols[k].tolist() if k in cols else [""] * n for k in CSV_COLUMNS[2:]]
                    out.writerows(("" if isinstance(v, float) and v != v else v for v in row)
                                  for row in zip(*columns))
            return Path(path)
        def done(p: Path) -> None:
            if shiboken6.isValid(self):  # the window may have closed meanwhile
                self.window_.statusBar().showMessage(f"Exported {p.name}", 4000)

        def failed(e: BaseException) -> None:
            if shiboken6.isValid(self):
                self.window_.show_error("Not exported", f"{path} could not be written: {e}", e)
        return background.start(write, on_done=done, on_error=failed)

    def export_png(self, path: str | Path) -> bool:
        for plot in self.plots.values():
            plot.set_antialias(True)
            plot.redraw_now()
        ok = self.area.grab().save(str(path), "PNG")
        streaming = any(h.is_live for h in self.traces)
        for plot in self.plots.values():
            plot.set_antialias(not streaming)
        return ok
