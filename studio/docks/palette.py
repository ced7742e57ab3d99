"""Layer palette: the catalog by category, a search box, drag onto the canvas or double-click.

A drag carries the layer type as ``application/x-layerstudio-layer`` (UTF-8), the format the
canvas accepts; a double-click (or Enter) asks the window to add the layer at the centre of
the view.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QFontMetrics, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from engine.catalog import CATALOG, CATEGORIES

if TYPE_CHECKING:
    from studio.main_window import MainWindow

MIME = "application/x-layerstudio-layer"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def layer_tooltip(type_: str) -> str:
    spec = CATALOG[type_]
    params = ", ".join(p.name for p in spec.params) or "none"
    inferred = f"<br>Inferred from the input: {', '.join(spec.inferred)}" if spec.inferred else ""
    return (f"<b>{type_}</b> <span style='color:gray'>({spec.category})</span><br>{spec.doc}"
            f"<br><br>Parameters: {params}{inferred}<br><i>Drag onto the canvas, or double-click to add.</i>")


class LayerTree(QTreeWidget):
    """The tree; a drag of a layer item starts a ``QDrag`` with the layer mime type."""

    layer_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIndentation(14)
        self.itemActivated.connect(self._activated)  # double-click or Enter

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_ = item.data(0, TYPE_ROLE)
        if type_:
            self.layer_activated.emit(type_)

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        type_ = item.data(0, TYPE_ROLE) if item else None
        if not type_:
            return
        data = QMimeData()
        data.setData(MIME, QByteArray(type_.encode("utf-8")))
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.setPixmap(self._drag_pixmap(type_))
        drag.setHotSpot(drag.pixmap().rect().center())
        drag.exec(Qt.DropAction.CopyAction)

    def _drag_pixmap(self, text: str) -> QPixmap:
        font = QFont(self.font())
        font.setBold(True)
        fm = QFontMetrics(font)
        ratio = self.devicePixelRatioF()
        size = QSize(fm.horizontalAdvance(text) + 24, fm.height() + 12)
        pm = QPixmap(size * ratio)
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(30, 136, 229, 220))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(0, 0, size.width(), size.height(), 6, 6)
        p.setPen(Qt.GlobalColor.white)
        p.setFont(font)
        p.drawText(0, 0, size.width(), size.height(), Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        return pm


class PalettePanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers (Ctrl+F)…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter by name or description; Enter adds the first match")
        self.tree = LayerTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._fill()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.layer_activated.connect(window.add_layer)
        find = QShortcut(QKeySequence("Ctrl+F"), self)
        find.setContext(Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self.focus_search)

    def _fill(self) -> None:
        by_category: dict[str, list[str]] = {}
        for type_, spec in CATALOG.items():
            by_category.setdefault(spec.category, []).append(type_)
        order = list(CATEGORIES) + sorted(set(by_category) - set(CATEGORIES))
        bold = QFont(self.tree.font())
        bold.setBold(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        for category in order:
            types = by_category.get(category)
            if not types:
                continue
            head = QTreeWidgetItem(self.tree, [category])
            head.setFont(0, bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for type_ in types:
                item = QTreeWidgetItem(head, [type_])
                item.setData(0, TYPE_ROLE, type_)
                item.setToolTip(0, layer_tooltip(type_))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                self.items[type_] = item
            head.setExpanded(True)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            shown = 0
            for j in range(head.childCount()):
                item = head.child(j)
                type_ = item.data(0, TYPE_ROLE)
                hay = f"{type_} {CATALOG[type_].doc} {head.text(0)}".lower()
                match = all(w in hay for w in words)
                item.setHidden(not match)
                shown += match
            head.setHidden(shown == 0)
            if words and shown:
                head.setExpanded(True)

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _add_first_match(self) -> None:
        shown = self.visible_types()
        if shown:
            self.window_.add_layer(shown[0])

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
