"""Activation maximization: the input that most excites a channel of a layer, or a class —
what a filter looks for, synthesized by gradient ascent in the engine service.

The layers and their channel counts come from the run's own graph snapshot (shape inference,
no torch), worked out off the GUI thread when the run changes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QRadioButton,
                               QSpinBox)

from studio.docks.explain_tab import ExplainTab
from widgets import background
from widgets.heatmap import HeatmapGrid

if TYPE_CHECKING:
    from studio.docks.explain_source import SourcePicker
    from studio.main_window import MainWindow


def channel_layers(project: dict) -> list[tuple[str, str, int]]:
    """(node id, "conv1 · Conv2d · 6 channels", channels) for every node whose output has a
    channel dimension, in graph order (runs on a worker thread)."""
    from engine.graph.inference import Inference
    from engine.project.io import from_dict
    graph = from_dict(project).graph
    inference = Inference(graph, batch_size=1)
    try:
        out = []
        for node_id, node in graph.nodes.items():
            if node.type == "Input":
                continue
            shape = inference.info(node_id).shape
            if shape and len(shape) >= 1 and shape[0] > 0:
                what = "channels" if len(shape) >= 2 else "units"
                out.append((node_id, f"{node_id} · {node.type} · {shape[0]} {what}", int(shape[0])))
        return out
    finally:
        inference.close()


class ActivationTab(ExplainTab):
    def __init__(self, window: "MainWindow", source: "SourcePicker") -> None:
        super().__init__(window, source)
        self.kind = QButtonGroup(self)
        self.by_channel = QRadioButton("A channel of a layer")
        self.by_channel.setObjectName("by_channel")
        self.by_class = QRadioButton("A class")
        self.by_class.setObjectName("by_class")
        self.kind.addButton(self.by_channel)
        self.kind.addButton(self.by_class)
        self.by_channel.setChecked(True)
        self.layer = QComboBox()
        self.layer.setObjectName("layer")
        self.layer.setToolTip("The layer whose channel is maximized")
        self.channel = QSpinBox()
        self.channel.setObjectName("channel")
        self.channel.setToolTip("Which channel (or unit) of the layer")
        self.target_class = QComboBox()
        self.target_class.setObjectName("class")
        self.steps = QSpinBox()
        self.steps.setObjectName("steps")
        self.steps.setRange(8, 4096)
        self.steps.setValue(128)
        self.steps.setToolTip("Gradient-ascent steps (more: a sharper, slower picture)")
        self.go = QPushButton("Synthesize")
        self.go.setObjectName("synthesize")
        self.go.clicked.connect(self.synthesize)
        channel_row = QHBoxLayout()
        channel_row.addWidget(self.layer, 1)
        channel_row.addWidget(QLabel("channel"))
        channel_row.addWidget(self.channel)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.by_channel)
        form.addRow("Layer", channel_row)
        form.addRow(self.by_class)
        form.addRow("Class", self.target_class)
        form.addRow("Steps", self.steps)
        go_row = QHBoxLayout()
        go_row.addWidget(self.go)
        go_row.addStretch(1)
        self.image = HeatmapGrid(views=("image",), titles=("",))
        self.image.setObjectName("synthesized")
        self.image.setMinimumWidth(240)  # one picture: big enough to see, not the whole dock
        self.image.setMaximumWidth(360)
        self.layout_.addLayout(form)
        self.layout_.addLayout(go_row)
        self.add_status()
        centred = QHBoxLayout()  # (an aligned item would be as tall as the full width asks)
        centred.addStretch(1)
        centred.addWidget(self.image)
        centred.addStretch(1)
        self.layout_.addLayout(centred)
        self.layout_.addStretch(1)
        self._layers = background.Latest()
        self.layer.currentIndexChanged.connect(self._layer_changed)
        self.kind.buttonToggled.connect(lambda *_: self._kind_changed())
        source.run_changed.connect(self._run_changed)
        self._run_changed(source.handle())
        self._kind_changed()

    def _run_changed(self, handle: Any) -> None:
        self.target_class.clear()
        for i, name in enumerate(self.source.classes()):
            self.target_class.addItem(name, i)
        self.layer.clear()
        project = getattr(handle, "project", None) or {}
        if not project.get("graph"):
            return
        self._layers.start(lambda task: channel_layers(project), on_done=self._set_layers,
                           on_error=lambda e: self.say(f"The run's graph cannot be read: {e}", error=True))

    def _set_layers(self, layers: list[tuple[str, str, int]]) -> None:
        self.layer.clear()
        for node_id, text, channels in layers:
            self.layer.addItem(text, (node_id, channels))
        convs = [i for i, (node_id, text, _) in enumerate(layers) if "Conv" in text.split(" · ")[1]]
        if convs:
            self.layer.setCurrentIndex(convs[-1])  # the last convolution: the most telling pictures

    def _layer_changed(self) -> None:
        data = self.layer.currentData()
        self.channel.setRange(0, max(0, data[1] - 1) if data else 0)

    def _kind_changed(self) -> None:
        by_channel = self.by_channel.isChecked()
        self.layer.setEnabled(by_channel)
        self.channel.setEnabled(by_channel)
        self.target_class.setEnabled(not by_channel)

    def busy_changed(self, busy: bool) -> None:
        self.go.setEnabled(not busy)

    def payload(self) -> dict[str, Any]:
        payload = {**self.base_payload(), "steps": self.steps.value()}
        if self.by_channel.isChecked():
            data = self.layer.currentData()
            if data is None:
                raise ValueError("Choose a layer (the run's graph has none with channels).")
            payload.update(layer=data[0], channel=self.channel.value())
        else:
            if self.target_class.currentData() is None:
                raise ValueError("Choose a class.")
            payload["class_index"] = self.target_class.currentData()
        return payload

    def synthesize(self) -> None:
        try:
            payload = self.payload()
        except ValueError as e:
            self.say(str(e), error=True)
            return
        what = (f"{payload['layer']} channel {payload['channel']}" if "layer" in payload
                else self.target_class.currentText())
        self.request("activation_max", payload, self.show_result, f"Synthesizing the input that excites {what}…")

    def show_result(self, result: dict) -> None:
        self.image.set_images([np.asarray(result["image"])])
        activation, baseline = result.get("activation"), result.get("random_activation")
        text = str(result.get("target", ""))
        if activation is not None:
            text += f"\nactivation {float(activation):.3g}"
            if baseline is not None:
                text += f" (random input {float(baseline):.3g})"
        self.image.set_captions([text])
