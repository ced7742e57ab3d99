"""The Saliency dock: what each probe image's prediction rests on, live while the network
trains, and a time-lapse of how those maps changed over the run.

Per probe (8 validation images by default): the image, its heat map (vanilla-gradient
saliency or Grad-CAM), the map over the image, and the predicted class with its confidence
(green when right, red when wrong). The dock follows the run the window's live docks show
(``window.runs.current()``): ``probe_images`` and ``saliency`` events update it as they
arrive; a run opened from disk (or one the dock joins late) is read from its ``probes/``
folder off the GUI thread. The slider replays every saved round; at its right end the dock
follows the run again.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QSlider, QStackedWidget,
                               QStyle, QToolButton, QVBoxLayout, QWidget)

from studio.docks.saliency_timeline import DiskState, ProbeSet, SaliencyFrame, SaliencyHistory
from widgets import background
from widgets.heatmap import COLORMAPS, DEFAULT_ALPHA, HeatmapGrid
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow

RIGHT, WRONG = "#2e7d32", "#c62828"
PLAY_MS = 120  # one time-lapse frame per this many ms
POLL_MS = 2000  # re-read probes/ of a run that another process is writing
GRADCAM_TIP = "Which regions the last convolution's features for the predicted class come from"
EMPTY = ("Saliency maps of a few validation images appear here while a network trains, "
         "and for any run folder you open.")


class SaliencyPanel(QWidget):
    frame_shown = Signal(int)  # the step now on screen

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.handle: Any = None
        self.history = SaliencyHistory(None)
        self.probe_set: ProbeSet | None = None
        self.shown: SaliencyFrame | None = None
        self.following = True
        self.latencies: list[float] = []  # ms from a live event to its pixels on screen
        self._event_t: float | None = None
        self._pending: SaliencyFrame | None = None
        self._want: int | None = None  # the step a disk read was started for
        self._generation = 0  # bumped on every run switch: stale reads are dropped
        self._syncing = False
        self._on_screen = True
        self._io = QThreadPool(self)  # one reader: the timeline is touched by one thread at a time
        self._io.setMaxThreadCount(1)
        self._build()
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)  # coalesces a burst of events into one update
        self._render_timer.timeout.connect(self._render)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(PLAY_MS)
        self._play_timer.timeout.connect(self._play_step)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._scan)
        window.runs.current_changed.connect(self.set_run)
        self.set_run(window.runs.current())

    # -- widgets ----------------------------------------------------------------------
    def _build(self) -> None:
        self.run_label = muted(QLabel())
        self.run_label.setObjectName("saliency_run")
        self.map_buttons = QButtonGroup(self)
        self.map_buttons.setExclusive(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.run_label, 1)
        for key, text, tip in (("saliency", "Saliency", "How much each pixel changes the predicted class's score"),
                               ("gradcam", "Grad-CAM", GRADCAM_TIP)):
            b = QToolButton()
            b.setText(text)
            b.setObjectName(f"map_{key}")
            b.setCheckable(True)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            self.map_buttons.addButton(b)
            bar.addWidget(b)
        self.map_buttons.buttons()[0].setChecked(True)
        self.map_buttons.buttonToggled.connect(lambda *_: self._render())
        self.colormap = QComboBox()
        self.colormap.setObjectName("saliency_colormap")
        self.colormap.addItems(COLORMAPS)
        self.colormap.setToolTip("Colormap of the heat maps")
        self.colormap.currentTextChanged.connect(lambda name: self.grid.set_colormap(name))
        self.alpha = QSlider(Qt.Orientation.Horizontal)
        self.alpha.setObjectName("saliency_alpha")
        self.alpha.setRange(0, 100)
        self.alpha.setValue(round(DEFAULT_ALPHA * 100))
        self.alpha.setFixedWidth(80)
        self.alpha.setToolTip("Opacity of the map over the image")
        self.alpha.valueChanged.connect(lambda v: self.grid.set_alpha(v / 100))
        bar.addSpacing(8)
        bar.addWidget(self.colormap)
        bar.addWidget(muted(QLabel("opacity")))
        bar.addWidget(self.alpha)

        self.grid = HeatmapGrid(titles=("image", "saliency", "overlay"))
        self.grid.setObjectName("saliency_grid")
        self.grid.setMinimumHeight(160)
        self.grid.painted.connect(self._painted)
        self.empty = QLabel(EMPTY)
        self.empty.setObjectName("saliency_empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        muted(self.empty)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.grid)

        self.play = QToolButton()
        self.play.setObjectName("saliency_play")
        self.play.setAutoRaise(True)
        self.play.setCheckable(True)
        self.play.setToolTip("Replay how the maps changed over the run")
        self.play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play.toggled.connect(self._toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("saliency_slider")
        self.slider.setToolTip("Time-lapse: every probe round of the run; the right end follows the run")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderPressed.connect(self._scan)  # pick up rounds saved since
        self.step_label = QLabel()
        self.step_label.setObjectName("saliency_step")
        self.step_label.setMinimumWidth(150)
        self.live = QToolButton()
        self.live.setObjectName("saliency_live")
        self.live.setText("Latest")
        self.live.setAutoRaise(True)
        self.live.setToolTip("Jump to the newest round and follow the run")
        self.live.clicked.connect(self.follow)
        lapse = QHBoxLayout()
        lapse.setContentsMargins(6, 0, 6, 4)
        lapse.addWidget(self.play)
        lapse.addWidget(self.slider, 1)
        lapse.addWidget(self.step_label)
        lapse.addWidget(self.live)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addLayout(lapse)
        self._update_controls()

    # -- the run ----------------------------------------------------------------------
    def set_run(self, handle: Any) -> None:
        """Show ``handle``'s probes (a RunHandle, or None for no run)."""
        if handle is self.handle:
            return
        old, self.handle = self.handle, handle
        if old is not None and shiboken6.isValid(old):
            for signal, slot in ((old.event, self._on_event), (old.state_changed, self._state_changed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self._generation += 1
        self.history = SaliencyHistory(handle.run_dir if handle is not None else None)
        self.probe_set = None
        self.shown = self._pending = None
        self.following = True
        self._want = None
        self.play.setChecked(False)
        self._poll.stop()
        self.grid.set_count(0)
        if handle is not None:
            handle.event.connect(self._on_event)
            handle.state_changed.connect(self._state_changed)
            latest = getattr(handle, "latest", {})  # what the run sent before this dock saw it
            for kind in ("probe_images", "saliency"):
                if kind in latest:
                    self._on_event(latest[kind])
            self._scan()
            self._state_changed(handle.state)
        self._update_controls()

    def _state_changed(self, state: str) -> None:
        # a run another process writes (CLI, torchrun, a reopened live run): poll its probes/
        h = self.handle
        polled = h is not None and state == "running" and not h.is_live and h.run_dir is not None
        if polled and not self._poll.isActive():
            self._poll.start()
        elif not polled:
            self._poll.stop()
            if h is not None and state != "running":
                self._scan()  # the last rounds
        self._update_controls()

    def _scan(self) -> None:
        if self.history.run_dir is None:
            return
        gen, history = self._generation, self.history
        background.start(lambda task: history.scan(), pool=self._io,
                         on_done=lambda state: self._scanned(gen, state),
                         on_error=lambda e: self._read_failed(gen, e))

    def _scanned(self, gen: int, state: DiskState) -> None:
        if gen != self._generation:
            return
        self.history.merge_disk(state.steps)
        if self.probe_set is None and state.probe_set is not None:
            self._set_probe_set(state.probe_set)
        if self.following and state.newest is not None and (
                self.shown is None or state.newest.step >= self.shown.step):
            self._show(state.newest)
        self._update_controls()

    def _read_failed(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            self.step_label.setText("probes/ cannot be read")
            self.step_label.setToolTip(str(exc))

    # -- live events ------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "probe_images":
            self._set_probe_set(ProbeSet.from_event(event))
        elif kind == "saliency":
            frame = SaliencyFrame.from_event(event)
            self.history.add(frame)
            if self.following:
                if self._on_screen:
                    self._event_t = time.perf_counter()
                self._show(frame)
            self._update_controls()

    def _set_probe_set(self, probe_set: ProbeSet) -> None:
        self.probe_set = probe_set
        self.grid.set_images(probe_set.images)
        if self.shown is not None:
            self._show(self.shown)
        self._update_controls()

    # -- showing a frame --------------------------------------------------------------
    def _show(self, frame: SaliencyFrame) -> None:
        self.shown = frame
        self._pending = frame
        self._render_timer.start()

    def on_dock_visibility(self, visible: bool) -> None:
        """A tab in the background draws nothing while a run streams; brought up, it catches up."""
        self._on_screen = visible
        if visible and self._pending is not None:
            self._render_timer.start()

    def _render(self) -> None:
        if not self._on_screen:
            return  # the frame stays pending until the dock is brought up
        frame = self._pending or self.shown
        self._pending = None
        if frame is None:
            return
        gradcam = self.map_kind() == "gradcam" and frame.gradcam is not None
        maps = frame.gradcam if gradcam else frame.saliency
        self.grid.set_titles(("image", "Grad-CAM" if gradcam else "saliency", "overlay"))
        self.grid.set_count(len(maps))
        if self.probe_set is not None and len(self.probe_set.images) == len(maps):
            self.grid.set_images(self.probe_set.images)
        self.grid.set_maps(maps)
        classes = self.probe_set.classes if self.probe_set is not None else tuple(
            getattr(self.handle, "classes", None) or ())
        texts, colors = [], []
        for p, c, y in zip(frame.pred, frame.confidence, frame.label):
            name = classes[p] if 0 <= p < len(classes) else str(int(p))
            right = int(p) == int(y)
            truth = "" if right else f" ≠ {classes[y] if 0 <= y < len(classes) else int(y)}"
            texts.append(f"{name} {float(c):.0%}{truth}")
            colors.append(RIGHT if right else WRONG)
        self.grid.set_captions(texts, colors)
        self._update_controls()
        self.frame_shown.emit(frame.step)

    def _painted(self) -> None:
        if self._event_t is not None and self._pending is None:
            self.latencies.append((time.perf_counter() - self._event_t) * 1000)
            del self.latencies[:-100]
            self._event_t = None

    def map_kind(self) -> str:
        checked = self.map_buttons.checkedButton()
        return "gradcam" if checked is not None and checked.objectName() == "map_gradcam" else "saliency"

    # -- time-lapse -------------------------------------------------------------------
    def _slid(self, index: int) -> None:
        if self._syncing:
            return
        self.following = index >= len(self.history) - 1
        self.show_index(index)

    def show_index(self, index: int) -> None:
        """Show the round at ``index`` of the run's steps (from memory, else read from disk)."""
        if not 0 <= index < len(self.history):
            return
        frame = self.history.cached(index)
        if frame is not None:
            self._want = None
            self._show(frame)
            return
        step = self.history.step(index)
        self._want = step
        gen, history = self._generation, self.history
        background.start(lambda task: history.load(step), pool=self._io,
                         on_done=lambda f: self._loaded(gen, step, f),
                         on_error=lambda e: self._read_failed(gen, e))

    def _loaded(self, gen: int, step: int, frame: SaliencyFrame | None) -> None:
        if gen == self._generation and step == self._want and frame is not None:
            self._want = None
            self._show(frame)

    def follow(self) -> None:
        """Back to the newest round, and stay there as new ones arrive."""
        self.play.setChecked(False)
        self.following = True
        if len(self.history):
            self.show_index(len(self.history) - 1)
        self._update_controls()

    def _toggle_play(self, on: bool) -> None:
        self.play.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay))
        if on:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)  # replay from the start
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def _play_step(self) -> None:
        if self._want is not None:
            return  # the previous frame is still being read: do not run ahead of the disk
        nxt = self.slider.value() + 1
        if nxt > self.slider.maximum():
            self.play.setChecked(False)
            return
        self.slider.setValue(nxt)

    def _update_controls(self) -> None:
        n = len(self.history)
        f = self.shown
        index = self.history.steps.index(f.step) if f is not None and f.step in self.history.steps else n - 1
        self._syncing = True  # moving the slider to the frame shown is not a user's scrub
        try:
            self.slider.setRange(0, max(0, n - 1))
            self.slider.setValue(max(0, index))
        finally:
            self._syncing = False
        self.slider.setEnabled(n > 1)
        self.play.setEnabled(n > 1)
        self.live.setEnabled(n > 0 and not (self.following and index == n - 1))
        self.step_label.setText("" if f is None else f"step {f.step} · epoch {f.epoch}  ({index + 1}/{n})")
        has_gradcam = f is None or f.gradcam is not None
        gradcam_button = self.map_buttons.buttons()[1]
        gradcam_button.setEnabled(has_gradcam)
        gradcam_button.setToolTip(GRADCAM_TIP if has_gradcam else "Grad-CAM needs a 2-D convolution in the network")
        h = self.handle
        self.run_label.setText("No run" if h is None else f"{h.name} · {h.state}")
        if h is not None and f is None and self.probe_set is None:
            self.empty.setText("No saliency maps yet: they come with the first probe round of the run "
                               "(Training settings → Live probes)." if h.state != "running" else
                               "Waiting for the first probe round…")
        elif h is None:
            self.empty.setText(EMPTY)
        self.stack.setCurrentWidget(self.empty if f is None and self.probe_set is None else self.grid)

    def closeEvent(self, event) -> None:
        self._io.waitForDone(2000)
        super().closeEvent(event)
