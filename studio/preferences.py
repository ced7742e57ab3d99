"""Preferences: data and cache folders, default device, workers, autosave, device peak figures.

Measuring and clearing the cache walk the disk, so they run on the thread pool; the dialog
shows "measuring…" until the size arrives. Changes apply on OK (``AppSettings`` then tells
every window through its ``changed`` signal).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Sequence

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from studio import device_peaks
from studio.settings import AppSettings
from widgets import background, units


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under ``path``; runs on a worker thread."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
                files += 1
            except OSError:
                pass
    return total, files


def unsafe_to_clear(path: Path) -> str | None:
    """Why clearing ``path`` would be a mistake (a home or system folder), or None."""
    p = path.expanduser().resolve()
    if p == Path(p.anchor) or p == Path.home().resolve() or len(p.parts) <= 2:
        return f"{p} is not a cache folder; choose a folder of its own"
    return None


def clear_folder(path: Path) -> None:
    """Delete everything inside ``path`` (the folder itself stays)."""
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            try:
                child.unlink()
            except OSError:
                pass


class PathRow(QWidget):
    def __init__(self, value: str, title: str) -> None:
        super().__init__()
        self.edit = QLineEdit(value)
        self.edit.setMinimumWidth(320)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.title = title
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.title, self.edit.text())
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class PeakTable(QTableWidget):
    """The device peak table: name, TFLOP/s, GB/s, kind."""

    def __init__(self, rows: Sequence[device_peaks.DevicePeak]) -> None:
        super().__init__(0, 4)
        self.setHorizontalHeaderLabels(["Device", "Peak TFLOP/s", "Bandwidth GB/s", "Kind"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            self.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.set_rows(rows)

    def set_rows(self, rows: Sequence[device_peaks.DevicePeak]) -> None:
        self.setRowCount(0)
        for r in rows:
            self.add_row(r.name, r.flops / 1e12, r.bandwidth / 1e9, r.kind)

    def add_row(self, name: str = "New device", tflops: float = 1.0, gbs: float = 100.0, kind: str = "gpu") -> None:
        i = self.rowCount()
        self.insertRow(i)
        self.setItem(i, 0, QTableWidgetItem(name))
        for c, v, decimals in ((1, tflops, 2), (2, gbs, 0)):
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            spin.setRange(10.0 ** -decimals, 1e6)
            spin.setValue(v)
            spin.setFrame(False)
            self.setCellWidget(i, c, spin)
        combo = QComboBox()
        combo.addItems(["gpu", "cpu"])
        combo.setCurrentText(kind)
        combo.setFrame(False)
        self.setCellWidget(i, 3, combo)

    def rows(self) -> list[dict]:
        out = []
        for i in range(self.rowCount()):
            item = self.item(i, 0)
            name = item.text().strip() if item else ""
            if not name:
                continue
            out.append({"name": name, "flops": self.cellWidget(i, 1).value() * 1e12,
                        "bandwidth": self.cellWidget(i, 2).value() * 1e9, "kind": self.cellWidget(i, 3).currentText()})
        return out


class PreferencesDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None,
                 devices: Sequence[dict] = ()) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Preferences")
        self._size_task = background.Latest()
        tabs = QTabWidget()

        general = QWidget()
        form = QFormLayout(general)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.data_root = PathRow(settings.data_root, "Folder for downloaded datasets")
        self.data_root.setToolTip("Where torchvision datasets (MNIST, CIFAR10…) are downloaded and read")
        form.addRow("Dataset folder", self.data_root)
        self.cache_dir = PathRow(settings.cache_dir, "Cache folder")
        self.cache_dir.setToolTip("Generated datasets and previews are cached here")
        form.addRow("Cache folder", self.cache_dir)
        self.cache_size = QLabel("measuring…")
        self.cache_size.setObjectName("cache_size")
        self.clear_button = QPushButton("Clear cache")
        self.clear_button.setToolTip("Delete everything in the cache folder (it is rebuilt when needed)")
        self.clear_button.clicked.connect(self.clear_cache)
        row = QHBoxLayout()
        row.addWidget(self.cache_size, 1)
        row.addWidget(self.clear_button)
        form.addRow("", row)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", "cpu", "cuda"] + [str(d.get("id")) for d in devices if d.get("id")])
        self.device.setCurrentText(settings.default_device)
        self.device.setToolTip("The device new projects train on when their training.device is auto")
        form.addRow("Default device", self.device)
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.workers.setValue(settings.worker_threads)
        self.workers.setToolTip("Processes that load and augment data while training (0: none, load inline)")
        form.addRow("Data-loading workers", self.workers)
        self.autosave = QSpinBox()
        self.autosave.setRange(5, 3600)
        self.autosave.setSuffix(" s")
        self.autosave.setValue(int(round(settings.autosave_seconds)))
        self.autosave.setToolTip("How often unsaved work is written to a recovery file")
        form.addRow("Autosave every", self.autosave)
        tabs.addTab(general, "General")

        peaks = QWidget()
        pv = QVBoxLayout(peaks)
        note = QLabel("Peak FP32 compute and memory bandwidth draw the roofline in the Model summary. "
                      "Edit the figures for your hardware, or add a device.")
        note.setWordWrap(True)
        pv.addWidget(note)
        self.peaks = PeakTable(device_peaks.from_rows(settings.device_peaks))
        pv.addWidget(self.peaks, 1)
        buttons_row = QHBoxLayout()
        add, remove, restore = QPushButton("Add"), QPushButton("Remove"), QPushButton("Restore defaults")
        add.clicked.connect(lambda: self.peaks.add_row())
        remove.clicked.connect(lambda: self.peaks.removeRow(self.peaks.currentRow())
                               if self.peaks.currentRow() >= 0 else None)
        restore.clicked.connect(lambda: self.peaks.set_rows(device_peaks.BUILTIN))
        for b in (add, remove):
            buttons_row.addWidget(b)
        buttons_row.addStretch(1)
        buttons_row.addWidget(restore)
        pv.addLayout(buttons_row)
        tabs.addTab(peaks, "Devices")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)
        self.resize(640, 460)
        self.cache_dir.edit.editingFinished.connect(self.measure_cache)
        self.measure_cache()

    # -- cache -------------------------------------------------------------------------
    def measure_cache(self) -> background.Task:
        path = Path(self.cache_dir.text()).expanduser()
        self.cache_size.setText("measuring…")
        return self._size_task.start(lambda task: folder_size(path) if path.is_dir() else (0, 0),
                                     on_done=self._show_size,
                                     on_error=lambda e: self.cache_size.setText(f"cannot measure: {e}"))

    def _show_size(self, result: tuple[int, int]) -> None:
        size, files = result
        self.cache_size.setText(f"{units.binary_bytes(size)} in {files:,} file{'s' if files != 1 else ''}")
        self.clear_button.setEnabled(files > 0)

    def clear_cache(self) -> background.Task | None:
        path = Path(self.cache_dir.text()).expanduser()
        why = unsafe_to_clear(path)
        if why:
            QMessageBox.warning(self, "Cache not cleared", why)
            return None
        answer = QMessageBox.question(self, "Clear cache", f"Delete everything in {path}?\n"
                                      "Cached datasets are generated again when needed.")
        if answer != QMessageBox.StandardButton.Yes:
            return None
        self.clear_button.setEnabled(False)
        self.cache_size.setText("clearing…")
        return background.start(lambda task: clear_folder(path), on_done=lambda _r: self.measure_cache(),
                                on_error=lambda e: self.cache_size.setText(f"not cleared: {e}"))

    # -- apply -------------------------------------------------------------------------
    def accept(self) -> None:
        s = self.settings
        s.data_root = self.data_root.text()
        s.cache_dir = self.cache_dir.text()
        s.default_device = self.device.currentText().strip() or "auto"
        s.worker_threads = self.workers.value()
        s.autosave_seconds = float(self.autosave.value())
        rows = self.peaks.rows()
        builtin = [r.to_row() for r in device_peaks.BUILTIN]
        s.device_peaks = None if rows == builtin else rows
        self._size_task.cancel()
        super().accept()

    def reject(self) -> None:
        self._size_task.cancel()
        super().reject()
