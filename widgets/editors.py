"""Typed value editors, one per parameter kind, fed plain ``Field`` descriptions.

Every editor emits ``edited(value)`` while the user types (``Invalid`` when the text does
not parse, so the form can say why at once) and ``committed(value)`` when the user is done
(Enter, focus out, a click, an arrow step). ``set_value`` never emits: views refresh editors
from the model without echoing the value back as a new edit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLineEdit, QSizePolicy, QSpinBox,
                               QToolButton, QWidget)

INT32 = 2**31 - 1


def _compact(combo: QComboBox) -> None:
    """A combo whose long entries do not widen the whole panel (the popup still shows them)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)


@dataclass(frozen=True)
class Field:
    """What a form needs to know about one value (a catalog ``Param`` or a schema ``Setting``)."""

    name: str
    kind: str  # int float bool choice ints floats shape str
    label: str = ""
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    length: int | None = None
    nullable: bool = False
    min_exclusive: bool = False
    suggestions: tuple = ()  # str fields: an editable combo with these entries
    null_text: str = "default"  # what an empty nullable value means (shown greyed in the empty field)


@dataclass(frozen=True)
class Invalid:
    """An edit that does not parse; ``message`` says why."""

    message: str


class Editor(QWidget):
    """Base of the editors; each defines ``value()`` and ``set_value(value)``."""

    edited = Signal(object)
    committed = Signal(object)

    def set_read_only(self, read_only: bool) -> None:
        self.setEnabled(not read_only)

    @staticmethod
    def _row(*widgets: QWidget) -> QHBoxLayout:
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for w in widgets:
            layout.addWidget(w)
        return layout


def _int_bounds(field: Field) -> tuple[int, int]:
    lo = -INT32 if field.min is None else max(-INT32, int(math.ceil(field.min)))
    hi = INT32 if field.max is None else min(INT32, int(math.floor(field.max)))
    if field.min_exclusive and field.min is not None and lo == field.min:
        lo += 1
    return lo, hi


class _SpinBox(QSpinBox):
    """A spin box that commits on Enter/arrows/focus-out, not on every keystroke."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.setRange(*_int_bounds(field))
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setMinimumWidth(56)

    def wheelEvent(self, event) -> None:  # scrolling the dock must not change values
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class IntEditor(Editor):
    def __init__(self, field: Field) -> None:
        super().__init__()
        self.spin = _SpinBox(field)
        self.setLayout(self._row(self.spin))
        self.setFocusProxy(self.spin)
        self.spin.valueChanged.connect(self._changed)

    def _changed(self, v: int) -> None:
        self.edited.emit(v)
        self.committed.emit(v)

    def value(self) -> int:
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(int(value) if isinstance(value, (int, float)) else self.spin.minimum())
        self.spin.blockSignals(False)


def format_float(v: float) -> str:
    return f"{v:.6g}"


class _FloatSpinBox(QDoubleSpinBox):
    """Shows 0.0001 as 0.0001 (or 1e-05), steps by a tenth of the value's decade (lr-friendly)."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.setDecimals(12)
        lo = -1e300 if field.min is None else field.min
        hi = 1e300 if field.max is None else field.max
        self.setRange(lo, hi)
        self._field = field
        self.setKeyboardTracking(False)
        self.setMinimumWidth(64)

    def textFromValue(self, value: float) -> str:
        return format_float(value)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        t = text.strip().replace(",", ".")
        if t in ("", "-", "+", ".", "-.") or t.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            v = float(t)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        v = self.value()
        step = 10 ** math.floor(math.log10(abs(v))) if v else (self.singleStep() or 0.1)
        if 0 < abs(v) and steps < 0 and math.isclose(abs(v), step):
            step /= 10  # 0.01 → 0.009, not 0
        new = round(v + steps * step, 12)
        if self._field.min_exclusive and self._field.min is not None and new <= self._field.min:
            return
        self.setValue(new)

    def wheelEvent(self, event) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class FloatEditor(Editor):
    def __init__(self, field: Field) -> None:
        super().__init__()
        self.field = field
        self.spin = _FloatSpinBox(field)
        self.setLayout(self._row(self.spin))
        self.setFocusProxy(self.spin)
        self.spin.valueChanged.connect(self._changed)

    def _changed(self, v: float) -> None:
        self.edited.emit(float(v))
        self.committed.emit(float(v))

    def value(self) -> float:
        return float(self.spin.value())

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(float(value) if isinstance(value, (int, float)) else 0.0)
        self.spin.blockSignals(False)


class BoolEditor(Editor):
    def __init__(self, field: Field) -> None:
        super().__init__()
        self.check = QCheckBox()
        self.setLayout(self._row(self.check))
        self.setFocusProxy(self.check)
        self.check.toggled.connect(self._changed)

    def _changed(self, v: bool) -> None:
        self.edited.emit(bool(v))
        self.committed.emit(bool(v))

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)


