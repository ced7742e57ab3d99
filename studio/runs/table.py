"""The runs as a table model (newest first) and the delegate that draws a progress bar.

Rows follow ``RunManager.runs_changed``; a row's cells follow its handle's ``changed``,
coalesced to a few repaints a second however fast a run streams.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate

from studio.runs.handle import RunHandle
from studio.runs.manager import RunManager
from widgets import units
from widgets.stream_plot import stable_color

COLUMNS = ("Run", "State", "Progress", "ETA", "Best val acc", "Params", "FLOPs", "Device", "Started")
RUN, STATE, PROGRESS, ETA, BEST, PARAMS, FLOPS, DEVICE, STARTED = range(len(COLUMNS))
HandleRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
STATE_COLOURS = {"running": "#2e7d32", "paused": "#ef6c00", "failed": "#c62828", "interrupted": "#ef6c00",
                 "queued": "#1565c0", "starting": "#1565c0", "stopping": "#ef6c00"}
REFRESH_MS = 250


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def state_text(h: RunHandle) -> str:
    if h.state == "failed" and h.failure:
        return f"failed: {h.failure.get('message', '')}"
    if h.state == "queued":
        return f"queued for {h.device}" if h.device else "queued"
    return h.state


class RunsModel(QAbstractTableModel):
    def __init__(self, manager: RunManager, parent=None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.rows: list[RunHandle] = []
        self._dirty: set[RunHandle] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        manager.runs_changed.connect(self.reload)
        manager.compare_changed.connect(lambda: self._changed_all(RUN))
        self.reload()

    # -- rows -----------------------------------------------------------------------------------
    def reload(self) -> None:
        handles = sorted(self.manager.runs(), key=lambda h: -h.created)
        if handles == self.rows:
            return
        for h in self.rows:
            if h not in handles:
                try:
                    h.changed.disconnect(self._handle_changed)
                except (RuntimeError, TypeError):
                    pass
        self.beginResetModel()
        old = set(self.rows)
        self.rows = handles
        for h in handles:
            if h not in old:
                h.changed.connect(self._handle_changed)
        self._dirty.clear()
        self.endResetModel()

    def _handle_changed(self) -> None:
        handle = self.sender()
        if isinstance(handle, RunHandle):
            self._dirty.add(handle)
            if not self._timer.isActive():
                self._timer.start()

    def _flush(self) -> None:
        for h in self._dirty:
            if h in self.rows:
                r = self.rows.index(h)
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))
        self._dirty.clear()

    def _changed_all(self, column: int) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, column), self.index(len(self.rows) - 1, column))

    def handle(self, row: int) -> RunHandle | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of(self, handle: RunHandle) -> int:
        return self.rows.index(handle) if handle in self.rows else -1

    # -- Qt -------------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == RUN:
            return "Tick a run to overlay its curves on the current run's"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return f | Qt.ItemFlag.ItemIsUserCheckable if index.column() == RUN else f

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        h = self.handle(index.row())
        if h is not None and index.column() == RUN and role == Qt.ItemDataRole.CheckStateRole:
            self.manager.set_compared(h, Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        return False

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        h = self.handle(index.row())
        if h is None:
            return None
        c = index.column()
        if role == HandleRole:
            return h
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(h, c)
        if role == ProgressRole and c == PROGRESS:
            return h.progress()
        if role == Qt.ItemDataRole.CheckStateRole and c == RUN:
            return Qt.CheckState.Checked if h in self.manager.compared() else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and c == RUN:
            return QColor(stable_color(h.name))
        if role == Qt.ItemDataRole.ForegroundRole and c == STATE and h.state in STATE_COLOURS:
            return QBrush(QColor(STATE_COLOURS[h.state]))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(h, c)
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (ETA, BEST, PARAMS, FLOPS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and h is self.manager.current() and c == RUN:
            font = QApplication.font()
            font.setBold(True)
            return font
        return None

    def _text(self, h: RunHandle, c: int) -> str:
        if c == RUN:
            return h.name
        if c == STATE:
            return state_text(h)
        if c == PROGRESS:
            if h.epochs:
                return f"epoch {min(h.epoch + (0 if h.ended else 1), h.epochs)}/{h.epochs}" \
                    if not h.ended else f"{h.epoch}/{h.epochs} epochs"
            return ""
        if c == ETA:
            return duration(h.eta_seconds())
        if c == BEST:
            acc = h.best_accuracy()
            return f"{acc:.1%}" if acc is not None else ""
        if c == PARAMS:
            return units.si(h.params) if h.params is not None else ""
        if c == FLOPS:
            return units.si(h.flops, "FLOP") if h.flops is not None else ""
        if c == DEVICE:
            return h.device or ""
        if c == STARTED:
            t = h.status.get("started") or h.created
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""
        return ""

    def _tooltip(self, h: RunHandle, c: int) -> str | None:
        if c == STATE and h.failure:
            f = h.failure
            return f"<b>{f.get('message', '')}</b>" + (f"<br>{f['advice']}" if f.get("advice") else "")
        if c == RUN:
            return str(h.run_dir) if h.run_dir else h.name
        if c == FLOPS:
            return "Forward FLOPs per sample of the run's model"
        return None


class ProgressDelegate(QStyledItemDelegate):
    """A flat progress bar in the Progress column with the epoch text on it (drawn by hand: the
    platform's bar puts a white trough on a selected row and clips its text at the chunk)."""

    def paint(self, painter, option, index) -> None:
        fraction = index.data(ProgressRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, option.palette.highlight())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRectF(option.rect.adjusted(3, 4, -3, -4))
        trough = QColor(option.palette.color(QPalette.ColorRole.Mid))
        trough.setAlpha(90)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(trough)
        painter.drawRoundedRect(rect, 3, 3)
        state = index.siblingAtColumn(STATE).data(HandleRole).state
        chunk = QColor(STATE_COLOURS.get(state, "#1e88e5") if state != "finished" else "#43a047")
        chunk.setAlpha(200)
        painter.setBrush(chunk)
        done = QRectF(rect)
        done.setWidth(rect.width() * max(0.0, min(1.0, fraction)))
        if done.width() > 0:
            painter.drawRoundedRect(done, 3, 3)
        painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected
                                            else QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, index.data(Qt.ItemDataRole.DisplayRole) or f"{fraction:.0%}")
        painter.restore()
