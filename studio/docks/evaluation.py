"""Evaluation dock: after each validation, the confusion matrix (counts or row percentages,
hover for words), per-class accuracy, and galleries of the most confident right and wrong
predictions. A slider goes back through the validations of the run.

``Evaluation`` events carry all of it; a run whose probes are off still sends ``Validation``
events, which give the matrix and the per-class accuracy (no galleries).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from studio.docks.live_run import LivePanel, drop_after, read_frames, spaced, thin
from studio.docks.step_slider import StepSlider
from widgets.confusion import ConfusionView
from widgets.histogram import BarChart
from widgets.style import muted
from widgets.thumbnails import ThumbnailList

if TYPE_CHECKING:
    from engine.runs.probes import ProbeHistory
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

FRAME_BUDGET = 32 * 2**20  # bytes of gallery images kept; older validations are thinned evenly
HISTORY_ROUNDS = 500  # validations read back from probes/ (evenly spaced over the run)
RIGHT, WRONG = "#2e7d32", "#c62828"


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Diagonal over row totals; NaN for a class without validation samples."""
    c = np.asarray(confusion, dtype=np.float64)
    totals = c.sum(axis=1)
    return np.divide(np.diag(c), totals, out=np.full(len(c), np.nan), where=totals > 0).astype(np.float32)


def from_validation(v: Any) -> Any:
    """A ``Validation`` as an evaluation round without galleries."""
    confusion = np.asarray(v.confusion, dtype=np.int64)
    return SimpleNamespace(type="validation", epoch=v.epoch, step=v.step, classes=list(v.classes or []),
                           confusion=confusion, per_class_accuracy=per_class_accuracy(confusion),
                           confident_correct=None, confident_wrong=None)


def _gallery_bytes(e: Any) -> int:
    return sum(np.asarray(g["images"]).nbytes for g in (e.confident_correct, e.confident_wrong) if g)


