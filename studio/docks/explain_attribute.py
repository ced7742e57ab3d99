"""On-demand attributions: Integrated Gradients, SmoothGrad and Occlusion of any image.

These take from a fraction of a second to minutes, so the cost is estimated first (the
service times one pass and counts the passes the method will make) and shown on the Run
button; a run reports its progress pass by pass and can be cancelled at any time."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QStackedWidget, QWidget)

from studio.docks.explain_call import ServiceCall, call
from studio.docks.explain_tab import ExplainTab
from widgets.heatmap import HeatmapGrid
from widgets.style import muted

if TYPE_CHECKING:
    from studio.docks.explain_source import SourcePicker
    from studio.main_window import MainWindow

METHODS = (("integrated_gradients", "Integrated Gradients"), ("smoothgrad", "SmoothGrad"),
           ("occlusion", "Occlusion"))
ESTIMATE_DELAY_MS = 300  # after the last change of method, option or image


def seconds_text(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    return f"{s / 60:.0f} min"


class AttributionTab(ExplainTab):
    def __init__(self, window: "MainWindow", source: "SourcePicker") -> None:
        super().__init__(window, source)
        self.method = QComboBox()
        self.method.setObjectName("method")
        for key, label in METHODS:
            self.method.addItem(label, key)
        self.method.setToolTip("Integrated Gradients: gradients along a path from a black image; SmoothGrad: "
                               "gradients averaged over noisy copies; Occlusion: the score drop when a patch is hidden")
        self.target = QComboBox()
        self.target.setObjectName("target")
        self.target.setToolTip("The class whose score is explained")

        # options, one page per method
        self.steps = QSpinBox()
        self.steps.setObjectName("ig_steps")
        self.steps.setRange(2, 1024)
        self.steps.setValue(32)
        self.steps.setToolTip("Points along the path from the baseline to the image")
        self.samples = QSpinBox()
        self.samples.setObjectName("sg_samples")
        self.samples.setRange(1, 512)
        self.samples.setValue(16)
        self.samples.setToolTip("Noisy copies averaged")
        self.noise = QDoubleSpinBox()
        self.noise.setObjectName("sg_noise")
        self.noise.setRange(0.0, 2.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(0.15)
        self.noise.setToolTip("Noise level (standard deviation in normalized pixel units)")
        self.window_size = QSpinBox()
        self.window_size.setObjectName("occ_window")
        self.window_size.setRange(0, 512)
        self.window_size.setSpecialValueText("auto")
        self.window_size.setToolTip("Side of the hidden patch in pixels (auto: 1/8 of the image)")
        self.stride = QSpinBox()
        self.stride.setObjectName("occ_stride")
        self.stride.setRange(0, 512)
        self.stride.setSpecialValueText("auto")
        self.stride.setToolTip("Step between patches in pixels (auto: half the patch)")
        self.options = QStackedWidget()
        for rows in ((("steps", self.steps),), (("samples", self.samples), ("noise", self.noise)),
                     (("patch", self.window_size), ("stride", self.stride))):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            for text, w in rows:
                row.addWidget(QLabel(text))
                row.addWidget(w)
            row.addStretch(1)
            self.options.addWidget(page)

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("run_attribution")
        self.run_button.clicked.connect(self.run_attribution)
        self.cost = muted(QLabel())
        self.cost.setObjectName("cost")
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cost, 1)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Method", self.method)
        form.addRow("Options", self.options)
        form.addRow("Explain", self.target)
        self.maps = HeatmapGrid(orientation="rows", titles=("input", "attribution", "overlay"))
        self.maps.setObjectName("attribution_maps")
        self.layout_.addLayout(form)
        self.layout_.addLayout(run_row)
        self.add_status()
        self.layout_.addWidget(self.maps)
        self.layout_.addStretch(1)

        self.estimate: dict | None = None
        self._estimate_call: ServiceCall | None = None
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self.request_estimate)
        self.method.currentIndexChanged.connect(self._method_changed)
        for w in (self.steps, self.samples, self.window_size, self.stride):
            w.valueChanged.connect(self._changed)
        self.noise.valueChanged.connect(self._changed)
        self.target.currentIndexChanged.connect(self._changed)
        source.changed.connect(self._changed)
        source.run_changed.connect(self._fill_targets)
        self._fill_targets(source.handle())
        self._method_changed()

    def _fill_targets(self, _handle: Any = None) -> None:
        keep = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItem("the predicted class", None)
        for i, name in enumerate(self.source.classes()):
            self.target.addItem(name, i)
        i = self.target.findData(keep)
        self.target.setCurrentIndex(max(0, i))
        self.target.blockSignals(False)

    def _method_changed(self) -> None:
        self.options.setCurrentIndex(self.method.currentIndex())
        self._changed()

    def _changed(self, *_: Any) -> None:
        """Something that changes the cost: forget the old estimate, ask for a new one soon."""
        self.estimate = None
        self.run_button.setText("Run")
        self.cost.setText("")
        if self._estimate_call is not None:
            self._estimate_call.cancel()
        self._estimate_timer.start()

    def method_options(self) -> dict[str, Any]:
        key = self.method.currentData()
        if key == "integrated_gradients":
            return {"steps": self.steps.value()}
        if key == "smoothgrad":
            return {"samples": self.samples.value(), "noise": round(self.noise.value(), 4)}
        options: dict[str, Any] = {}
        if self.window_size.value():
            options["window"] = self.window_size.value()
        if self.stride.value():
            options["stride"] = self.stride.value()
        return options

    def payload(self, mode: str) -> dict[str, Any]:
        payload = {**self.base_payload(), **self.source.image_payload(), "method": self.method.currentData(),
                   "options": self.method_options(), "mode": mode}
        if self.target.currentData() is not None:
            payload["target"] = self.target.currentData()
        return payload

    # -- estimate, then run -----------------------------------------------------------
    def request_estimate(self) -> None:
        try:
            payload = self.payload("estimate")
        except ValueError:
            return  # nothing to estimate yet: the Run button says what is missing
        self.cost.setText("estimating the cost…")
        if self._estimate_call is not None:
            self._estimate_call.cancel()
            self._estimate_call.deleteLater()
        c = call(self.window_.studio, "attribute", payload, self)
        self._estimate_call = c
        c.done.connect(lambda result: self._estimated(c, result))
        c.failed.connect(lambda message, details: self._estimate_failed(c, message, details))

    def _estimated(self, c: ServiceCall, result: dict) -> None:
        if c is not self._estimate_call:
            return
        self.estimate = result
        seconds = float(result.get("seconds", 0.0))
        passes = result.get("passes")
        self.run_button.setText(f"Run (≈ {seconds_text(seconds)})")
        detail = f"{passes} pass{'es' if passes != 1 else ''}" if passes is not None else ""
        if result.get("rows") is not None:
            detail += f", {result['rows']} images through the network"
        self.cost.setText(f"estimated {seconds_text(seconds)}" + (f" · {detail}" if detail else ""))

    def _estimate_failed(self, c: ServiceCall, message: str, details: str) -> None:
        if c is self._estimate_call:
            self.cost.setText("")
            self.say(message, error=True, details=details)  # bad image or options: say so before Run

    def run_attribution(self) -> None:
        try:
            payload = self.payload("run")
        except ValueError as e:
            self.say(str(e), error=True)
            return
        method = self.method.currentText()
        self.request("attribute", payload, self.show_result, f"{method} of {self.source.describe_image()}…")

    def busy_changed(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)

    def show_result(self, result: dict) -> None:
        image = result.get("image")
        heat = result.get("map")
        if image is not None:
            self.maps.set_images([np.asarray(image)])
        self.maps.set_maps([np.asarray(heat, np.float32)] if heat is not None else None)
        name = str(result.get("target_class", ""))
        seconds = self.call.seconds if self.call is not None else None  # measured here: the whole round trip
        took = f"\n{seconds_text(seconds)}" if seconds is not None else ""
        self.maps.set_captions([f"{self.method.currentText()}\n{name}{took}"])
