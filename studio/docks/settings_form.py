"""A form generated from a list of schema ``Setting``s, bound to one section of the document.

This is what makes the Training and Dataset docks follow the engine's schema: a setting
added to ``engine/schema`` appears here with its type, range, doc and group, with no new
dock code. Settings with a ``when`` are shown only while it holds; ``advanced`` ones fold
away. Every edit is one undoable ``Document.set_setting`` — and switching a choice that
makes other explicitly set keys inapplicable removes them in the same undo step, so the
file stays valid (``optimizer.momentum`` goes when the optimizer becomes Adam).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.schema import Setting
from engine.schema.base import active
from studio.docks.fields import check, setting_field, to_json
from widgets.editors import Editor
from widgets.form import Form

if TYPE_CHECKING:
    from studio.document import Document

_ABSENT = object()


class SettingsForm(QWidget):
    def __init__(self, section: str, settings: Sequence[Setting], *, skip: Iterable[str] = (),
                 suggestions: dict[str, tuple] | None = None, editors: dict[str, Editor] | None = None,
                 heading: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        skip = set(skip)
        self.settings = [s for s in settings if s.key not in skip]
        self.by_key = {s.key: s for s in self.settings}
        self.doc: Document | None = None
        self.form = Form(validator=self._validate)
        suggestions = suggestions or {}
        editors = editors or {}
        groups: dict[str, list[Setting]] = {}
        for s in self.settings:
            groups.setdefault("Advanced" if s.advanced else s.group, []).append(s)
        ordered = [g for g in groups if g != "Advanced"] + (["Advanced"] if "Advanced" in groups else [])
        for group in ordered:
            adv = group == "Advanced"
            title = group if len(groups) > 1 or adv else (heading or "")
            self.form.add_section(title, collapsible=adv, collapsed=adv)
            for s in groups[group]:
                self.form.add_field(setting_field(s, suggestions.get(s.key, ())), s.param.default,
                                    editor=editors.get(s.key))
        self.form.committed.connect(self._commit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)

    # -- document ----------------------------------------------------------------------
    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            self.doc.setting_changed.disconnect(self._setting_changed)
        self.doc = doc
        doc.setting_changed.connect(self._setting_changed)
        self.refresh()

    def value(self, key: str) -> Any:
        s = self.by_key[key]
        return self.doc.setting(self.section, key, s.param.default)

    def flat_values(self) -> dict[str, Any]:
        return {s.key: self.value(s.key) for s in self.settings}

    def refresh(self) -> None:
        for s in self.settings:
            self._show(s)
        self._update_visibility()

    def _show(self, s: Setting) -> None:
        value = self.value(s.key)
        message = check(s.param, value)
        if message is None:
            self.form.set_value(s.key, value)
        self.form.set_error(s.key, message and f"in the file: {message}")

    def _update_visibility(self, values: dict[str, Any] | None = None) -> None:
        values = values or self.flat_values()
        for s in self.settings:
            if s.when:
                self.form.set_visible(s.key, active(s, values))

    def _setting_changed(self, section: str, key: str) -> None:
        if section != self.section:
            return
        if key in self.by_key:
            self._show(self.by_key[key])
        else:  # a parent key (a whole group) was replaced
            for s in self.settings:
                if s.key.startswith(key + "."):
                    self._show(s)
        self._update_visibility()

    # -- edits -------------------------------------------------------------------------
    def _validate(self, key: str, value: Any) -> str | None:
        return check(self.by_key[key].param, value)

    def _commit(self, key: str, value: Any) -> None:
        doc = self.doc
        value = to_json(self.by_key[key].param.validate(value) if value is not None else None)
        if doc.setting(self.section, key, _ABSENT) == value:
            return
        after = {**self.flat_values(), key: value}
        stale = [s.key for s in self.settings
                 if s.when and not active(s, after) and doc.setting(self.section, s.key, _ABSENT) is not _ABSENT]
        if not stale:
            doc.set_setting(self.section, key, value)
            return
        doc.undo_stack.beginMacro(f"Set {self.section}.{key}")
        try:
            doc.set_setting(self.section, key, value)
            for k in stale:
                doc.set_setting(self.section, k, None)
        finally:
            doc.undo_stack.endMacro()

    def editor(self, key: str) -> Editor:
        return self.form.editor(key)