class ChoiceEditor(Editor):
    """A combo of fixed choices; a nullable bool is a choice of default / on / off."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.combo = QComboBox()
        choices: Sequence = field.choices
        if field.kind == "bool":
            choices = (True, False)
        if field.nullable:
            self.combo.addItem(f"({field.null_text})", None)
        for c in choices:
            text = {True: "on", False: "off"}.get(c, str(c)) if isinstance(c, bool) else str(c)
            self.combo.addItem(text, c)
        _compact(self.combo)
        self.setLayout(self._row(self.combo))
        self.setFocusProxy(self.combo)
        self.combo.activated.connect(self._changed)

    def _changed(self, index: int) -> None:
        v = self.combo.itemData(index)
        self.edited.emit(v)
        self.committed.emit(v)

    def value(self) -> Any:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        for i in range(self.combo.count()):
            d = self.combo.itemData(i)
            if type(d) is type(value) and d == value:
                self.combo.setCurrentIndex(i)
                return
        self.combo.setCurrentIndex(-1)


class TextEditor(Editor):
    """Free text; with ``suggestions`` an editable combo (e.g. devices: auto, cpu, cuda:0)."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        if field.suggestions:
            self.combo = QComboBox()
            self.combo.setEditable(True)
            self.combo.addItems([str(s) for s in field.suggestions])
            self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            _compact(self.combo)
            self.line = self.combo.lineEdit()
            self.combo.activated.connect(lambda _i: self._commit())
            widget: QWidget = self.combo
        else:
            self.combo = None
            self.line = QLineEdit()
            widget = self.line
        self.nullable = field.nullable
        if field.nullable:
            self.line.setPlaceholderText(f"({field.null_text})")
        self.line.textEdited.connect(lambda _t: self.edited.emit(self.value()))
        self.line.editingFinished.connect(self._commit)
        self.setLayout(self._row(widget))
        self.setFocusProxy(widget)

    def _commit(self) -> None:
        self.committed.emit(self.value())

    def set_suggestions(self, items: Sequence[str]) -> None:
        if self.combo is None:
            return
        text = self.line.text()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(list(items))
        self.line.setText(text)
        self.combo.blockSignals(False)

    def value(self) -> str | None:
        text = self.line.text()
        return None if self.nullable and not text.strip() else text  # empty: back to the default

    def set_value(self, value: Any) -> None:
        if self.line.hasFocus() and self.line.isModified():
            return  # do not overwrite what the user is typing
        self.line.setText("" if value is None else str(value))
        self.line.setModified(False)


def parse_numbers(text: str, integer: bool) -> tuple | Invalid:
    parts = [p for p in text.replace(";", ",").replace("×", ",").replace("x", ",").split(",")]
    parts = [p.strip() for p in parts]
    if not text.strip() or any(not p for p in parts):
        return Invalid("enter numbers separated by commas, e.g. 3, 32, 32" if integer
                       else "enter numbers separated by commas, e.g. 2.0, 2.0")
    out = []
    for p in parts:
        try:
            out.append(int(p) if integer else float(p))
        except ValueError:
            return Invalid(f"{p!r} is not a {'whole number' if integer else 'number'}")
    return tuple(out)


