"""A slider over the probe rounds of a run (oldest … newest) with the epoch and step it shows.

At the right end it follows the newest round as rounds arrive ("live"); moved back, it stays
on the round the user picked while new ones are added."""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget


class StepSlider(QWidget):
    moved = Signal(int)  # index of the round to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("history_slider")
        self.slider.setToolTip("Probe rounds of the run, oldest to newest (at the right end it follows the run)")
        self.slider.setPageStep(1)
        self.label = QLabel()
        self.label.setMinimumWidth(150)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._rounds: list[tuple[int, int]] = []  # (epoch, step)
        self.slider.valueChanged.connect(self._changed)
        self.set_rounds([])

    def set_rounds(self, rounds: Sequence[tuple[int, int]]) -> None:
        """The (epoch, step) of every round; keeps following the newest if it was there."""
        follow = self.following
        keep = self.slider.value()
        self._rounds = list(rounds)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self._rounds) - 1))
        self.slider.setValue(len(self._rounds) - 1 if follow else min(keep, len(self._rounds) - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self._rounds) > 1)
        self._label()

    @property
    def following(self) -> bool:
        return not self._rounds or self.slider.value() >= len(self._rounds) - 1

    def index(self) -> int:
        """The round shown (-1 when there is none)."""
        return self.slider.value() if self._rounds else -1

    def set_index(self, i: int) -> None:
        self.slider.setValue(i if i >= 0 else len(self._rounds) + i)

    def _changed(self, value: int) -> None:
        self._label()
        self.moved.emit(value)

    def _label(self) -> None:
        if not self._rounds:
            self.label.setText("no probe rounds yet")
            return
        i = self.slider.value()
        epoch, step = self._rounds[i]
        where = "newest" if i == len(self._rounds) - 1 else f"{i + 1} of {len(self._rounds)}"
        self.label.setText(f"epoch {epoch} · step {step} ({where})")