class EvaluationPanel(LivePanel):
    kinds = ("evaluation", "validation")

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.rounds: dict[int, Any] = {}  # step → Evaluation (or a Validation made into one)
        self.round: Any = None  # on screen

        self.normalized = QCheckBox("Row percentages")
        self.normalized.setObjectName("confusion_normalized")
        self.normalized.setToolTip("Each row as a share of its true class, instead of image counts")
        self.normalized.toggled.connect(lambda on: self.matrix.set_normalized(on))
        self.summary = QLabel()
        self.summary.setObjectName("evaluation_summary")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.normalized)

        self.matrix = ConfusionView()
        self.matrix.setObjectName("confusion")
        self.bars = BarChart(color="#43a047")
        self.bars.setObjectName("class_accuracy")
        self.bars.getPlotItem().setLabel("bottom", "accuracy (%)")
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.matrix)
        upper.addWidget(self.bars)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)

        self.correct = ThumbnailList(size=44, wrap=False, cell_width=84, caption_lines=2)
        self.correct.setObjectName("confident_correct")
        self.wrong = ThumbnailList(size=44, wrap=False, cell_width=84, caption_lines=2)
        self.wrong.setObjectName("confident_wrong")
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        self.correct_title = QLabel("Most confident, correct")
        self.wrong_title = QLabel("Most confident, wrong")
        for title, gallery in ((self.correct_title, self.correct), (self.wrong_title, self.wrong)):
            ll.addWidget(title)
            ll.addWidget(gallery)
        self.message = muted(QLabel())
        self.message.setWordWrap(True)
        self.slider = StepSlider()
        self.slider.slider.setToolTip("Validations of the run, oldest to newest")
        self.slider.moved.connect(lambda _i: self._redraw())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(upper, 1)
        layout.addWidget(lower)
        layout.addWidget(self.slider)
        self.follow_runs()
        self.render()

    # -- LivePanel -------------------------------------------------------------------------
    def on_run(self, run: "RunHandle | None") -> None:
        self.rounds.clear()
        self.round = None

    def on_event(self, event: Any, live: bool) -> None:
        step = int(event.step)
        if event.type == "validation":
            if np.asarray(event.confusion).size == 0:
                return  # read back from metrics.jsonl: the matrix is in probes/
            if step in self.rounds and self.rounds[step].type == "evaluation":
                return  # the fuller round of the same validation is already here
            event = from_validation(event)
        self.rounds[step] = event
        thin(self.rounds, FRAME_BUDGET, max(1, max(_gallery_bytes(e) for e in self.rounds.values())))

    def drop_after(self, step: int) -> None:
        drop_after(self.rounds, step)

    @staticmethod
    def load_history(history: "ProbeHistory", after_step: int) -> Iterable[Any]:
        return read_frames(history.evaluation, spaced(history.evaluation_steps, after_step, HISTORY_ROUNDS))

    def render(self) -> None:
        steps = sorted(self.rounds)
        self.slider.set_rounds([(self.rounds[s].epoch, s) for s in steps])
        self._redraw()

    # -- drawing ---------------------------------------------------------------------------
    def _classes(self, e: Any) -> list[str]:
        k = np.asarray(e.confusion).shape[0]
        names = list(e.classes or (self.run.classes if self.run is not None else []) or [])
        return [str(names[i]) if i < len(names) else str(i) for i in range(k)]

    def _redraw(self) -> None:
        steps = sorted(self.rounds)
        i = self.slider.index()
        e = self.round = self.rounds[steps[i]] if steps and 0 <= i < len(steps) else None
        if e is None:
            self.matrix.set_matrix(np.zeros((0, 0), np.int64), [])
            self.bars.set_bars([], [])
            self.correct.set_images([])
            self.wrong.set_images([])
            self.summary.setText("")
            self.message.setText(self._empty_text())
            self.message.setVisible(True)
            return
        self.message.setVisible(False)
        classes = self._classes(e)
        confusion = np.asarray(e.confusion, dtype=np.int64)
        self.matrix.set_matrix(confusion, classes)
        acc = np.asarray(e.per_class_accuracy, dtype=np.float64)
        self.bars.set_bars(classes, np.where(np.isfinite(acc), np.round(acc * 100, 1), 0.0))
        total, right = int(confusion.sum()), int(np.trace(confusion))
        self.summary.setText(f"Epoch {e.epoch}, step {e.step}: <b>{right / max(total, 1):.1%}</b> "
                             f"of {total} validation images right")
        self._gallery(self.correct, self.correct_title, e.confident_correct, classes, wrong=False)
        self._gallery(self.wrong, self.wrong_title, e.confident_wrong, classes, wrong=True)

    def _gallery(self, view: ThumbnailList, title: QLabel, g: dict | None, classes: list[str], wrong: bool) -> None:
        base = "Most confident, wrong" if wrong else "Most confident, correct"
        if not g or not len(np.asarray(g.get("images", []))):
            view.set_images([])
            title.setText(base + (" — none" if g is not None else " — not recorded (probes off)"))
            return
        name = lambda k: classes[k] if 0 <= k < len(classes) else str(k)  # noqa: E731
        true, pred = np.asarray(g["true"]).astype(int), np.asarray(g["pred"]).astype(int)
        prob = np.asarray(g["prob"], dtype=np.float64)
        # two lines: what was predicted (for a wrong one: true → predicted), then how sure
        captions = [(f"{name(t)}→{name(p)}" if wrong else name(p)) + f"\n{q:.0%}" for t, p, q in zip(true, pred, prob)]
        tips = [f"true {name(t)}, predicted {name(p)} with probability {q:.1%}" for t, p, q in zip(true, pred, prob)]
        view.set_images(list(np.asarray(g["images"])), captions, tips, [WRONG if wrong else RIGHT] * len(captions))
        title.setText(f"{base} ({len(captions)})")

    def _empty_text(self) -> str:
        if self.run is None:
            return "No run to show. Train the project, or open a run directory, to see its evaluation."
        if self.loading:
            return "Reading the run's probes…"
        return "No validation yet: the confusion matrix and galleries appear after the first one."
