"""Classify: one image → the top-5 classes with their probabilities and the saliency of the
best one; a whole folder → a table of predictions, and the accuracy and confusion matrix
when the folder has one sub-folder per class (as for training)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QProgressBar,
                               QPushButton, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from studio.docks.explain_tab import ExplainTab
from widgets.heatmap import HeatmapGrid
from widgets.style import muted

RIGHT, WRONG = "#2e7d32", "#c62828"

if TYPE_CHECKING:
    from studio.docks.explain_source import SourcePicker
    from studio.main_window import MainWindow


class _Number(QTableWidgetItem):
    """A cell that sorts by its value, not its text ("100.0%" after "99.9%")."""

    def __init__(self, text: str, value: float) -> None:
        super().__init__(text)
        self.value = value

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < getattr(other, "value", 0.0)


def _item(text: str, tip: str = "", align_right: bool = False, value: float | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text) if value is None else _Number(text, value)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ClassifyTab(ExplainTab):
    def __init__(self, window: "MainWindow", source: "SourcePicker") -> None:
        super().__init__(window, source)
        self.classify_button = QPushButton("Classify")
        self.classify_button.setObjectName("classify")
        self.classify_button.setToolTip("Top-5 classes of the image, with its saliency")
        self.classify_button.clicked.connect(self.classify)
        self.folder_button = QPushButton("Classify Folder…")
        self.folder_button.setObjectName("classify_folder")
        self.folder_button.setToolTip("Every image of a folder; with one sub-folder per class, accuracy "
                                      "and a confusion matrix too")
        self.folder_button.clicked.connect(self._pick_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(self.classify_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)

        # one image: the image, its saliency and overlay; the top-5 beside them
        self.maps = HeatmapGrid(orientation="rows", titles=("input", "saliency", "overlay"))
        self.maps.setObjectName("classify_maps")
        self.top = QTableWidget(0, 2)
        self.top.setObjectName("top5")
        self.top.setHorizontalHeaderLabels(["class", "probability"])
        self.top.verticalHeader().hide()
        self.top.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.top.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.top.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.top.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        one = QWidget()
        one_layout = QVBoxLayout(one)
        one_layout.setContentsMargins(0, 0, 0, 0)
        one_layout.addWidget(self.maps)
        one_layout.addWidget(self.top)
        one_layout.addStretch(1)

        # a folder: accuracy, the table, the confusion matrix
        self.accuracy = QLabel()
        self.accuracy.setObjectName("folder_accuracy")
        self.rows = QTableWidget(0, 4)
        self.rows.setObjectName("folder_rows")
        self.rows.setHorizontalHeaderLabels(["file", "true class", "predicted", "confidence"])
        self.rows.verticalHeader().hide()
        self.rows.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.setSortingEnabled(True)
        self.rows.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rows.cellDoubleClicked.connect(self._row_picked)
        self.confusion = None  # built with the first labelled folder (pyqtgraph plot)
        self.folder_split = QSplitter(Qt.Orientation.Vertical)
        self.folder_split.addWidget(self.rows)
        many = QWidget()
        many_layout = QVBoxLayout(many)
        many_layout.setContentsMargins(0, 0, 0, 0)
        many_layout.addWidget(self.accuracy)
        many_layout.addWidget(self.folder_split, 1)

        self.results = QStackedWidget()
        self.placeholder = muted(QLabel("Pick a run and an image, then Classify."))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.placeholder.setWordWrap(True)
        self.results.addWidget(self.placeholder)
        self.results.addWidget(one)
        self.results.addWidget(many)
        self.one, self.many = one, many
        self.layout_.addLayout(buttons)
        self.add_status()
        self.layout_.addWidget(self.results, 1)
        self.folder: str | None = None

    def busy_changed(self, busy: bool) -> None:
        self.classify_button.setEnabled(not busy)
        self.folder_button.setEnabled(not busy)

    # -- one image --------------------------------------------------------------------
    def classify(self) -> None:
        try:
            payload = {**self.base_payload(), **self.source.image_payload()}
        except ValueError as e:
            self.say(str(e), error=True)
            return
        self.request("classify", payload, self.show_result, f"Classifying {self.source.describe_image()}…")

    def show_result(self, result: dict) -> None:
        top = result.get("top") or []
        self.top.setRowCount(len(top))
        for r, entry in enumerate(top):
            name, prob = _top_entry(entry)
            self.top.setItem(r, 0, _item(name))
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(1000 * prob))
            bar.setFormat(f"{prob:.1%}")
            bar.setTextVisible(True)
            bar.setMaximumHeight(18)
            self.top.setCellWidget(r, 1, bar)
        self.top.resizeRowsToContents()
        rows = sum(self.top.rowHeight(r) for r in range(self.top.rowCount()))
        self.top.setFixedHeight(self.top.horizontalHeader().height() + rows + 2 * self.top.frameWidth())
        image = result.get("image")
        saliency = result.get("saliency")
        if image is not None:
            self.maps.set_images([np.asarray(image)])
            if self.source.split is not None:
                self.source.show_pixels(np.asarray(image))
        self.maps.set_maps([np.asarray(saliency, np.float32)] if saliency is not None else None)
        if top:
            name, prob = _top_entry(top[0])
            label, classes = result.get("label"), list(result.get("classes") or [])
            truth = ""
            if label is not None and 0 <= int(label) < len(classes):
                truth = f"\nlabel: {classes[int(label)]}"
            self.maps.set_captions([f"{name}\n{prob:.1%}{truth}"],
                                   [None if label is None else (RIGHT if classes[int(label)] == name else WRONG)])
        self.results.setCurrentWidget(self.one)

    # -- a folder ---------------------------------------------------------------------
    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images to classify", self.folder or "")
        if folder:
            self.classify_folder(folder)

    def classify_folder(self, folder: str) -> None:
        try:
            payload = {**self.base_payload(), "folder": str(folder)}
        except ValueError as e:
            self.say(str(e), error=True)
            return
        self.folder = str(folder)
        self.request("classify", payload, self.show_folder, f"Classifying the images of {Path(folder).name}…")

    def show_folder(self, result: dict) -> None:
        classes = list(result.get("classes") or self.source.classes())
        rows = result.get("rows") or []

        def name(i: Any) -> str:
            if i is None:
                return ""
            return classes[i] if 0 <= int(i) < len(classes) else str(i)

        self.rows.setSortingEnabled(False)
        self.rows.setRowCount(len(rows))
        for r, row in enumerate(rows):
            path = str(row.get("path", ""))
            label, pred, conf = row.get("label"), row.get("predicted"), float(row.get("confidence", 0.0))
            self.rows.setItem(r, 0, _item(Path(path).name, path))
            self.rows.setItem(r, 1, _item(name(label)))
            wrong = label is not None and int(label) != int(pred)
            item = _item(name(pred))
            if wrong:
                item.setForeground(Qt.GlobalColor.red)
            self.rows.setItem(r, 2, item)
            self.rows.setItem(r, 3, _item(f"{conf:.1%}", align_right=True, value=conf))
        self.rows.setSortingEnabled(True)
        self.rows.sortItems(0, Qt.SortOrder.AscendingOrder)  # file order, as the service listed them
        skipped = result.get("skipped") or []
        accuracy = result.get("accuracy")
        text = f"{len(rows)} images"
        if accuracy is not None:
            labelled = sum(1 for r in rows if r.get("label") is not None)
            text += f" · accuracy {float(accuracy):.1%} over {labelled} labelled"
        if skipped:
            text += f" · {len(skipped)} skipped (hover for why)"
            self.accuracy.setToolTip("\n".join(f"{Path(p).name}: {why}" for p, why in skipped[:50]))
        else:
            self.accuracy.setToolTip("")
        self.accuracy.setText(text)
        confusion = result.get("confusion")
        if confusion is not None:
            if self.confusion is None:
                from widgets.confusion import ConfusionView
                self.confusion = ConfusionView()
                self.confusion.setObjectName("folder_confusion")
                self.confusion.setMinimumHeight(160)
                self.folder_split.addWidget(self.confusion)
                self.folder_split.setSizes([1, 1])  # the table and the matrix share the height
            self.confusion.set_matrix(np.asarray(confusion, np.int64), classes)
            self.confusion.show()
        elif self.confusion is not None:
            self.confusion.hide()
        self.results.setCurrentWidget(self.many)

    def _row_picked(self, row: int, _col: int) -> None:
        """Double-click a file of the folder: classify it alone (with its saliency)."""
        item = self.rows.item(row, 0)
        if item is not None and item.toolTip():
            self.source.set_image_file(item.toolTip())
            self.classify()


def _top_entry(entry: dict) -> tuple[str, float]:
    """(class name, probability) of one entry of the reply's "top" list."""
    return str(entry["class"]), float(entry["probability"])
