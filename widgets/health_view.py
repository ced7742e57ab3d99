"""Layer health over time: a table with a row per layer and, per measure, a sparkline of its
history and its latest value. Flagged layers (vanishing or exploding gradients, mostly dead
ReLU units) are tinted with the colour the canvas uses for them.

Fed plain values: node ids, the steps, and per measure an array [steps, nodes] (NaN where a
measure does not apply to a node)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QTableView

# one colour per state, shared with the canvas badges
COLORS = {"ok": "#43a047", "vanishing": "#1e88e5", "exploding": "#e53935", "dead": "#fb8c00"}
STATUS_TEXT = {"ok": "ok", "vanishing": "vanishing gradient", "exploding": "exploding gradient",
               "dead": "mostly dead units", "": ""}
DEAD_LIMIT = 0.5  # a ReLU layer with at least this fraction of units never active is flagged

# key, title, log scale, tooltip
MEASURES = (
    ("grad_norm", "Gradient norm", True, "L2 norm of the layer's weight gradients"),
    ("weight_norm", "Weight norm", True, "L2 norm of the layer's weights"),
    ("update_ratio", "Update / weight", True, "‖Δw‖ / ‖w‖ of the last optimizer step (about 1e-3 is healthy)"),
    ("dead_fraction", "Dead ReLU", False, "Fraction of units that were never positive over the probe batch"),
)


def status_of(node: str, flags: dict[str, str], dead: float) -> str:
    """One word for a layer's health: a flag from the engine first, then dead units, else ok."""
    flag = flags.get(node, "")
    if flag in ("vanishing", "exploding"):
        return flag
    if np.isfinite(dead) and dead >= DEAD_LIMIT:
        return "dead"
    return "ok"


def _fmt(key: str, v: float) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{v:.0%}" if key == "dead_fraction" else f"{v:.3g}"


class HealthModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.labels: dict[str, str] = {}
        self.steps = np.zeros(0, np.int64)
        self.metrics: dict[str, np.ndarray] = {}
        self.node_flags: dict[str, str] = {}
        self.status: list[str] = []

    def set_history(self, nodes: Sequence[str], steps: np.ndarray, metrics: dict[str, np.ndarray],
                    flags: dict[str, str], labels: dict[str, str] | None = None) -> None:
        same = list(nodes) == self.nodes
        if not same:
            self.beginResetModel()
        self.nodes, self.steps = list(nodes), np.asarray(steps)
        self.metrics = {k: np.asarray(v, dtype=np.float32).reshape(len(self.steps), len(self.nodes))
                        for k, v in metrics.items()}
        self.node_flags, self.labels = dict(flags), dict(labels or {})
        dead = self.latest("dead_fraction")
        self.status = [status_of(n, self.node_flags, dead[i]) for i, n in enumerate(self.nodes)]
        if same:
            if self.nodes:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.nodes) - 1, self.columnCount() - 1))
        else:
            self.endResetModel()

    def spark(self, index: QModelIndex) -> tuple[np.ndarray, bool] | None:
        """A measure cell's history and whether it is drawn on a log scale. The delegate asks
        the model directly: a Python tuple wrapped in a QVariant is not kept alive reliably."""
        c = index.column()
        if not 1 <= c <= len(MEASURES) or not index.isValid():
            return None
        key, _title, log, _tip = MEASURES[c - 1]
        series = self.metrics.get(key)
        return (series[:, index.row()] if series is not None and len(series) else np.zeros(0, np.float32)), log

    def latest(self, key: str) -> np.ndarray:
        m = self.metrics.get(key)
        return m[-1] if m is not None and len(m) else np.full(len(self.nodes), np.nan, np.float32)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.nodes)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(MEASURES) + 2

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        node, status = self.nodes[r], self.status[r]
        if role == Qt.ItemDataRole.BackgroundRole and status != "ok":
            color = QColor(COLORS[status])
            color.setAlpha(40)
            return QBrush(color)
        if role == Qt.ItemDataRole.UserRole:
            return node
        if c == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.labels.get(node, node)
            if role == Qt.ItemDataRole.ToolTipRole:
                return node
            if role == Qt.ItemDataRole.DecorationRole:
                return QColor(COLORS[status])
            return None
        if c == len(MEASURES) + 1:
            if role == Qt.ItemDataRole.DisplayRole:
                return STATUS_TEXT[status]
            if role == Qt.ItemDataRole.ForegroundRole and status != "ok":
                return QBrush(QColor(COLORS[status]))
            return None
        key, title, log, _tip = MEASURES[c - 1]
        series = self.metrics.get(key)
        values = series[:, r] if series is not None and len(series) else np.zeros(0, np.float32)
        last = float(values[-1]) if len(values) else float("nan")
        if role == Qt.ItemDataRole.DisplayRole:
            return _fmt(key, last)
        if role == Qt.ItemDataRole.ToolTipRole:
            finite = values[np.isfinite(values)]
            if not len(finite):
                return f"{title}: does not apply to {node}"
            return (f"{title} of {node}: now {_fmt(key, last)}, range {_fmt(key, float(finite.min()))}"
                    f" … {_fmt(key, float(finite.max()))} over {len(values)} probe rounds")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        titles = ["Layer"] + [m[1] for m in MEASURES] + ["Status"]
        tips = ["Node id (label)"] + [m[3] for m in MEASURES] + ["Flags raised by the engine"]
        if role == Qt.ItemDataRole.DisplayRole:
            return titles[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return tips[section]
        return None


class SparklineDelegate(QStyledItemDelegate):
    """The history as a small line (log scale for norms), the latest value at the right."""

    TEXT_W = 52

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        model = index.model()
        spark = model.spark(index) if isinstance(model, HealthModel) else None
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text, option.text = option.text, ""
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        rect = option.rect.adjusted(4, 3, -4, -3)
        text_rect = QRectF(rect.right() - self.TEXT_W, rect.top(), self.TEXT_W, rect.height())
        painter.save()
        painter.setPen(option.palette.text().color())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
        if spark is not None:
            values, log = spark
            line = QRectF(rect.left(), rect.top() + 1, rect.width() - self.TEXT_W - 6, rect.height() - 2)
            points = _polyline(np.asarray(values, dtype=np.float64), log, line)
            if len(points) > 1:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.setPen(QPen(option.palette.highlight().color(), 1.2))
                painter.drawPolyline(QPolygonF(points))
        painter.restore()


def _polyline(values: np.ndarray, log: bool, rect: QRectF) -> list[QPointF]:
    ok = np.isfinite(values) & ((values > 0) if log else True)
    if ok.sum() < 2 or rect.width() < 8:
        return []
    x = np.nonzero(ok)[0].astype(np.float64)
    y = np.log10(values[ok]) if log else values[ok]
    lo, hi = float(y.min()), float(y.max())
    span = hi - lo if hi > lo else 1.0
    xs = rect.left() + (x - x[0]) / max(x[-1] - x[0], 1.0) * rect.width()
    ys = rect.bottom() - ((y - lo) / span if hi > lo else np.full_like(y, 0.5)) * rect.height()
    return [QPointF(a, b) for a, b in zip(xs, ys)]


class HealthTable(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model_ = HealthModel()
        self.setModel(self.model_)
        self.setItemDelegate(SparklineDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(0, 80)
        for c in range(1, len(MEASURES) + 1):
            header.resizeSection(c, 108)

    def set_history(self, nodes: Sequence[str], steps: np.ndarray, metrics: dict[str, np.ndarray],
                    flags: dict[str, str], labels: dict[str, str] | None = None) -> None:
        self.model_.set_history(nodes, steps, metrics, flags, labels)

    def selected_node(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return rows[0].data(Qt.ItemDataRole.UserRole) if rows else None