class ListEditor(Editor):
    """A comma-separated list of numbers: shapes ("3, 32, 32") and lists of any length."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.integer = field.kind in ("ints", "shape")
        self.shape = field.kind == "shape"
        self.nullable = field.nullable
        self.line = QLineEdit()
        self.line.setPlaceholderText("e.g. 3, 32, 32" if self.shape else
                                     f"({field.null_text})" if field.nullable else "numbers, comma-separated")
        self.line.textEdited.connect(lambda _t: self.edited.emit(self.value()))
        self.line.editingFinished.connect(self._commit)
        self.setLayout(self._row(self.line))
        self.setFocusProxy(self.line)
        self._last: Any = None

    def _commit(self) -> None:
        v = self.value()
        if v != self._last or isinstance(v, Invalid):
            self.committed.emit(v)

    def value(self) -> Any:
        if self.nullable and not self.line.text().strip():
            return None
        v = parse_numbers(self.line.text(), self.integer)
        if isinstance(v, tuple) and len(v) == 1 and not self.shape:
            return v[0]
        return list(v) if isinstance(v, tuple) else v

    def set_value(self, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            text = ", ".join(format_float(v) if isinstance(v, float) else str(v) for v in value)
        else:
            text = "" if value is None else (format_float(value) if isinstance(value, float) else str(value))
        self.line.setText(text)
        self._last = self.value() if text else None


class MultiNumberEditor(Editor):
    """``length`` spin boxes (kernel 3 × 5) with a link toggle: linked, one box sets them all."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.integer = field.kind == "ints"
        make = (lambda: _SpinBox(field)) if self.integer else (lambda: _FloatSpinBox(field))
        self.boxes = [make() for _ in range(field.length or 2)]
        self.link = QToolButton()
        self.link.setCheckable(True)
        self.link.setChecked(True)
        self.link.setAutoRaise(True)
        self.link.setIconSize(QSize(16, 16))
        self.link.setToolTip("Linked: one value for every dimension. Click to set each dimension.")
        self.link.toggled.connect(self._link_toggled)
        for b in self.boxes:
            b.valueChanged.connect(self._changed)
        for b in self.boxes:
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setLayout(self._row(*self.boxes, self.link))
        self.setFocusProxy(self.boxes[0])
        self._show_link_state()

    @property
    def linked(self) -> bool:
        return self.link.isChecked()

    def _show_link_state(self) -> None:
        linked = self.linked
        self.link.setIcon(link_icon(linked, self.palette().text().color()))
        self.link.setToolTip("Linked: one value for every dimension. Click to set each dimension." if linked
                             else "Each dimension separately. Click to use one value for all.")
        for b in self.boxes[1:]:
            b.setVisible(not linked)

    def _link_toggled(self, linked: bool) -> None:
        self._show_link_state()
        if linked and len({b.value() for b in self.boxes}) > 1:
            self._changed()  # linking makes every dimension take the first one's value

    def _changed(self, *_: Any) -> None:
        v = self.value()
        self.edited.emit(v)
        self.committed.emit(v)

    def value(self) -> Any:
        vals = [b.value() if self.integer else float(b.value()) for b in self.boxes]
        return vals[0] if self.linked else list(vals)

    def set_value(self, value: Any) -> None:
        vals = list(value) if isinstance(value, (list, tuple)) else [value] * len(self.boxes)
        if len(vals) != len(self.boxes) or any(not isinstance(v, (int, float)) for v in vals):
            return
        for b, v in zip(self.boxes, vals):
            b.blockSignals(True)
            b.setValue(v)
            b.blockSignals(False)
        if self.linked and len(set(vals)) > 1:  # a non-uniform value cannot be shown linked
            self.link.blockSignals(True)
            self.link.setChecked(False)
            self.link.blockSignals(False)
            self._show_link_state()


def link_icon(linked: bool, color: QColor) -> QIcon:
    """Two chain links, joined (one value for all dimensions) or apart (one per dimension)."""
    pm = QPixmap(32, 32)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(color, 3))
    gap = 0 if linked else 6
    p.drawRoundedRect(2 - gap // 2, 10, 16, 12, 6, 6)
    p.drawRoundedRect(14 + gap // 2, 10, 16, 12, 6, 6)
    if not linked:
        p.drawLine(12, 4, 20, 28)
    p.end()
    return QIcon(pm)


class NullableEditor(Editor):
    """A check box in front of an editor: unchecked means "empty" (None, the default behaviour)."""

    def __init__(self, field: Field, inner: Editor) -> None:
        super().__init__()
        self.inner = inner
        self.check = QCheckBox()
        self.check.setToolTip(f"Unchecked: {field.null_text}")
        self.check.toggled.connect(self._toggled)
        inner.edited.connect(lambda v: self.edited.emit(v))
        inner.committed.connect(lambda v: self.committed.emit(v))
        self.setLayout(self._row(self.check, inner))
        self.setFocusProxy(inner)

    def _toggled(self, on: bool) -> None:
        self.inner.setEnabled(on)
        v = self.value()
        self.edited.emit(v)
        self.committed.emit(v)

    def value(self) -> Any:
        return self.inner.value() if self.check.isChecked() else None

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(value is not None)
        self.check.blockSignals(False)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def set_read_only(self, read_only: bool) -> None:
        self.check.setEnabled(not read_only)
        self.inner.setEnabled(not read_only and self.check.isChecked())


def make_editor(field: Field) -> Editor:
    """The editor for ``field``'s kind."""
    k = field.kind
    if k == "bool":
        return ChoiceEditor(field) if field.nullable else BoolEditor(field)
    if k == "choice":
        return ChoiceEditor(field)
    if k == "str":
        return TextEditor(field)
    if k == "shape":
        return ListEditor(field)
    if k in ("ints", "floats"):
        inner: Editor = MultiNumberEditor(field) if field.length else ListEditor(field)
        return NullableEditor(field, inner) if field.nullable and field.length else inner
    inner = IntEditor(field) if k == "int" else FloatEditor(field)
    return NullableEditor(field, inner) if field.nullable else inner
