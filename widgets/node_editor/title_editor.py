"""Inline editing of a node's title: a line edit laid over the node, Enter commits."""
from __future__ import annotations

from typing import Hashable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit

from widgets.node_editor import theme as T


class TitleEditor(QLineEdit):
    committed = Signal(object, str)  # key, text

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self._key: Hashable | None = None
        self.setVisible(False)
        self.setStyleSheet(f"QLineEdit {{ background: {T.NODE_HEADER}; color: {T.TEXT};"
                           f" border: 1px solid {T.NODE_SELECTED}; border-radius: 3px; padding: 1px 4px; }}")

    def start(self, key: Hashable, text: str, top_left: QPoint, width: int) -> None:
        self._key = key
        self.setText(text)
        self.selectAll()
        self.setGeometry(top_left.x() + 4, top_left.y() + 2, max(80, width - 8), self.sizeHint().height())
        self.setVisible(True)
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def commit(self) -> None:
        if self._key is None:
            return
        key, self._key = self._key, None
        self.setVisible(False)
        self.committed.emit(key, self.text().strip())
        self.parentWidget().parentWidget().setFocus()

    def cancel(self) -> None:
        if self._key is None:
            return
        self._key = None
        self.setVisible(False)
        self.parentWidget().parentWidget().setFocus()

    def event(self, event: QEvent) -> bool:
        # Keys typed here are text, not the canvas's shortcuts (Del, Ctrl+A, Tab, F...).
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
        elif event.key() == Qt.Key.Key_Escape:
            self.cancel()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if self._key is not None:
            self.commit()
