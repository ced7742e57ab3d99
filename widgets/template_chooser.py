"""A small chooser: pick one of a few named starting points (New → from a template)."""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class TemplateChooser(QDialog):
    """``choices``: (key, title, description); ``chosen()`` is the key of the selected one."""

    def __init__(self, choices: Sequence[tuple[Any, str, str]], parent: QWidget | None = None,
                 title: str = "New project") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.list = QListWidget()
        self.list.setSpacing(2)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        for key, name, description in choices:
            item = QListWidgetItem(f"{name}\n{description}" if description else name)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(description)
            item.setSizeHint(QSize(0, self.fontMetrics().height() * (2.6 if description else 1.6)))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _i: self.accept())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start from:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(620, 420)

    def chosen(self) -> Any:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
