"""Problems: every diagnostic of the graph and every error of the dataset/training settings.

Clicking a graph problem selects its node and centres the canvas on it; a settings problem
brings up the dock that edits that setting. The dock's title counts the errors.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.errors import ConfigError
from engine.schema import resolve_dataset, resolve_training

from widgets.style import muted

if TYPE_CHECKING:
    from studio.document import Document
    from studio.main_window import MainWindow

_ORDER = {"error": 0, "warning": 1, "hint": 2}


class Problem(NamedTuple):
    severity: str  # error | warning | hint
    message: str
    node: str | None = None
    setting: str | None = None  # "training.optimizer.lr"


def collect(doc: "Document") -> list[Problem]:
    """The graph's diagnostics, then the settings' errors and warnings, errors first."""
    out = [Problem(d.severity, d.message, d.node) for d in doc.inference.diagnostics()]
    for section, resolve in (("dataset", resolve_dataset), ("training", resolve_training)):
        try:
            _, warnings = resolve(getattr(doc.project, section))
        except ConfigError as e:
            out.append(Problem("error", e.message, setting=e.key or section))
        else:
            out.extend(Problem("warning", w, setting=w.split(":", 1)[0]) for w in warnings)
    return sorted(out, key=lambda p: _ORDER.get(p.severity, 3))


class ProblemsPanel(QWidget):
    count_changed = Signal(int, int)  # errors, warnings

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.doc: Document | None = None
        self.problems: list[Problem] = []
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Problem", "Where"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.none = QLabel("No problems: the model and its settings are ready to train.")
        self.none.setContentsMargins(8, 8, 8, 8)
        muted(self.none)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addWidget(self.none)
        style = self.style()
        self.icons = {"error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
                      "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
                      "hint": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self.refresh)
        window.document_changed.connect(self.set_document)
        self.set_document(window.document)

    def _signals(self, doc: "Document"):
        g = doc.graph
        return (g.node_added, g.node_removed, g.edge_added, g.edge_removed, g.params_changed,
                doc.inference_changed, doc.setting_changed)

    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            for sig in self._signals(self.doc):
                sig.disconnect(self.schedule)
        self.doc = doc
        for sig in self._signals(doc):
            sig.connect(self.schedule)
        self.refresh()

    def schedule(self, *_: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        self._timer.stop()
        problems = collect(self.doc)
        if problems == self.problems and self.tree.topLevelItemCount() == len(problems):
            return
        self.problems = problems
        self.tree.clear()
        for p in problems:
            where = p.node or p.setting or "graph"
            item = QTreeWidgetItem([p.message, where])
            item.setIcon(0, self.icons.get(p.severity, self.icons["hint"]))
            item.setToolTip(0, p.message)
            item.setData(0, Qt.ItemDataRole.UserRole, p)
            self.tree.addTopLevelItem(item)
        self.tree.setVisible(bool(problems))
        self.none.setVisible(not problems)
        self.count_changed.emit(*self.counts())

    def counts(self) -> tuple[int, int]:
        """(errors, warnings) shown now."""
        return (sum(p.severity == "error" for p in self.problems),
                sum(p.severity == "warning" for p in self.problems))

    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        p: Problem = item.data(0, Qt.ItemDataRole.UserRole)
        if p.node and p.node in self.doc.graph.nodes:
            self.window_.focus_node(p.node)
        elif p.setting:
            self.window_.show_dock("training" if p.setting.startswith("training") else "dataset")
