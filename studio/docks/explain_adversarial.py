"""Adversarial examples by FGSM: the image nudged by ε along the sign of the loss gradient.

Shows the original, the perturbation (amplified to be visible) and the adversarial image with
both predictions; moving the ε slider attacks again once it is released."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider

from studio.docks.explain_tab import ExplainTab
from widgets.heatmap import HeatmapGrid

if TYPE_CHECKING:
    from studio.docks.explain_source import SourcePicker
    from studio.main_window import MainWindow

EPS_STEP = 0.002  # slider resolution, as a fraction of the pixel range
EPS_MAX = 0.25
RIGHT, WRONG = "#2e7d32", "#c62828"


class AdversarialTab(ExplainTab):
    def __init__(self, window: "MainWindow", source: "SourcePicker") -> None:
        super().__init__(window, source)
        self.eps = QSlider(Qt.Orientation.Horizontal)
        self.eps.setObjectName("epsilon")
        self.eps.setRange(0, round(EPS_MAX / EPS_STEP))
        self.eps.setValue(round(0.03 / EPS_STEP))
        self.eps.setToolTip("ε: how far each pixel may move, as a fraction of the pixel range")
        self.eps_label = QLabel()
        self.eps_label.setMinimumWidth(90)
        self.attack_button = QPushButton("Attack")
        self.attack_button.setObjectName("attack")
        self.attack_button.setToolTip("Perturb the image to raise the loss (fast gradient sign method)")
        self.attack_button.clicked.connect(self.attack)
        row = QHBoxLayout()
        row.addWidget(QLabel("ε"))
        row.addWidget(self.eps, 1)
        row.addWidget(self.eps_label)
        row.addWidget(self.attack_button)
        self.images = HeatmapGrid(views=("image",), titles=("",))
        self.images.setObjectName("adversarial_images")
        self.summary = QLabel()
        self.summary.setObjectName("adversarial_summary")
        self.summary.setWordWrap(True)
        self.layout_.addLayout(row)
        self.add_status()
        self.layout_.addWidget(self.images)
        self.layout_.addWidget(self.summary)
        self.layout_.addStretch(1)
        self.eps.valueChanged.connect(self._eps_changed)
        self.eps.sliderReleased.connect(self._released)
        self._eps_changed()
        self.shown = False

    def epsilon(self) -> float:
        return round(self.eps.value() * EPS_STEP, 6)

    def _eps_changed(self, *_: Any) -> None:
        self.eps_label.setText(f"{self.epsilon():.3f}  ({self.epsilon() * 255:.1f}/255)")

    def _released(self) -> None:
        if self.shown and self.source.has_image():
            self.attack()  # the result follows the slider

    def busy_changed(self, busy: bool) -> None:
        self.attack_button.setEnabled(not busy)

    def attack(self) -> None:
        try:
            payload = {**self.base_payload(), **self.source.image_payload(), "eps": self.epsilon()}
        except ValueError as e:
            self.say(str(e), error=True)
            return
        self.request("fgsm", payload, self.show_result, f"Attacking with ε = {self.epsilon():.3f}…",
                     show_progress=False)

    def show_result(self, result: dict) -> None:
        original = np.asarray(result["original"])
        adversarial = np.asarray(result["adversarial"])
        eps = float(result.get("epsilon", self.epsilon()))
        # the perturbation (pixel units, within ±ε) centred on grey, ±ε stretched to the full range
        span = eps if eps > 0 else 1.0
        perturbation = np.clip(0.5 + np.asarray(result["perturbation"], np.float32) / (2 * span), 0.0, 1.0)
        self.images.set_images([original, perturbation, adversarial], levels=None)
        classes = list(result.get("classes") or self.source.classes())

        def name(i: Any) -> str:
            return classes[int(i)] if 0 <= int(i) < len(classes) else str(i)

        label = result.get("label")
        before, after = int(result["original_class"]), int(result["adversarial_class"])
        p0, p1 = float(result["original_confidence"]), float(result["adversarial_confidence"])
        colors = [RIGHT if label is None or before == int(label) else WRONG, None,
                  RIGHT if label is None or after == int(label) else WRONG]
        self.images.set_captions([f"original\n{name(before)} {p0:.0%}",
                                  f"perturbation ×{0.5 / span:.0f}" if eps > 0 else "no perturbation",
                                  f"adversarial\n{name(after)} {p1:.0%}"], colors)
        loss0, loss1 = result.get("original_loss"), result.get("adversarial_loss")
        flipped = "the prediction flips" if before != after else "the prediction holds"
        loss = f"; loss {float(loss0):.3g} → {float(loss1):.3g}" if loss0 is not None and loss1 is not None else ""
        self.summary.setText(f"ε = {self.epsilon():.3f}: {flipped} ({name(before)} → {name(after)}){loss}.")
        self.shown = True
