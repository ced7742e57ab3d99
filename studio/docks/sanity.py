"""Sanity dock: two checks of the project in the editor before a long run, done by the engine
service (torch stays out of the window's process).

* Overfit one batch: train on a single batch for a few hundred steps; a network that can
  learn drives its loss to almost nothing. If it cannot, something is wrong before any real
  training starts (a layer cut off from the gradient, the wrong loss, a learning rate far off).
* Gradient check: autograd's gradients against finite differences in double precision.

Each button sends one request (``overfit_batch`` {project, steps, project_path}, ``gradcheck``
{project}; engine.service.handlers.sanity); a busy bar runs until the answer comes, the answer
or the failure shows below.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from widgets.line_plot import LinePlot
from widgets.scrolling import vertical_scroll
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow

GOOD, BAD = "#2e7d32", "#c62828"


def _verdict(ok: bool | None, text: str) -> str:
    if ok is None:
        return text
    mark, color = ("✓", GOOD) if ok else ("✗", BAD)
    return f"<span style='color:{color}'><b>{mark}</b></span> {text}"


class _Check(QGroupBox):
    """A button, a busy bar, a result line: one engine request at a time."""

    def __init__(self, title: str, about: str, button: str, tip: str) -> None:
        super().__init__(title)
        self.about = muted(QLabel(about))
        self.about.setWordWrap(True)
        self.button = QPushButton(button)
        self.button.setToolTip(tip)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: the service reports only when done
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.RichText)
        self.controls = QHBoxLayout()
        self.controls.addWidget(self.button)
        self.controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addLayout(self.controls)
        layout.addWidget(self.busy)
        layout.addWidget(self.result)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.button.setEnabled(not busy)
        self.busy.setVisible(busy)
        if busy:
            self.result.setText(text)


class SanityPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self._pending: dict[int, Callable[[bool, Any], None]] = {}  # request id → handler
        self._engine: Any = None
        self.overfit_result: dict | None = None
        self.gradcheck_result: dict | None = None

        self.overfit = _Check(
            "Overfit one batch",
            "Trains the project on one batch only. A network that can learn drives that loss to almost "
            "zero; if it cannot, fix the model or the settings before a long run.",
            "Overfit one batch", "Train on a single batch and judge whether the loss goes to zero")
        self.overfit.button.setObjectName("overfit_batch")
        self.steps = QSpinBox()
        self.steps.setObjectName("overfit_steps")
        self.steps.setRange(10, 5000)
        self.steps.setSingleStep(50)
        self.steps.setValue(200)
        self.steps.setSuffix(" steps")
        self.steps.setToolTip("Optimizer steps on the one batch")
        self.overfit.controls.insertWidget(1, self.steps)
        self.loss_plot = LinePlot(x_label="step", y_label="loss", color="#e53935")
        self.loss_plot.setMinimumHeight(140)
        self.loss_plot.hide()
        self.floor_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#9e9e9e", style=Qt.PenStyle.DashLine))
        self.floor_line.setToolTip("The lowest loss possible (label smoothing)")
        self.floor_line.hide()
        self.loss_plot.getPlotItem().addItem(self.floor_line)
        self.overfit.layout().insertWidget(3, self.loss_plot)
        self.overfit.button.clicked.connect(self.run_overfit)

        self.gradcheck = _Check(
            "Gradient check",
            "Compares the gradients of every layer with finite differences, in double precision on a "
            "small input. A failure points at a layer whose backward pass is wrong.",
            "Gradient check", "Check autograd's gradients against numerical ones")
        self.gradcheck.button.setObjectName("gradcheck")
        self.gradcheck.button.clicked.connect(self.run_gradcheck)
        self.details = QFormLayout()
        self.gradcheck.layout().addLayout(self.details)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.overfit)
        layout.addWidget(self.gradcheck)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(vertical_scroll(body))

    # -- requests --------------------------------------------------------------------------
    def _request(self, kind: str, payload: dict, handle: Callable[[bool, Any], None]) -> bool:
        engine = getattr(self.window_.studio, "engine", None)
        if engine is None or not hasattr(engine, "request") or not getattr(engine, "running", True):
            handle(False, {"message": "The engine service is not running (Help → Restart Engine)."})
            return False
        if engine is not self._engine:
            if self._engine is not None:
                self._engine.reply.disconnect(self._reply)
                self._engine.failed.disconnect(self._failed)
            self._engine = engine
            engine.reply.connect(self._reply)
            engine.failed.connect(self._failed)
        self._pending[engine.request(kind, payload)] = handle
        return True

    def _reply(self, rid: int, result: Any) -> None:
        handle = self._pending.pop(rid, None)
        if handle is not None:
            handle(True, result or {})

    def _failed(self, rid: int, error: Any) -> None:
        handle = self._pending.pop(rid, None)
        if handle is not None:
            handle(False, error or {})

    def _project(self) -> dict:
        return self.window_.document.project.to_dict()

    def _project_path(self) -> str | None:
        path = self.window_.document.path  # relative dataset folders are relative to it
        return str(path) if path else None

    # -- overfit one batch -----------------------------------------------------------------
    def run_overfit(self) -> None:
        self.overfit.set_busy(True, f"Training on one batch for {self.steps.value()} steps…")
        self.loss_plot.hide()
        self._request("overfit_batch", {"project": self._project(), "steps": self.steps.value(),
                                        "project_path": self._project_path()}, self._overfit_done)

    def _overfit_done(self, ok: bool, result: Any) -> None:
        self.overfit.set_busy(False)
        if not ok:
            self.overfit_result = None
            self.overfit.result.setText(_verdict(False, _message(result)))
            return
        self.overfit_result = result
        losses = np.asarray(result.get("losses", []), dtype=np.float64).reshape(-1)
        if len(losses):
            self.loss_plot.set_data(np.arange(1, len(losses) + 1), losses)
            self.loss_plot.getPlotItem().setLogMode(y=bool(np.all(losses[np.isfinite(losses)] > 0)))
            self.loss_plot.getPlotItem().enableAutoRange()
            self.loss_plot.show()
        floor = result.get("floor")
        self.floor_line.setVisible(isinstance(floor, (int, float)) and floor > 0)
        if self.floor_line.isVisible():
            self.floor_line.setValue(math.log10(floor) if self.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
                                     else floor)
        learned = result.get("learned")
        text = str(result.get("message") or "")
        if not text and len(losses):
            text = f"loss {losses[0]:.4g} → {losses[-1]:.4g} in {len(losses)} steps"
        extra = []
        if isinstance(result.get("final_accuracy"), (int, float)):
            extra.append(f"accuracy on the batch {result['final_accuracy']:.0%}")
        if isinstance(result.get("seconds"), (int, float)):
            extra.append(f"{result['seconds']:.1f} s")
        if extra:
            text += f" ({', '.join(extra)})"
        self.overfit.result.setText(_verdict(None if learned is None else bool(learned), _capital(text)))

    # -- gradient check --------------------------------------------------------------------
    def run_gradcheck(self) -> None:
        self.gradcheck.set_busy(True, "Comparing gradients with finite differences…")
        self._clear_details()
        self._request("gradcheck", {"project": self._project()}, self._gradcheck_done)

    def _gradcheck_done(self, ok: bool, result: Any) -> None:
        self.gradcheck.set_busy(False)
        if not ok:
            self.gradcheck_result = None
            self.gradcheck.result.setText(_verdict(False, _message(result)))
            return
        self.gradcheck_result = result
        passed = bool(result.get("ok"))
        text = str(result.get("message") or ("gradients check out" if passed else "the gradients do not match"))
        err = result.get("max_error")
        if isinstance(err, (int, float)) and math.isfinite(err):
            text += f"; largest error {err:.3g}"
        if isinstance(result.get("seconds"), (int, float)):
            text += f" ({result['seconds']:.1f} s)"
        self.gradcheck.result.setText(_verdict(passed, _capital(text)))
        details = [str(line) for line in result.get("details") or []]
        if details and not passed:
            box = QLabel("\n".join(details))
            box.setObjectName("gradcheck_details")
            box.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setWordWrap(True)
            self.details.addRow(box)

    def _clear_details(self) -> None:
        while self.details.rowCount():
            self.details.removeRow(0)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _message(error: Any) -> str:
    """The one line to show for a failed request."""
    if isinstance(error, dict):
        return _capital(str(error.get("message") or "the check failed"))
    return str(error)
