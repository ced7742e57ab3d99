"""The quick-add popup (Tab): a filter box over a list of entries; Enter picks one."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPainter
from PySide6.QtWidgets import (QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QVBoxLayout)

from widgets.node_editor import theme as T

ROW_H = 24
MAX_ROWS = 12
ROLE_NAME = Qt.ItemDataRole.UserRole
ROLE_CATEGORY = Qt.ItemDataRole.UserRole + 1


class _EntryDelegate(QStyledItemDelegate):
    """Name on the left, category muted on the right."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, T.color("#2f4f7a"))
        r = option.rect.adjusted(8, 0, -8, 0)
        painter.setPen(T.color(T.TEXT))
        painter.drawText(r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, index.data(ROLE_NAME))
        painter.setPen(T.color(T.TEXT_MUTED))
        painter.drawText(r, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, index.data(ROLE_CATEGORY))
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        return QSize(200, ROW_H)


def rank(query: str, name: str, category: str, doc: str) -> int | None:
    """Lower is better; None: no match. Exact, then prefix, then substring, then category/doc."""
    q = query.strip().lower()
    if not q:
        return 3
    n = name.lower()
    if n == q:
        return 0
    if n.startswith(q):
        return 1
    if q in n:
        return 2
    if q in category.lower():
        return 4
    if q in doc.lower():
        return 5
    return None


class SearchPopup(QFrame):
    chosen = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("layerSearch")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"#layerSearch {{ background: {T.NODE_BODY}; border: 1px solid {T.NODE_BORDER}; border-radius: 6px; }}"
            f"QLineEdit {{ background: {T.BACKGROUND}; color: {T.TEXT}; border: 1px solid {T.NODE_BORDER};"
            f" border-radius: 4px; padding: 4px 6px; }}"
            f"QListWidget {{ background: {T.NODE_BODY}; color: {T.TEXT}; border: none; outline: none; }}"
            f"#entryDoc {{ color: {T.TEXT_MUTED}; padding: 2px 4px; }}"
            f"QScrollBar:vertical {{ background: {T.NODE_BODY}; width: 8px; margin: 0; }}"
            f"QScrollBar::handle:vertical {{ background: {T.NODE_BORDER}; border-radius: 4px; min-height: 24px; }}"
            "QScrollBar::add-line, QScrollBar::sub-line { height: 0; }"
            "QScrollBar::add-page, QScrollBar::sub-page { background: none; }")
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Add layer…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setItemDelegate(_EntryDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doc = QLabel(self)  # what the highlighted layer does
        self.doc.setWordWrap(True)
        self.doc.setObjectName("entryDoc")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.edit)
        lay.addWidget(self.list)
        lay.addWidget(self.doc)
        self.setFixedWidth(300)
        self._entries: list[tuple[str, str, str]] = []
        self.edit.textChanged.connect(self._filter)
        self.edit.returnPressed.connect(self._choose_current)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(lambda item: self._choose(item.data(ROLE_NAME)))
        self.list.itemClicked.connect(lambda item: self._choose(item.data(ROLE_NAME)))
        self.list.currentItemChanged.connect(
            lambda item, _prev: self.doc.setText(item.toolTip() if item is not None else "No layer matches"))

    def set_entries(self, entries: list[tuple[str, str, str]]) -> None:
        """(name, category, one-line doc) for every entry."""
        self._entries = list(entries)
        self._filter(self.edit.text())

    def open_at(self, global_pos: QPoint) -> None:
        self.edit.clear()
        self._filter("")
        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen else QRect(global_pos, self.size())
        x = min(max(global_pos.x(), area.left()), area.right() - self.width())
        y = min(max(global_pos.y(), area.top()), area.bottom() - self.height())
        self.move(x, y)
        self.show()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def visible_names(self) -> list[str]:
        return [self.list.item(i).data(ROLE_NAME) for i in range(self.list.count())]

    def _filter(self, text: str) -> None:
        scored = []
        for i, (name, cat, doc) in enumerate(self._entries):
            r = rank(text, name, cat, doc)
            if r is not None:
                scored.append((r, i, name, cat, doc))
        scored.sort()
        self.list.clear()
        for _, _, name, cat, doc in scored:
            item = QListWidgetItem(name)
            item.setData(ROLE_NAME, name)
            item.setData(ROLE_CATEGORY, cat)
            item.setToolTip(doc)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.doc.setText("No layer matches")
        rows = min(max(self.list.count(), 1), MAX_ROWS)  # the popup fits its list
        self.list.setFixedHeight(rows * ROW_H + 4)
        self.adjustSize()

    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose(item.data(ROLE_NAME))

    def _choose(self, name: str) -> None:
        self.hide()
        self.chosen.emit(name)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Up/Down/PageUp/PageDown typed in the filter box move through the list
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
                self.list.keyPressEvent(event)
                return True
        return super().eventFilter(obj, event)
