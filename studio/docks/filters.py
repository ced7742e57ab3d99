"""Filters dock: a convolution's weights as tiles, live, with their statistics and history.

The worker sends every convolution's weights each probe round (``Filters`` events; layers
beyond the first 16 only when asked for with ``filter_layer``); the dock keeps a bounded
history per layer, so the slider scrubs back through training, and for a reopened run the
same history comes from the run's probes/.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget
from PySide6.QtCore import Qt

from studio.docks.live_run import LivePanel, drop_after, read_frames, spaced, thin
from studio.docks.step_slider import StepSlider
from widgets.style import muted
from widgets.tile_view import TileView
from widgets.tiles import Tiling, tile_filters

if TYPE_CHECKING:
    from engine.runs.probes import ProbeHistory
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

FRAME_BUDGET = 24 * 2**20  # bytes of weights kept per layer; older rounds are thinned evenly
HISTORY_ROUNDS = 200  # rounds read back from probes/ (evenly spaced over the run)


def conv_nodes(project: dict) -> list[tuple[str, str]]:
    """(id, type) of the project's convolutions, in file order."""
    nodes = (project.get("graph") or {}).get("nodes") or []
    return [(str(n.get("id")), str(n.get("type"))) for n in nodes
            if isinstance(n, dict) and str(n.get("type", "")).startswith("Conv")]


