"""Small dialogs of the Runs panel: a sweep (lists of learning rates and batch sizes), queuing a
clone with edited settings, continuing a run for more epochs. Each checks its input as it is
typed and says what is wrong next to the field (OK stays disabled until it is right)."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from engine.errors import ConfigError
from studio.runs.sweep import parse_list
from widgets.style import muted


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class SweepDialog(QDialog):
    """Comma-separated learning rates and batch sizes; one queued run per combination."""

    def __init__(self, lr: Any, batch_size: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.lrs = QLineEdit(f"{lr:g}" if isinstance(lr, (int, float)) else "")
        self.lrs.setObjectName("sweep_lrs")
        self.lrs.setPlaceholderText("e.g. 0.1, 0.01, 0.001")
        self.batch_sizes = QLineEdit(str(batch_size) if isinstance(batch_size, int) else "")
        self.batch_sizes.setObjectName("sweep_batch_sizes")
        self.batch_sizes.setPlaceholderText("e.g. 32, 64, 128")
        self.note = QLabel()
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Learning rates", self.lrs)
        form.addRow("Batch sizes", self.batch_sizes)
        help_ = QLabel("One run per combination, queued: they run one after another on each device. "
                       "Leave a field empty to keep the project's value.")
        help_.setWordWrap(True)
        muted(help_)
        self.box = _buttons(self, "Queue runs")
        layout = QVBoxLayout(self)
        layout.addWidget(help_)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.box)
        self.lrs.textChanged.connect(self._check)
        self.batch_sizes.textChanged.connect(self._check)
        self._check()

    def values(self) -> tuple[list[float], list[int]]:
        """(learning rates, batch sizes) or ConfigError."""
        return (parse_list(self.lrs.text(), float, "training.optimizer.lr"),
                parse_list(self.batch_sizes.text(), int, "training.batch_size"))

    def _check(self) -> None:
        ok = self.box.button(QDialogButtonBox.StandardButton.Ok)
        try:
            lrs, sizes = self.values()
        except ConfigError as e:
            self.note.setText(f"<span style='color:#c62828'>{e.key.split('.')[-1]}: {e.message}</span>")
            ok.setEnabled(False)
            return
        n = max(1, len(lrs)) * max(1, len(sizes))
        self.note.setText(f"{n} run{'s' if n != 1 else ''} will be queued.")
        ok.setEnabled(bool(lrs or sizes))


class CloneDialog(QDialog):
    """The settings one usually changes between runs; the rest of the snapshot is kept."""

    def __init__(self, project: dict, devices: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Clone {project.get('name', 'run')}")
        training = project.get("training", {})
        optimizer = training.get("optimizer", {}) if isinstance(training.get("optimizer"), dict) else {}
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1_000_000)
        self.epochs.setValue(int(training.get("epochs", 10)))
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1_000_000)
        self.batch_size.setValue(int(training.get("batch_size", 64)))
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 100.0)
        self.lr.setSingleStep(0.001)
        self.lr.setValue(float(optimizer.get("lr", 0.01)))
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", *devices])
        self.device.setCurrentText(str(training.get("device", "auto")))
        form = QFormLayout()
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Device", self.device)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Queue run"))

    def overrides(self) -> dict[str, Any]:
        return {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(), "lr": self.lr.value(),
                "device": self.device.currentText().strip() or "auto"}


def apply_overrides(project: dict, values: dict[str, Any]) -> dict:
    """The project with ``CloneDialog.overrides()`` written into its training section."""
    training = project.setdefault("training", {})
    for key in ("epochs", "batch_size", "device"):
        if key in values:
            training[key] = values[key]
    if "lr" in values:
        optimizer = training.setdefault("optimizer", {})
        optimizer["lr"] = values["lr"]
    return project
