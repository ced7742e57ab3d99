"""A form generated from ``Field`` descriptions: labelled editors, inline errors, sections.

The form validates every edit at once through ``validator(name, value) -> message | None``
(the application plugs in its own rules) and shows the message under the field; only a
valid commit is emitted as ``committed(name, value)``. Rows can be hidden (conditional
settings) and shown read-only (values derived from elsewhere).
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from widgets.editors import Editor, Field, Invalid, make_editor

Validator = Callable[[str, Any], "str | None"]

# one style sheet per form (not one per label: each setStyleSheet re-polishes the widget)
STYLE = """
QLabel#form_error { color: #c62828; }
QLabel#form_value { color: palette(window-text); }
QLabel#form_heading { font-weight: 600; }
"""


class FormRow:
    """The widgets of one field: label, editor (or read-only value) and error message."""

    def __init__(self, field: Field, label: QLabel, editor: Editor | QLabel, error: QLabel) -> None:
        self.field, self.label, self.editor, self.error = field, label, editor, error
        self.visible = True
        self.message: str | None = None

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self.label.setVisible(visible)
        self.editor.setVisible(visible)
        self.error.setVisible(visible and bool(self.message))

    def set_error(self, message: str | None) -> None:
        self.message = message or None
        self.error.setText(f"⚠ {message}" if message else "")
        self.error.setVisible(self.visible and bool(message))
        self.editor.setProperty("invalid", bool(message))
        self.editor.setToolTip(message or self.field.doc)


class Form(QWidget):
    committed = Signal(str, object)  # name, a value that passed validation
    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None, validator: Validator | None = None) -> None:
        super().__init__(parent)
        self.validator = validator
        self.rows: dict[str, FormRow] = {}
        self._sections: dict[str, tuple[QWidget, QGridLayout]] = {}
        self.setStyleSheet(STYLE)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._current: QGridLayout | None = None

    # -- building ----------------------------------------------------------------------
    def add_section(self, title: str = "", collapsible: bool = False, collapsed: bool = False) -> QWidget:
        box = QWidget()
        outer = QVBoxLayout(box)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        grid = QGridLayout()
        grid.setContentsMargins(2, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        body = QWidget()
        body.setLayout(grid)
        if title:
            if collapsible:
                head = QToolButton()
                head.setText(title)
                head.setCheckable(True)
                head.setChecked(not collapsed)
                head.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
                head.setArrowType(Qt.ArrowType.DownArrow if not collapsed else Qt.ArrowType.RightArrow)
                head.setAutoRaise(True)
                head.setStyleSheet("QToolButton { font-weight: 600; border: none; }")

                def toggle(on: bool, head=head, body=body) -> None:
                    body.setVisible(on)
                    head.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
                head.toggled.connect(toggle)
                body.setVisible(not collapsed)
                outer.addWidget(head)
            else:
                head = QLabel(title)
                head.setObjectName("form_heading")
                outer.addWidget(head)
                line = QFrame()
                line.setFrameShape(QFrame.Shape.HLine)
                line.setFrameShadow(QFrame.Shadow.Sunken)
                outer.addWidget(line)
        outer.addWidget(body)
        self._layout.addWidget(box)
        self._sections[title] = (box, grid)
        self._current = grid
        return box

    def _grid(self) -> QGridLayout:
        if self._current is None:
            self.add_section("")
        return self._current

    def _label(self, field: Field) -> QLabel:
        label = QLabel(field.label or field.name)
        label.setToolTip(field.doc)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    def _error_label(self) -> QLabel:
        error = QLabel()
        error.setObjectName("form_error")
        error.setWordWrap(True)
        error.setVisible(False)
        return error

    def add_field(self, field: Field, value: Any = None, editor: Editor | None = None) -> FormRow:
        editor = editor or make_editor(field)
        editor.setToolTip(field.doc)
        editor.setObjectName(f"field:{field.name}")
        editor.set_value(value)
        row = self.add_widget(field, editor)
        editor.edited.connect(lambda v, n=field.name: self._on_edited(n, v))
        editor.committed.connect(lambda v, n=field.name: self._on_committed(n, v))
        return row

    def add_readonly(self, field: Field, text: str) -> FormRow:
        value = QLabel(text)
        value.setToolTip(field.doc)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = self.add_widget(field, value)
        value.setObjectName("form_value")
        value.setProperty("field", field.name)
        return row

    def add_widget(self, field: Field, widget: QWidget) -> FormRow:
        """A row with any widget as its editor (the caller connects its signals)."""
        grid = self._grid()
        r = grid.rowCount()
        label = self._label(field)
        error = self._error_label()
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        grid.addWidget(label, r, 0)
        grid.addWidget(widget, r, 1)
        grid.addWidget(error, r + 1, 1)
        row = FormRow(field, label, widget, error)
        self.rows[field.name] = row
        return row

    def add_stretch(self) -> None:
        self._layout.addStretch(1)

    # -- state -------------------------------------------------------------------------
    def editor(self, name: str) -> Editor:
        return self.rows[name].editor

    def set_value(self, name: str, value: Any) -> None:
        row = self.rows[name]
        if isinstance(row.editor, Editor):
            row.editor.set_value(value)
            row.set_error(None)
        else:
            row.editor.setText(str(value))

    def set_error(self, name: str, message: str | None) -> None:
        self.rows[name].set_error(message)

    def error(self, name: str) -> str | None:
        return self.rows[name].message

    def set_visible(self, name: str, visible: bool) -> None:
        self.rows[name].set_visible(visible)

    def is_visible(self, name: str) -> bool:
        return self.rows[name].visible

    # -- validation --------------------------------------------------------------------
    def _check(self, name: str, value: Any) -> str | None:
        if isinstance(value, Invalid):
            return value.message
        return self.validator(name, value) if self.validator else None

    def _on_edited(self, name: str, value: Any) -> None:
        self.rows[name].set_error(self._check(name, value))
        self.edited.emit(name, value)

    def _on_committed(self, name: str, value: Any) -> None:
        message = self._check(name, value)
        self.rows[name].set_error(message)
        if message is None:
            self.committed.emit(name, value)
