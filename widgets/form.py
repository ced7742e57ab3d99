"""A form generated from ``Field`` descriptions: labelled editors, inline errors, sections.

The form validates every edit at once through ``validator(name, value) -> message | None``
(the application plugs in its own rules) and shows the message under the field; only a
valid commit is emitted as ``committed(name, value)``. Rows can be hidden (conditional
settings) and shown read-only (values derived from elsewhere). All sections share one grid,
so labels line up down the whole form.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QGridLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from widgets.editors import Editor, Field, Invalid, make_editor

Validator = Callable[[str, Any], "str | None"]

# one style sheet per form (not one per label: each setStyleSheet re-polishes the widget)
STYLE = """
QLabel#form_error { color: #c62828; }
QLabel#form_heading { font-weight: 600; }
QToolButton#form_heading { font-weight: 600; border: none; padding: 0; }
"""


class Section:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[FormRow] = []
        self.collapsed = False


class FormRow:
    """The widgets of one field: label, editor (or read-only value) and error message."""

    def __init__(self, field: Field, label: QLabel, editor: QWidget, error: QLabel, section: Section) -> None:
        self.field, self.label, self.editor, self.error, self.section = field, label, editor, error, section
        self.visible = True  # the form's wish (conditions); a collapsed section hides it too
        self.message: str | None = None

    def _apply(self) -> None:
        shown = self.visible and not self.section.collapsed
        self.label.setVisible(shown)
        self.editor.setVisible(shown)
        self.error.setVisible(shown and bool(self.message))

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self._apply()

    def set_error(self, message: str | None) -> None:
        self.message = message or None
        self.error.setText(f"⚠ {message}" if message else "")
        self.editor.setToolTip(message or self.field.doc)
        self._apply()


class Form(QWidget):
    committed = Signal(str, object)  # name, a value that passed validation
    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None, validator: Validator | None = None) -> None:
        super().__init__(parent)
        self.validator = validator
        self.rows: dict[str, FormRow] = {}
        self.setStyleSheet(STYLE)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(5)
        self.grid.setColumnStretch(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.grid)
        self._section: Section | None = None

    # -- building ----------------------------------------------------------------------
    def add_section(self, title: str = "", collapsible: bool = False, collapsed: bool = False) -> Section:
        section = Section(title)
        self._section = section
        if not title:
            return section
        r = self.grid.rowCount()
        if collapsible:
            head = QToolButton()
            head.setObjectName("form_heading")
            head.setText(title)
            head.setCheckable(True)
            head.setChecked(not collapsed)
            head.setAutoRaise(True)
            head.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            head.setArrowType(Qt.ArrowType.DownArrow if not collapsed else Qt.ArrowType.RightArrow)
            section.collapsed = collapsed

            def toggle(on: bool) -> None:
                section.collapsed = not on
                head.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
                for row in section.rows:
                    row._apply()
            head.toggled.connect(toggle)
            self.grid.addWidget(head, r, 0, 1, 2)
        else:
            head = QLabel(title)
            head.setObjectName("form_heading")
            line = QFrame()
            line.setFrameShape(QFrame.Shape.HLine)
            line.setFrameShadow(QFrame.Shadow.Sunken)
            if r > 0:
                head.setContentsMargins(0, 8, 0, 0)  # air above every heading but the first
            self.grid.addWidget(head, r, 0, 1, 2)
            self.grid.addWidget(line, r + 1, 0, 1, 2)
        return section

    def _label(self, field: Field) -> QLabel:
        label = QLabel(field.label or field.name)
        label.setToolTip(field.doc)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    def add_field(self, field: Field, value: Any = None, editor: Editor | None = None) -> FormRow:
        editor = editor or make_editor(field)
        editor.setToolTip(field.doc)
        editor.set_value(value)
        row = self.add_widget(field, editor)
        editor.setObjectName(f"field:{field.name}")
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
        if self._section is None:
            self.add_section("")
        r = self.grid.rowCount()
        label = self._label(field)
        error = QLabel()
        error.setObjectName("form_error")
        error.setWordWrap(True)
        error.setVisible(False)
        if not isinstance(widget, QCheckBox):  # a check box is clicked on its box, not across the row
            widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.grid.addWidget(label, r, 0)
        self.grid.addWidget(widget, r, 1)
        self.grid.addWidget(error, r + 1, 1)
        row = FormRow(field, label, widget, error, self._section)
        self._section.rows.append(row)
        self.rows[field.name] = row
        row._apply()
        return row

    def label_width(self) -> int:
        return max((r.label.sizeHint().width() for r in self.rows.values()), default=0)

    def set_label_width(self, width: int) -> None:
        """Line this form's editors up with another form's."""
        self.grid.setColumnMinimumWidth(0, width)

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
