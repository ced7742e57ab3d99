"""The one dock factory: every panel of the main window is declared here and built by ``create``.

A dock is a ``DockSpec``: a name (its ``objectName``, the key of the saved layout), a title,
a default area, and a factory that builds its content from the window. The content follows
``window.document_changed``; if it defines ``on_dock_visibility(visible)`` it is told when its
tab is brought up or put away (work it can leave until the user looks at it). The factory gives each dock the same behaviour
(movable, floatable, closable), its View-menu toggle, and its place in the default layout,
so a panel added by another part of the app is one ``register`` call.

    register(DockSpec("runs", "Runs", Qt.RightDockWidgetArea, lambda w: RunsPanel(w)))
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

if TYPE_CHECKING:
    from studio.main_window import MainWindow

Area = Qt.DockWidgetArea


@dataclass(frozen=True)
class DockSpec:
    name: str
    title: str
    area: Qt.DockWidgetArea
    factory: Callable[["MainWindow"], QWidget]
    tab_with: str | None = None  # starts as a tab of this dock
    visible: bool = True  # in the default layout
    shortcut: str | None = None  # View-menu toggle
    tooltip: str = ""
    deferred: bool = False  # built after the window's first paint (starts hidden behind a tab)


def _lazy(module: str, cls: str) -> Callable[["MainWindow"], QWidget]:
    """Import a dock's module only when the dock is built."""
    def build(window: "MainWindow") -> QWidget:
        return getattr(importlib.import_module(f"studio.docks.{module}"), cls)(window)
    return build


DOCKS: list[DockSpec] = [
    DockSpec("palette", "Layers", Area.LeftDockWidgetArea, _lazy("palette", "PalettePanel"),
             shortcut="Ctrl+1", tooltip="Layer palette: drag a layer onto the canvas or double-click it"),
    DockSpec("properties", "Properties", Area.RightDockWidgetArea, _lazy("properties", "PropertiesPanel"),
             shortcut="Ctrl+2", tooltip="Parameters of the selected layer"),
    DockSpec("dataset", "Dataset", Area.RightDockWidgetArea, _lazy("dataset", "DatasetPanel"),
             tab_with="properties", shortcut="Ctrl+3", tooltip="Data source, split, augmentation and a preview",
             deferred=True),
    DockSpec("training", "Training", Area.RightDockWidgetArea, _lazy("training", "TrainingPanel"),
             tab_with="properties", shortcut="Ctrl+4", tooltip="Training settings, learning-rate schedule, devices",
             deferred=True),
    DockSpec("summary", "Model summary", Area.BottomDockWidgetArea, _lazy("summary", "SummaryPanel"),
             shortcut="Ctrl+5", tooltip="Per-layer shapes, parameters, FLOPs and a roofline chart"),
    DockSpec("problems", "Problems", Area.BottomDockWidgetArea, _lazy("problems", "ProblemsPanel"),
             tab_with="summary", shortcut="Ctrl+6", tooltip="Every problem of the graph and the settings"),
    DockSpec("runs", "Runs", Area.BottomDockWidgetArea, _lazy("runs", "RunsPanel"), tab_with="summary",
             shortcut="Ctrl+7", tooltip="Every run: state, progress, best accuracy; queue, resume, clone, sweep",
             deferred=True),
    DockSpec("curves", "Curves", Area.BottomDockWidgetArea, _lazy("curves", "CurvesPanel"), tab_with="summary",
             shortcut="Ctrl+8", tooltip="Loss, accuracy, learning rate, throughput of the current and ticked runs",
             deferred=True),
    DockSpec("pareto", "Accuracy vs FLOPs", Area.BottomDockWidgetArea, _lazy("pareto", "ParetoPanel"),
             tab_with="summary", tooltip="Best validation accuracy of every run against its model's cost",
             deferred=True),
    DockSpec("saliency", "Saliency", Area.BottomDockWidgetArea, _lazy("saliency", "SaliencyPanel"),
             tab_with="summary", tooltip="Live saliency and Grad-CAM of the probe images, with a time-lapse",
             deferred=True),
    DockSpec("explain", "Explain", Area.RightDockWidgetArea, _lazy("explain", "ExplainPanel"),
             tab_with="properties", tooltip="Classify an image, attributions, adversarial examples, "
             "activation maximization", deferred=True),
    DockSpec("filters", "Filters", Area.BottomDockWidgetArea, _lazy("filters", "FiltersPanel"),
             tab_with="summary", tooltip="A convolution's weights as tiles, live, with their statistics", deferred=True),
    DockSpec("feature_maps", "Feature maps", Area.BottomDockWidgetArea, _lazy("feature_maps", "FeatureMapsPanel"),
             tab_with="summary", tooltip="A layer's activations for a chosen validation image, live", deferred=True),
    DockSpec("health", "Layer health", Area.BottomDockWidgetArea, _lazy("health", "HealthPanel"),
             tab_with="summary", tooltip="Gradient and weight norms, update ratio, dead units per layer", deferred=True),
    DockSpec("evaluation", "Evaluation", Area.BottomDockWidgetArea, _lazy("evaluation", "EvaluationPanel"),
             tab_with="summary", tooltip="Confusion matrix, per-class accuracy, confident right and wrong images",
             deferred=True),
    DockSpec("sanity", "Sanity checks", Area.RightDockWidgetArea, _lazy("sanity", "SanityPanel"),
             tab_with="properties", tooltip="Overfit one batch, gradient check", deferred=True),
]


