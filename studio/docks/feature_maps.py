"""Feature-maps dock: one layer's activations for one probe image, tiled, live.

The user picks a layer and one of the run's probe images; the choice goes to the live worker
(``probe_config``), whose next probe round sends that layer's maps (``FeatureMaps``). Rounds
are kept (bounded), so the slider goes back through training; a reopened run shows the maps
its probes/ recorded, for whichever layer and image were chosen while it ran.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.docks.live_run import LivePanel, drop_after, read_frames, spaced, thin
from studio.docks.step_slider import StepSlider
from widgets.image_grid import to_qimage
from widgets.style import muted
from widgets.thumbnails import ThumbnailList
from widgets.tile_view import TileView
from widgets.tiles import Tiling, tile_feature_maps

if TYPE_CHECKING:
    from engine.runs.probes import ProbeHistory
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

FRAME_BUDGET = 48 * 2**20  # bytes of maps kept; older rounds are thinned evenly
HISTORY_ROUNDS = 200  # rounds read back from probes/ (evenly spaced over the run)


def layer_nodes(project: dict) -> list[tuple[str, str]]:
    """(id, type) of every node whose output can be shown: all but the inputs, in file order."""
    nodes = (project.get("graph") or {}).get("nodes") or []
    return [(str(n.get("id")), str(n.get("type"))) for n in nodes
            if isinstance(n, dict) and n.get("type") != "Input"]


def default_layer(project: dict) -> str | None:
    """What the worker shows unless told otherwise: the first convolution (else the first layer)."""
    nodes = layer_nodes(project)
    convs = [n for n, t in nodes if t.startswith("Conv")]
    return convs[0] if convs else (nodes[0][0] if nodes else None)


class FeatureMapsPanel(LivePanel):
    kinds = ("feature_maps", "probe_images")

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.frames: dict[int, Any] = {}  # step → FeatureMaps
        self.probe_images: Any = None  # the run's ProbeImages
        self.layer: str | None = None  # what the user chose (None: whatever the run sends)
        self.image_index: int | None = None
        self.frame: Any = None  # the FeatureMaps on screen
        self.tiling: Tiling | None = None

        self.combo = QComboBox()
        self.combo.setObjectName("feature_layer")
        self.combo.setToolTip("Layer whose output is shown")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.activated.connect(lambda i: self.choose(layer=self.combo.itemData(i)))
        self.per_tile = QCheckBox("Scale each map")
        self.per_tile.setChecked(True)
        self.per_tile.setToolTip("Stretch every channel to its own range (off: one range for the layer, "
                                 "so strong and weak channels compare)")
        self.per_tile.toggled.connect(lambda _on: self._redraw())
        self.shape_label = muted(QLabel())
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.combo)
        top.addWidget(self.per_tile)
        top.addStretch(1)
        top.addWidget(self.shape_label)

        self.gallery = ThumbnailList(size=40, selectable=True, wrap=False)
        self.gallery.setObjectName("feature_images")
        self.gallery.setToolTip("Probe images from the validation set: pick the one to look at")
        self.gallery.chosen.connect(lambda i: self.choose(image=i))
        self.input_view = QLabel()
        self.input_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.input_view.setMinimumSize(72, 72)
        self.input_view.setToolTip("The image the maps are computed for")
        self.message = muted(QLabel())
        self.message.setWordWrap(True)
        self.view = TileView()
        self.view.setToolTip("One tile per channel: bright is a strong activation. Double-click to fit.")

        body = QWidget()
        bl = QHBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        side = QVBoxLayout()
        side.addWidget(self.input_view)
        side.addStretch(1)
        bl.addLayout(side)
        bl.addWidget(self.view, 1)
        self.slider = StepSlider()
        self.slider.moved.connect(lambda _i: self._redraw())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.gallery)
        layout.addWidget(self.message)
        layout.addWidget(body, 1)
        layout.addWidget(self.slider)
        self.follow_runs()
        self.render()

    # -- LivePanel -------------------------------------------------------------------------
    def on_run(self, run: "RunHandle | None") -> None:
        self.frames.clear()
        self.probe_images = None
        self.layer = self.image_index = None
        self.frame = None
        self.combo.blockSignals(True)
        self.combo.clear()
        for n, t in layer_nodes(run.project) if run is not None else []:
            self.combo.addItem(f"{n}  ({t})", n)
        self.combo.blockSignals(False)
        self.combo.setEnabled(self.combo.count() > 0)
        self.gallery.set_images([])

    def on_event(self, event: Any, live: bool) -> None:
        if event.type == "probe_images":
            self.probe_images = event
            self._fill_gallery()
            return
        self.frames[int(event.step)] = event
        thin(self.frames, FRAME_BUDGET, max(1, np.asarray(event.maps).nbytes))

    def drop_after(self, step: int) -> None:
        drop_after(self.frames, step)

    @staticmethod
    def load_history(history: "ProbeHistory", after_step: int) -> Iterable[Any]:
        if after_step == 0:
            images = history.probe_images()
            if images is not None:
                yield images
        yield from read_frames(history.feature_maps, spaced(history.feature_steps, after_step, HISTORY_ROUNDS))

    def render(self) -> None:
        matching = self._matching()
        self.slider.set_rounds([(self.frames[s].epoch, s) for s in matching])
        self._redraw()

    # -- user ------------------------------------------------------------------------------
    def choose(self, layer: str | None = None, image: int | None = None) -> None:
        """Show ``layer`` and/or probe image ``image``; a live run is asked for them."""
        shown = self.frame
        if layer is not None:
            self.layer = layer
            if self.image_index is None and shown is not None:
                self.image_index = int(shown.image_index)
        if image is not None:
            self.image_index = image
            if self.layer is None:
                self.layer = shown.layer if shown is not None else default_layer(self.run.project if self.run else {})
        run = self.run
        if run is not None and run.is_live:
            config = {k: v for k, v in (("feature_layer", self.layer), ("feature_image", self.image_index))
                      if v is not None}
            run.send({"cmd": "probe_config", "config": config})
        self.slider.set_rounds([])
        self.render()

    def _matching(self) -> list[int]:
        """Steps of the rounds that show what the user chose (all rounds until a choice)."""
        return [s for s in sorted(self.frames)
                if (self.layer is None or self.frames[s].layer == self.layer)
                and (self.image_index is None or int(self.frames[s].image_index) == self.image_index)]

    def _fill_gallery(self) -> None:
        p = self.probe_images
        classes = list(getattr(p, "classes", []) or [])
        labels = [int(x) for x in np.asarray(p.labels).reshape(-1)]
        names = [classes[y] if 0 <= y < len(classes) else str(y) for y in labels]
        self.gallery.set_images(list(np.asarray(p.images)), captions=names,
                                tooltips=[f"probe image {i}: {n}" for i, n in enumerate(names)])
        self._sync_choice()

    def _sync_choice(self) -> None:
        """Combo and gallery show the layer and image on screen."""
        f = self.frame
        layer = self.layer or (f.layer if f is not None else None)
        image = self.image_index if self.image_index is not None else (int(f.image_index) if f is not None else None)
        i = self.combo.findData(layer) if layer else -1
        if i < 0 and layer:
            self.combo.addItem(layer, layer)
            i = self.combo.count() - 1
        if i >= 0 and i != self.combo.currentIndex():
            self.combo.setCurrentIndex(i)
        if image is not None and 0 <= image < self.gallery.count() and image != self.gallery.currentRow():
            self.gallery.blockSignals(True)
            self.gallery.setCurrentRow(image)
            self.gallery.blockSignals(False)

    def _redraw(self) -> None:
        steps = self._matching()
        i = self.slider.index()
        self.frame = self.frames[steps[i]] if steps and 0 <= i < len(steps) else None
        self._sync_choice()
        f = self.frame
        if f is None:
            self.tiling = None
            self.view.set_tiling(None)
            self.input_view.clear()
            self.shape_label.setText("")
            self.message.setText(self._empty_text())
            self.message.setVisible(True)
            return
        self.message.setVisible(False)
        maps = np.asarray(f.maps)
        try:
            self.tiling = tile_feature_maps(maps, per_tile=self.per_tile.isChecked())
        except ValueError as e:
            self.tiling = None
            self.view.set_tiling(None)
            self.message.setText(f"These activations cannot be drawn as tiles: {e}")
            self.message.setVisible(True)
            return
        one = self.tiling.count == 1 and maps.shape[0] > 1  # a signal: a row per channel
        self.view.set_tiling(self.tiling, lambda k: "one row per channel" if one else f"channel {k}")
        image = QPixmap.fromImage(to_qimage(np.asarray(f.image)))
        self.input_view.setPixmap(image.scaled(72, 72, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation))
        true = "×".join(str(d) for d in f.shape)
        shown = "×".join(str(d) for d in maps.shape)
        self.shape_label.setText(f"output {true}" + (f" (shown {shown})" if shown != true else "")
                                 + f" · epoch {f.epoch}, step {f.step}")

    def _empty_text(self) -> str:
        run = self.run
        if run is None:
            return "No run to show. Train the project, or open a run directory, to see feature maps."
        if self.loading:
            return "Reading the run's probes…"
        if not self.frames:
            return "No feature maps yet: they arrive with the first probe round of the run."
        what = f"{self.layer or 'this layer'}" + (f", probe image {self.image_index}"
                                                    if self.image_index is not None else "")
        if run.is_live:
            return f"Waiting for the next probe round to show {what}…"
        recorded = sorted({(f.layer, int(f.image_index)) for f in self.frames.values()})
        listed = ", ".join(f"{l} (image {i})" for l, i in recorded[:6])
        return f"This run recorded no feature maps of {what}. It recorded: {listed}."
