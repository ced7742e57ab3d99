"""Training settings (generated from ``engine.schema.TRAINING_SETTINGS``), the learning-rate
schedule plotted live as it is edited, and the engine's device list.

The curve is ``engine.schedule.lr_curve`` (pure Python) computed off the GUI thread; its
steps per epoch come from the dataset's size and the batch size once the Dataset dock has
opened the data, a nominal figure until then.
"""
from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.errors import LayerStudioError
from engine.schema import TRAINING_SETTINGS
from engine.schema.schedule import G as SCHEDULE_GROUP
from studio.docks.settings_form import SettingsForm
from widgets.scrolling import vertical_scroll
from widgets.style import muted
from widgets import background, units
from widgets.form import Form

if TYPE_CHECKING:
    from studio.document import Document
    from studio.main_window import MainWindow

NOMINAL_STEPS = 100  # steps per epoch until the dataset's size is known
MAX_POINTS = 400_000  # beyond this the curve is computed at a coarser step (and says so)


def schedule_points(training: dict, steps_per_epoch: int) -> tuple[list[float], list[float], bool]:
    """(x in epochs, lr, approximate?) for the plot; runs on a worker thread."""
    from engine.schedule import lr_curve
    epochs = training.get("epochs", 10)
    epochs = epochs if isinstance(epochs, int) and epochs > 0 else 10
    per_step = (training.get("schedule") or {}).get("unit") == "step" if isinstance(
        training.get("schedule"), dict) else False
    spe = steps_per_epoch if per_step else 1  # an epoch-unit schedule is constant within an epoch
    approx = False
    if epochs * spe > MAX_POINTS:
        spe, approx = max(1, MAX_POINTS // epochs), True
    lrs = lr_curve(training, spe)
    n = len(lrs)
    stride = max(1, n // 4000)  # plenty for a plot a few hundred pixels wide
    xs = [i / spe for i in range(0, n, stride)]
    ys = lrs[::stride]
    if not per_step:  # draw epoch-wise rates as steps
        xs = [x for e in xs for x in (e, e + 1)]
        ys = [y for y in ys for _ in (0, 1)]
    return xs, ys, approx


class TrainingPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.doc: Document | None = None
        self.train_size: int | None = window.dataset_size
        # the schedule's settings sit next to its plot; every other setting in the main form
        self.settings_form = SettingsForm("training", [s for s in TRAINING_SETTINGS if s.group != SCHEDULE_GROUP],
                                          suggestions={"device": ("auto", "cpu", "cuda")})
        self.schedule_form = SettingsForm("training", [s for s in TRAINING_SETTINGS if s.group == SCHEDULE_GROUP],
                                          heading=SCHEDULE_GROUP)
        self.plot = None  # built after the window's first paint (pyqtgraph takes a while to import)
        self._curve_data: tuple | None = None
        self.plot_note = QLabel()
        self.plot_note.setWordWrap(True)
        muted(self.plot_note)
        self.devices = QLabel()
        self.devices.setObjectName("device_list")
        self.devices.setWordWrap(True)
        self.devices.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        width = max(self.settings_form.form.label_width(), self.schedule_form.form.label_width())
        self.settings_form.form.set_label_width(width)
        self.schedule_form.form.set_label_width(width)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(10)
        layout.addWidget(self.settings_form)
        layout.addWidget(self.schedule_form)
        layout.addWidget(self.plot_note)
        self._plot_box = layout  # the plot goes between the schedule's settings and its note
        devices = Form()
        devices.add_section("Devices")
        layout.addWidget(devices)
        layout.addWidget(self.devices)
        layout.addStretch(1)
        scroll = vertical_scroll(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._curve = background.Latest()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self.update_curve)
        studio = window.studio
        studio.devices_changed.connect(self._show_devices)
        # a bound method (not a lambda): the connection ends with the panel when its window closes
        studio.engine_state_changed.connect(self._engine_state_changed)
        self._show_devices(studio.devices)
        window.dataset_size_changed.connect(self.set_train_size)
        window.document_changed.connect(self.set_document)
        self.set_document(window.document)
        window.when_painted(self.build_plot)

    def build_plot(self) -> None:
        if self.plot is not None:
            return
        from widgets.line_plot import LinePlot
        self.plot = LinePlot(x_label="epoch", y_label="learning rate")
        self.plot.setFixedHeight(170)
        self.plot.setToolTip("The learning rate at every step of the run, as the trainer will apply it")
        self._plot_box.insertWidget(self._plot_box.indexOf(self.schedule_form) + 1, self.plot)
        self.plot.show()  # a child added to a visible parent starts hidden
        if self._curve_data is not None:
            self._draw(*self._curve_data)

    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            self.doc.setting_changed.disconnect(self._setting_changed)
        self.doc = doc
        doc.setting_changed.connect(self._setting_changed)
        self.settings_form.set_document(doc)
        self.schedule_form.set_document(doc)
        self.update_curve()

    def set_train_size(self, n: int | None) -> None:
        self.train_size = n
        self._timer.start()

    def _setting_changed(self, section: str, _key: str) -> None:
        if section == "training":
            self._timer.start()

    def steps_per_epoch(self) -> tuple[int, bool]:
        """(steps, known?) — from the dataset's training split and the batch size."""
        batch = self.doc.setting("training", "batch_size", 64)
        if self.train_size and isinstance(batch, int) and batch > 0:
            return max(1, math.ceil(self.train_size / batch)), True
        return NOMINAL_STEPS, False

    def update_curve(self) -> None:
        self._timer.stop()
        training = copy.deepcopy(self.doc.project.training)
        spe, known = self.steps_per_epoch()
        self._curve.start(lambda task: schedule_points(training, spe),
                          on_done=lambda r, spe=spe, known=known: self._show_curve(r, spe, known),
                          on_error=self._curve_failed)

    def _show_curve(self, result: tuple[list[float], list[float], bool], spe: int, known: bool) -> None:
        xs, ys, approx = result
        self._draw(xs, ys, True)
        where = (f"{spe:,} steps per epoch ({self.train_size:,} training samples)" if known
                 else f"{spe} steps per epoch assumed (the dataset's size is not known yet)")
        lo, hi = (min(ys), max(ys)) if ys else (0, 0)
        self.plot_note.setText(f"From {lo:.3g} to {hi:.3g}; {where}." + (" Drawn at a coarser step." if approx else ""))

    def _draw(self, xs: list[float], ys: list[float], valid: bool) -> None:
        self._curve_data = (xs, ys, valid)
        if self.plot is None:
            return
        epochs = int(xs[-1]) if xs else 0
        self.plot.set_data(xs, ys, marks=range(epochs) if 0 < epochs <= 60 else ())
        self.plot.setEnabled(valid)

    def _curve_failed(self, exc: BaseException) -> None:
        if self._curve_data is not None:
            self._draw(self._curve_data[0], self._curve_data[1], False)
        if isinstance(exc, LayerStudioError):
            self.plot_note.setText(f"Cannot draw the schedule: {exc.message}")
        else:
            self.window_.show_error("Learning-rate schedule", "The schedule could not be computed.", exc)

    def _engine_state_changed(self, *_: object) -> None:
        self._show_devices(self.window_.studio.devices)

    def _show_devices(self, devices: list[dict[str, Any]]) -> None:
        studio = self.window_.studio
        if studio.engine_state == "failed":
            self.devices.setText(f"<span style='color:#c62828'>The engine is not running: "
                                 f"{studio.engine_message}</span>")
            return
        if not devices:
            self.devices.setText("<i>Waiting for the engine…</i>")
            return
        lines = []
        for d in devices:
            mem = d.get("memory")
            mem_text = f" — {units.binary_bytes(mem)}" if isinstance(mem, (int, float)) and mem else ""
            lines.append(f"<b>{d.get('id', '?')}</b>: {d.get('name', '')}{mem_text}")
        self.devices.setText("<br>".join(lines))
        editor = self.settings_form.editor("device")
        if hasattr(editor, "set_suggestions"):
            editor.set_suggestions(["auto"] + [str(d.get("id")) for d in devices if d.get("id")])