class FiltersPanel(LivePanel):
    kinds = ("filters",)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.frames: dict[str, dict[int, Any]] = {}  # layer → step → Filters
        self.layer: str | None = None
        self.frame: Any = None  # the Filters on screen
        self.tiling: Tiling | None = None

        self.combo = QComboBox()
        self.combo.setObjectName("filter_layer")
        self.combo.setToolTip("Convolution whose weights are shown")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.activated.connect(lambda i: self.choose_layer(self.combo.itemData(i)))
        self.per_tile = QCheckBox("Scale each filter")
        self.per_tile.setToolTip("Stretch every filter to its own range (shape shows; magnitudes no longer compare)")
        self.per_tile.toggled.connect(lambda _on: self._redraw())
        self.shape_label = muted(QLabel())
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo)
        top.addWidget(self.per_tile)
        top.addStretch(1)
        top.addWidget(self.shape_label)

        self.message = muted(QLabel())
        self.message.setWordWrap(True)
        self.view = TileView()
        self.view.setToolTip("Weights: mid-gray is 0, light is positive, dark negative. Double-click to fit.")

        self.hist = pg.PlotWidget()
        self.hist.setBackground(None)
        self.hist.setMenuEnabled(False)
        hp = self.hist.getPlotItem()
        hp.hideButtons()
        hp.setMouseEnabled(False, False)
        hp.setLabel("bottom", "weight")
        hp.getAxis("bottom").enableAutoSIPrefix(False)  # "(x0.001)" under weights reads as a unit
        hp.getAxis("left").setWidth(36)
        self.hist_curve = hp.plot(stepMode="center", fillLevel=0, brush=pg.mkBrush(30, 136, 229, 110),
                                  pen=pg.mkPen("#1e88e5", width=1))
        self.hist.setMinimumHeight(90)
        self.stats = QLabel()
        self.stats.setObjectName("filter_stats")
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        below = QWidget()
        bl = QVBoxLayout(below)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.stats)
        bl.addWidget(self.hist, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(below)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

        self.slider = StepSlider()
        self.slider.moved.connect(lambda _i: self._redraw())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        layout.addWidget(self.slider)
        self.follow_runs()
        self._update_layers()
        self.render()

    # -- LivePanel -------------------------------------------------------------------------
    def on_run(self, run: "RunHandle | None") -> None:
        self.frames.clear()
        self.frame = None
        self.layer = None
        self._update_layers()

    def on_event(self, event: Any, live: bool) -> None:
        frames = self.frames.setdefault(event.layer, {})
        frames[int(event.step)] = event
        thin(frames, FRAME_BUDGET, max(1, event.weights.nbytes))
        if self.combo.findData(event.layer) < 0:
            self._update_layers()

    def drop_after(self, step: int) -> None:
        for frames in self.frames.values():
            drop_after(frames, step)

    @staticmethod
    def load_history(history: "ProbeHistory", after_step: int) -> Iterable[Any]:
        for round_ in read_frames(history.filters, spaced(history.filter_steps, after_step, HISTORY_ROUNDS)):
            yield from round_

    def render(self) -> None:
        if self.layer is None and self.combo.count():
            with_data = [self.combo.itemData(i) for i in range(self.combo.count())
                         if self.combo.itemData(i) in self.frames]
            if with_data:
                self._select(with_data[0])
        frames = self.frames.get(self.layer or "", {})
        steps = sorted(frames)
        self.slider.set_rounds([(frames[s].epoch, s) for s in steps])
        self._redraw()

    # -- user ------------------------------------------------------------------------------
    def choose_layer(self, layer: str | None) -> None:
        if not layer or layer == self.layer:
            return
        self._select(layer)
        run = self.run
        if run is not None and run.is_live and layer not in self.frames:
            # beyond the layers sent by default: ask the worker for this one
            run.send({"cmd": "probe_config", "config": {"filter_layer": layer}})
        self.slider.set_rounds([])
        self.render()

    def _select(self, layer: str) -> None:
        self.layer = layer
        i = self.combo.findData(layer)
        if i >= 0 and i != self.combo.currentIndex():
            self.combo.setCurrentIndex(i)

    def _update_layers(self) -> None:
        run = self.run
        known = conv_nodes(run.project) if run is not None else []
        ids = [n for n, _ in known] + sorted(set(self.frames) - {n for n, _ in known})
        types = dict(known)
        self.combo.blockSignals(True)
        self.combo.clear()
        for n in ids:
            self.combo.addItem(f"{n}  ({types[n]})" if n in types else n, n)
        if self.layer is not None:
            self.combo.setCurrentIndex(max(0, self.combo.findData(self.layer)))
        self.combo.blockSignals(False)
        self.combo.setEnabled(bool(ids))

    def _redraw(self) -> None:
        frames = self.frames.get(self.layer or "", {})
        steps = sorted(frames)
        i = self.slider.index()
        self.frame = frames[steps[i]] if steps and 0 <= i < len(steps) else None
        if self.frame is None:
            self.tiling = None
            self.view.set_tiling(None)
            self.hist_curve.setData([], [])
            self.stats.setText("")
            self.shape_label.setText("")
            self.message.setText(self._empty_text())
            self.message.setVisible(True)
            return
        f = self.frame
        self.message.setVisible(False)
        w = np.asarray(f.weights)
        try:
            self.tiling = tile_filters(w, per_tile=self.per_tile.isChecked())
        except ValueError as e:
            self.tiling = None
            self.view.set_tiling(None)
            self.message.setText(f"These weights cannot be drawn as tiles: {e}")
            self.message.setVisible(True)
            return
        self.view.set_tiling(self.tiling, self._describe)
        self.shape_label.setText("×".join(str(d) for d in w.shape) + (" (first 64 channels)" if f.truncated else ""))
        counts, edges = np.asarray(f.hist_counts), np.asarray(f.hist_edges)
        if len(edges) == len(counts) + 1:
            self.hist_curve.setData(edges, counts)
        self.stats.setText(f"mean {f.mean:.4g} · std {f.std:.4g} · |w| max {float(np.abs(w).max()):.4g}"
                           f" · epoch {f.epoch}, step {f.step}")

    def _empty_text(self) -> str:
        if self.run is None:
            return "No run to show. Train the project, or open a run directory, to see its filters."
        if not self.combo.count():
            return "This network has no convolution: there are no filters to show."
        if self.loading:
            return "Reading the run's probes…"
        return "No filters recorded yet: they arrive with the first probe round of the run."

    def _describe(self, i: int) -> str:
        w = np.asarray(self.frame.weights) if self.frame is not None else None
        if w is None:
            return ""
        if w.ndim == 4 and w.shape[1] not in (1, 3):
            o, c = divmod(i, w.shape[1])
            return f"output channel {o}, input channel {c}"
        if w.ndim == 3:
            return f"output channel {i} (rows: input channels, columns: taps)"
        return f"filter {i}"

    def displayed(self) -> np.ndarray | None:
        """The image on screen (tests compare it with the tiling of the checkpoint's weights)."""
        return self.view.image()