def register(spec: DockSpec) -> None:
    """Add a dock to every window created from now on (replaces one of the same name)."""
    DOCKS[:] = [d for d in DOCKS if d.name != spec.name] + [spec]


def object_name(name: str) -> str:
    return f"dock_{name}"


class Dock(QDockWidget):
    """A dock whose content may be built later (``content()`` builds it on demand)."""

    def __init__(self, spec: DockSpec, window: "MainWindow") -> None:
        super().__init__(spec.title, window)
        self.spec = spec
        self._window = window
        self._built = False
        # a tab that is not current stays isVisible() (moved off screen): tell the content
        self.visibilityChanged.connect(self._visibility)

    def _visibility(self, visible: bool) -> None:
        if not shiboken6.isValid(self):
            return
        hook = getattr(self.widget(), "on_dock_visibility", None) if self._built else None
        if hook is not None:
            hook(visible)

    def content(self) -> QWidget:
        if not self._built:
            self._built = True
            widget = self.spec.factory(self._window)
            widget.setObjectName(f"panel_{self.spec.name}")
            self.setWidget(widget)
            widget.show()  # replaces the empty stand-in of a dock that may already be visible
            # a dock already up when its content arrives says so once it is laid out
            QTimer.singleShot(0, lambda: self._visibility(self.on_screen()))
        return self.widget()

    def on_screen(self) -> bool:
        """Shown to the user (a tab that is not current is isVisible() but off screen)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    @property
    def built(self) -> bool:
        return self._built


def create(window: "MainWindow", spec: DockSpec) -> Dock:
    """Build one dock: content, behaviour and View-menu toggle (``dock.toggleViewAction()``).

    A ``deferred`` dock gets its content after the window's first paint, or as soon as the
    user brings it up, whichever comes first.
    """
    dock = Dock(spec, window)
    dock.setObjectName(object_name(spec.name))
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
    if spec.deferred:
        dock.setWidget(QWidget())
        window.when_painted(dock.content)
        dock.visibilityChanged.connect(lambda visible: dock.content() if visible and window.painted else None)
    else:
        dock.content()
    toggle = dock.toggleViewAction()
    toggle.setText(spec.title)
    toggle.setObjectName(f"view_{spec.name}")
    if spec.shortcut:
        toggle.setShortcut(spec.shortcut)
    toggle.setToolTip(spec.tooltip or f"Show or hide {spec.title}")
    toggle.setStatusTip(spec.tooltip)
    return dock


def place_default(window: "MainWindow", docks: dict[str, QDockWidget]) -> None:
    """The default layout: areas, tabs, visibility, the first tab of each group raised."""
    for spec in DOCKS:
        dock = docks[spec.name]
        if dock.isFloating():
            dock.setFloating(False)
        window.removeDockWidget(dock)
    for spec in DOCKS:
        dock = docks[spec.name]
        if spec.tab_with and spec.tab_with in docks:
            window.tabifyDockWidget(docks[spec.tab_with], dock)
        else:
            window.addDockWidget(spec.area, dock)
        dock.setVisible(spec.visible)  # removeDockWidget hid it
    for spec in DOCKS:
        if spec.tab_with is None:
            docks[spec.name].raise_()
