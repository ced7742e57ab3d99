"""The Explain dock: ask a trained network about one image (or a folder of them).

At the top, what to ask: a run, its checkpoint (best or last) and an image — a file picked
or dropped on the window, or a sample of the run's dataset. Below, one tab per question:
Classify (top-5 and saliency; a whole folder with accuracy and confusion matrix),
Attribution (Integrated Gradients, SmoothGrad, Occlusion: cost first, then progress and
Cancel), Adversarial (FGSM with an ε slider) and Activation maximization (the input a
channel or a class likes best). Everything runs in the engine service: the window never
loads torch and never waits; a failed or cancelled request changes nothing but its message.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from studio.docks.explain_activation import ActivationTab
from studio.docks.explain_adversarial import AdversarialTab
from studio.docks.explain_attribute import AttributionTab
from studio.docks.explain_classify import ClassifyTab
from studio.docks.explain_drop import is_image_file
from studio.docks.explain_source import SourcePicker

if TYPE_CHECKING:
    from studio.main_window import MainWindow


class ExplainPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.source = SourcePicker(window)
        self.classify = ClassifyTab(window, self.source)
        self.attribution = AttributionTab(window, self.source)
        self.adversarial = AdversarialTab(window, self.source)
        self.activation = ActivationTab(window, self.source)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("explain_tabs")
        self.tabs.setDocumentMode(True)
        for tab, title, tip in (
                (self.classify, "Classify", "Top-5 classes and saliency of an image, or a whole folder"),
                (self.attribution, "Attribution", "Integrated Gradients, SmoothGrad or Occlusion"),
                (self.adversarial, "Adversarial", "FGSM: the smallest nudge that changes the answer"),
                (self.activation, "Activation max", "The input a channel or a class responds to most")):
            self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(self.tabs.count() - 1, tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.source)
        layout.addWidget(self.tabs, 1)
        self.setAcceptDrops(True)

    def tab_list(self) -> list:
        return [self.classify, self.attribution, self.adversarial, self.activation]

    def explain_file(self, path: str | Path) -> None:
        """An image file dropped on the window: use it and classify it at once if a run is chosen."""
        self.source.set_image_file(path)
        if self.tabs.currentWidget() is self.classify and self.source.handle() is not None:
            self.classify.classify()

    # dropping on the dock itself (the window routes drops elsewhere on it here too)
    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and is_image_file(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        for u in event.mimeData().urls():
            if u.isLocalFile() and is_image_file(u.toLocalFile()):
                event.acceptProposedAction()
                self.explain_file(u.toLocalFile())
                return
