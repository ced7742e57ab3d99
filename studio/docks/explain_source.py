"""The Explain dock's "what to explain" strip: a run, its checkpoint (best or last), and an
image — a file (picked, or dropped on the window) or a sample of the run's dataset by split
and index. Every tab builds its request from ``run_payload()`` and ``image_payload()``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QWidget)

from studio.docks.explain_drop import IMAGE_SUFFIXES, is_image_file  # noqa: F401 (re-exported)
from widgets import background
from widgets.image_grid import to_qimage
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

THUMB = 56
USABLE = ("running", "paused", "stopping", "finished", "stopped", "failed", "interrupted")
IMAGE_FILTER = "Images (" + " ".join(f"*{e}" for e in IMAGE_SUFFIXES) + ");;All files (*)"
SPLITS = ("val", "train", "test")


def _thumbnail(path: str) -> QImage:
    """Read a small version of an image file (worker thread; QImage is safe off the GUI thread)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > 4 * THUMB:
        reader.setScaledSize(size.scaled(QSize(4 * THUMB, 4 * THUMB), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise ValueError(reader.errorString())
    return image


class SourcePicker(QWidget):
    changed = Signal()  # the run, checkpoint or image changed
    run_changed = Signal(object)  # RunHandle | None

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.image_path: str | None = None
        self.split: str | None = None
        self.index = 0
        self._thumb = background.Latest()
        self._picked: Any = None  # the run the tabs were last told about

        self.run = QComboBox()
        self.run.setObjectName("explain_run")
        self.run.setToolTip("The trained network to explain (its own graph snapshot and classes)")
        self.run.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run.setMinimumContentsLength(14)
        self.open_run = QPushButton("Open…")
        self.open_run.setToolTip("Open a run folder (from this app, the command line or another machine)")
        self.open_run.clicked.connect(self._open_run)
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName("explain_checkpoint")
        self.checkpoint.addItem("best", "best")
        self.checkpoint.addItem("last", "last")
        self.checkpoint.setToolTip("The best checkpoint by validation, or the latest one")
        run_row = QHBoxLayout()
        run_row.setContentsMargins(0, 0, 0, 0)
        run_row.addWidget(self.run, 1)
        run_row.addWidget(self.open_run)
        run_row.addWidget(self.checkpoint)

        self.thumb = QLabel()
        self.thumb.setObjectName("explain_thumb")
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setFrameShape(QLabel.Shape.StyledPanel)
        self.image_label = muted(QLabel("no image: pick a file, drop one on the window, or use the dataset"))
        self.image_label.setObjectName("explain_image")
        self.image_label.setWordWrap(True)
        pick = QPushButton("File…")
        pick.setObjectName("explain_pick_file")
        pick.setToolTip("Choose an image file (or drop one on the window)")
        pick.clicked.connect(self._pick_file)
        self.split_box = QComboBox()
        self.split_box.setObjectName("explain_split")
        self.split_box.addItems(SPLITS)
        self.split_box.setToolTip("Which part of the run's dataset")
        self.index_box = QSpinBox()
        self.index_box.setObjectName("explain_index")
        self.index_box.setRange(0, 10**7)
        self.index_box.setToolTip("Position of the sample in that split")
        use = QPushButton("Use sample")
        use.setObjectName("explain_use_sample")
        use.setToolTip("Explain this sample of the run's dataset")
        use.clicked.connect(lambda: self.set_sample(self.split_box.currentText(), self.index_box.value()))
        image_row = QHBoxLayout()
        image_row.setContentsMargins(0, 0, 0, 0)
        image_row.addWidget(self.thumb)
        image_row.addWidget(self.image_label, 1)
        pickers = QHBoxLayout()
        pickers.setContentsMargins(0, 0, 0, 0)
        pickers.addWidget(pick)
        pickers.addSpacing(10)
        pickers.addWidget(self.split_box)
        pickers.addWidget(self.index_box)
        pickers.addWidget(use)
        pickers.addStretch(1)

        form = QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 0)
        form.addRow("Run", run_row)
        form.addRow("Image", image_row)
        form.addRow("", pickers)

        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(0)
        self._refill.timeout.connect(self._fill_runs)
        runs = window.runs
        runs.runs_changed.connect(self._fill_runs)
        runs.current_changed.connect(self._current_run)
        self.run.currentIndexChanged.connect(self._run_picked)
        self.checkpoint.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self._fill_runs()

    # -- runs -------------------------------------------------------------------------
    def handle(self) -> "RunHandle | None":
        h = self.run.currentData()
        return h if h is not None and shiboken6.isValid(h) else None

    def _usable(self) -> list["RunHandle"]:
        return [h for h in self.window_.runs.runs() if h.run_dir is not None and h.state in USABLE]

    def _watch_states(self) -> None:
        """A run read from disk starts "new" and a queued one "queued": list them once usable."""
        for h in self.window_.runs.runs():
            h.state_changed.connect(self._state_changed, Qt.ConnectionType.UniqueConnection)

    def _state_changed(self, _state: str) -> None:
        if not self._refill.isActive():
            self._refill.start()

    def _fill_runs(self) -> None:
        self._watch_states()
        keep = self.handle() or self.window_.runs.current()
        self.run.blockSignals(True)
        self.run.clear()
        for h in sorted(self._usable(), key=lambda h: -h.created):
            self.run.addItem(f"{h.name} ({h.state})", h)
            self.run.setItemData(self.run.count() - 1, str(h.run_dir), Qt.ItemDataRole.ToolTipRole)
        if not self.run.count():
            self.run.addItem("no run yet: train the network, or open a run folder", None)
        i = self.run.findData(keep) if keep is not None else -1
        self.run.setCurrentIndex(max(0, i))
        self.run.blockSignals(False)
        if self.handle() is not self._picked:
            self._run_picked()

    def _current_run(self, handle: Any) -> None:
        if handle is not None and self.run.findData(handle) < 0:
            self._fill_runs()
        i = self.run.findData(handle) if handle is not None else -1
        if i >= 0:
            self.run.setCurrentIndex(i)

    def _run_picked(self, *_: Any) -> None:
        h = self._picked = self.handle()
        if h is not None:
            counts = {"train": h.config.get("train_samples"), "val": h.config.get("val_samples"),
                      "test": h.config.get("test_samples")}
            n = counts.get(self.split_box.currentText())
            self.index_box.setMaximum(max(0, int(n) - 1) if isinstance(n, int) and n > 0 else 10**7)
        self.run_changed.emit(h)
        self.changed.emit()

    def _open_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open run folder")
        if folder:
            self.open_run_dir(folder)

    def open_run_dir(self, folder: str) -> None:
        from engine.errors import LayerStudioError
        try:
            handle = self.window_.runs.open_run_dir(folder)
        except LayerStudioError as e:
            self.window_.show_error("Cannot open run", e.message, e)
            return
        self._fill_runs()
        self.run.setCurrentIndex(max(0, self.run.findData(handle)))

    def classes(self) -> list[str]:
        h = self.handle()
        return list(h.classes) if h is not None else []

    def run_payload(self) -> dict[str, Any]:
        h = self.handle()
        if h is None:
            raise ValueError("Choose a trained run first (train the network, or open a run folder).")
        return {"run_dir": str(h.run_dir), "checkpoint": self.checkpoint.currentData()}

    # -- the image --------------------------------------------------------------------
    def _pick_file(self) -> None:
        start = str(Path(self.image_path).parent) if self.image_path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Image to explain", start, IMAGE_FILTER)
        if path:
            self.set_image_file(path)

    def set_image_file(self, path: str | Path) -> None:
        """Use an image file (its thumbnail is read off the GUI thread; a file that cannot be
        decoded is still sent: the service's message says what is wrong with it)."""
        self.image_path, self.split = str(path), None
        self.image_label.setText(Path(path).name)
        self.image_label.setToolTip(str(path))
        self.thumb.clear()
        self._thumb.start(lambda task: _thumbnail(str(path)), on_done=self._show_thumb,
                          on_error=lambda e: self.thumb.setText("?"))
        self.changed.emit()

    def set_sample(self, split: str, index: int) -> None:
        self.image_path, self.split, self.index = None, split, int(index)
        self.split_box.setCurrentText(split)
        self.index_box.setValue(int(index))
        self.image_label.setText(f"{split} sample #{index}")
        self.image_label.setToolTip("")
        self.thumb.clear()
        self._thumb.cancel()
        self.changed.emit()

    def show_pixels(self, pixels) -> None:
        """The image as the network saw it (from a reply): the thumbnail of a dataset sample."""
        self._show_thumb(to_qimage(pixels))

    def _show_thumb(self, image: QImage) -> None:
        pm = QPixmap.fromImage(image)
        mode = Qt.TransformationMode.FastTransformation if max(pm.width(), pm.height()) < THUMB \
            else Qt.TransformationMode.SmoothTransformation
        self.thumb.setPixmap(pm.scaled(THUMB - 4, THUMB - 4, Qt.AspectRatioMode.KeepAspectRatio, mode))

    def has_image(self) -> bool:
        return self.image_path is not None or self.split is not None

    def image_payload(self) -> dict[str, Any]:
        if self.image_path is not None:
            return {"image_path": self.image_path}
        if self.split is not None:
            return {"split": self.split, "index": self.index}
        raise ValueError("Choose an image: File…, drop one on the window, or use a dataset sample.")

    def describe_image(self) -> str:
        return Path(self.image_path).name if self.image_path else f"{self.split} #{self.index}"

