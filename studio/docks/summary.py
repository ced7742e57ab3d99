"""Model summary: a per-layer table with totals, and a roofline of the layers on a device.

Numbers come from the document's incremental ``Inference``; the panel refreshes after a
graph edit (coalesced, so a burst of edits costs one refresh). The roofline's device comes
from the peak table (``studio.device_peaks``, edited in Preferences); by default the one
that matches the engine's GPU.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSplitter,
                               QTableView, QVBoxLayout, QWidget)

from studio import device_peaks
from widgets.style import muted
from widgets import units

if TYPE_CHECKING:
    from studio.document import Document
    from studio.main_window import MainWindow

COLUMNS = ("Layer", "Type", "Output shape", "Params", "FLOPs", "FLOP/B", "Activations")
_TIPS = ("The node's label (or id)", "Layer type", "Output shape without the batch dimension",
         "Weights of the layer", "Multiply-add work per sample, forward (multiply-add = 2); element-wise apart",
         "Arithmetic intensity: work per byte moved, at the batch size",
         "Output activation memory at the training batch size")
ERROR_COLOR = QColor("#c62828")


class SummaryModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str], str | None]] = []  # (node id, cells, error)
        self.ids: list[str] = []

    def set_rows(self, rows: list[tuple[str, list[str], str | None]]) -> None:
        if [r[0] for r in rows] != self.ids:
            self.beginResetModel()
            self.rows, self.ids = rows, [r[0] for r in rows]
            self.endResetModel()
            return
        changed = [i for i, (old, new) in enumerate(zip(self.rows, rows)) if old != new]
        self.rows = rows
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node, cells, error = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and error:
            return QBrush(ERROR_COLOR)
        if role == Qt.ItemDataRole.ToolTipRole:
            return error or f"{node}: {cells[1]} → {cells[2]}"
        if role == Qt.ItemDataRole.UserRole:
            return node
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return _TIPS[section]
        return None


class SummaryPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.doc: Document | None = None
        self.model = SummaryModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names take the spare width
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in enumerate((110, 130, 110, 80, 90, 70, 90)):
            self.table.setColumnWidth(col, width)
        self.table.clicked.connect(self._row_clicked)
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.device = QComboBox()
        self.device.setToolTip("Device whose peak compute and memory bandwidth draw the roof "
                               "(figures editable in Preferences)")
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(18)
        self.device.activated.connect(self._device_chosen)
        self.roofline = None  # built after the window's first paint (pyqtgraph takes a while to import)
        self._points: list[tuple[str, float, float]] = []
        self._roof = None

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(4)
        lv.addWidget(self.table)
        lv.addWidget(self.totals)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Roofline on"))
        row.addWidget(self.device, 1)
        rv.addLayout(row)
        self.peak_label = QLabel()
        self.peak_label.setObjectName("peak_label")
        muted(self.peak_label)
        rv.addWidget(self.peak_label)
        self._chart_box = rv
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.refresh)
        self._user_device = window.studio.settings.roofline_device
        self.fill_devices()
        window.studio.settings.changed.connect(self._settings_changed)
        window.studio.devices_changed.connect(lambda _d: self.fill_devices())
        window.document_changed.connect(self.set_document)
        self.set_document(window.document)
        window.when_painted(self.build_chart)

    def build_chart(self) -> None:
        if self.roofline is not None:
            return
        from widgets.roofline import RooflineChart
        self.roofline = RooflineChart()
        self.roofline.point_clicked.connect(self._point_clicked)
        self._chart_box.addWidget(self.roofline, 1)
        self.roofline.show()  # a child added to a visible parent starts hidden
        if self._roof is not None:
            self.roofline.set_roof(*self._roof)
        self.roofline.set_points(self._points)

    def _set_roof(self, name: str, flops: float, bandwidth: float) -> None:
        self._roof = (name, flops, bandwidth)
        self.peak_label.setText(f"peak {units.si(flops, 'FLOP/s')} · memory {units.si(bandwidth, 'B/s')} · "
                                f"ridge at {flops / bandwidth:.3g} FLOP/B "
                                f"<span style='color:#ef6c00'>●</span> memory-bound "
                                f"<span style='color:#1e88e5'>●</span> compute-bound")
        if self.roofline is not None:
            self.roofline.set_roof(name, flops, bandwidth)

    # -- document ----------------------------------------------------------------------
    def _graph_signals(self, graph):
        return (graph.node_added, graph.node_removed, graph.edge_added, graph.edge_removed,
                graph.params_changed, graph.label_changed)

    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            for sig in self._graph_signals(self.doc.graph):
                sig.disconnect(self.schedule)
            self.doc.inference_changed.disconnect(self.schedule)
            self.doc.selection_changed.disconnect(self._selection_changed)
            self.doc.setting_changed.disconnect(self._setting_changed)
        self.doc = doc
        for sig in self._graph_signals(doc.graph):
            sig.connect(self.schedule)
        doc.inference_changed.connect(self.schedule)
        doc.selection_changed.connect(self._selection_changed)
        doc.setting_changed.connect(self._setting_changed)
        self.refresh()

    def schedule(self, *_: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _setting_changed(self, section: str, key: str) -> None:
        if section == "training" and key == "batch_size":
            self.schedule()

    # -- refresh -----------------------------------------------------------------------
    def refresh(self) -> None:
        self._timer.stop()
        doc = self.doc
        infos = doc.inference.all()
        g = doc.graph
        rows, points = [], []
        for n in g.topological_order():
            node, info = g.nodes[n], infos.get(n)
            if info is None:
                continue
            cells = [node.display_name, node.type, units.shape(info.shape) if info.shape else "?",
                     units.si(info.params) if info.params is not None else "—",
                     units.si(info.flops) if info.flops is not None else "—",
                     f"{info.intensity:.3g}" if info.intensity else "—",
                     units.binary_bytes(info.activation_bytes)]
            rows.append((n, cells, info.error))
            if info.intensity and info.flops is not None:
                work = (info.flops + (info.elementwise or 0)) * doc.inference.batch_size
                points.append((node.display_name, info.intensity, work))
        self.model.set_rows(rows)
        self._points = points
        if self.roofline is not None:
            self.roofline.set_points(points)
        t = doc.inference.totals()
        b = doc.inference.batch_size
        text = (f"<b>{t.params:,}</b> parameters ({units.binary_bytes(t.weight_bytes)}) · "
                f"<b>{units.si(t.flops, 'FLOP')}</b> per sample (+ {units.si(t.elementwise)} element-wise) · "
                f"activations {units.binary_bytes(t.activation_bytes)} at batch {b}")
        if not t.complete:
            unknown = sum(1 for i in infos.values() if i.out is None)
            text += f" · <span style='color:#c62828'>{unknown} layer{'s' if unknown != 1 else ''} unknown</span>"
        self.totals.setText(text)
        self._selection_changed()

    def row_of(self, node_id: str) -> int:
        return self.model.ids.index(node_id) if node_id in self.model.ids else -1

    def _selection_changed(self) -> None:
        sel = self.doc.selection
        row = self.row_of(sel[0]) if len(sel) == 1 else -1
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.table.clearSelection()

    def _row_clicked(self, index: QModelIndex) -> None:
        node = self.model.data(index, Qt.ItemDataRole.UserRole)
        if node:
            self.window_.focus_node(node)

    def _point_clicked(self, name: str) -> None:
        for n, node in self.doc.graph.nodes.items():
            if node.display_name == name:
                self.window_.focus_node(n)
                return

    # -- devices -----------------------------------------------------------------------
    def table_rows(self) -> list[device_peaks.DevicePeak]:
        return device_peaks.from_rows(self.window_.studio.settings.device_peaks)

    def fill_devices(self) -> None:
        table = self.table_rows()
        self.device.blockSignals(True)
        self.device.clear()
        for row in table:
            self.device.addItem(row.name, row)
        self.device.blockSignals(False)
        chosen = next((r for r in table if r.name == self._user_device), None) or self._engine_default(table)
        if chosen is not None:
            self.device.setCurrentIndex(table.index(chosen))
            self._set_roof(chosen.name, chosen.flops, chosen.bandwidth)

    def _engine_default(self, table: list[device_peaks.DevicePeak]) -> device_peaks.DevicePeak | None:
        for d in self.window_.studio.devices:
            kind = "cpu" if d.get("kind") == "cpu" else "gpu"
            match = device_peaks.best_match(table, str(d.get("name", "")), kind)
            if match is not None and kind == "gpu":
                return match
        return device_peaks.best_match(table, "", "cpu") or (table[0] if table else None)

    def _device_chosen(self, index: int) -> None:
        row = self.device.itemData(index)
        if row is not None:
            self._user_device = row.name
            self.window_.studio.settings.roofline_device = row.name
            self._set_roof(row.name, row.flops, row.bandwidth)

    def _settings_changed(self, key: str) -> None:
        if key == "prefs/device_peaks":
            self.fill_devices()
