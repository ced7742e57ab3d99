"""Dataset: the source, the settings of the ``dataset`` section, and a look at the data.

Opening a dataset (scanning a folder, generating ``builtin:shapes``, reading a torchvision
download) takes seconds, so it always runs on a worker thread with a progress bar; only
plain arrays come back. The panel opens the data the first time it is shown and again
after a change of the source, its settings or the Input shape; an augmentation change only
redraws the augmentation preview. A ``DatasetError`` is shown inline, in the user's terms.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QProgressBar, QPushButton, QScrollArea, QSplitter, QStackedWidget, QTabWidget, QVBoxLayout,
                               QWidget)

from engine.errors import LayerStudioError
from engine.schema import DATASET_SETTINGS
from studio.docks.settings_form import SettingsForm
from widgets import background, units
from widgets.editors import Editor
from widgets.scrolling import vertical_scroll
from widgets.image_grid import ImageGrid

if TYPE_CHECKING:
    from studio.document import Document
    from studio.main_window import MainWindow

BUILTINS = (("shapes", "Shapes (built-in)", "6 classes of drawn shapes, 3×32×32 images, generated offline"),
            ("waves", "Waves (built-in)", "1-D signals: sine, square, sawtooth, chirp, generated offline"))
TORCHVISION = ("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "SVHN", "STL10")
PER_CLASS = 8  # gallery images per class
PREVIEWS = 7  # augmented versions next to the original


def is_augmentation(key: str) -> bool:
    return key.split(".", 1)[0] == "augment"


@dataclass
class Look:
    """What the worker hands to the GUI: plain values and arrays."""

    dataset: Any
    classes: list[str]
    counts: list[int]
    val_counts: list[int]
    gallery: list[tuple[str, list[np.ndarray]]]
    mean: np.ndarray | None
    skipped: list[str]
    summary: str
    train_size: int
    preview: list[np.ndarray] = field(default_factory=list)


def signal_thumbnail(x: np.ndarray, height: int = 44, width: int = 88) -> np.ndarray:
    """A float [C, L] signal drawn as a small RGB image (one colour per channel)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    img = np.full((height, width, 3), 250, np.uint8)
    colors = ((30, 136, 229), (239, 108, 0), (46, 125, 50), (142, 36, 170))
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    scale = (height - 3) / (hi - lo) if hi > lo else 0.0
    cols = np.linspace(0, x.shape[1] - 1, width)
    for c in range(min(len(x), 4)):
        ys = np.interp(cols, np.arange(x.shape[1]), x[c])
        rows = (height - 2 - (ys - lo) * scale).round().astype(int).clip(0, height - 1)
        for col in range(width):  # vertical strokes join the samples: a continuous line
            a, b = rows[col], rows[col - 1] if col else rows[col]
            img[min(a, b):max(a, b) + 1, col] = colors[c]
    return img


def as_picture(x: np.ndarray) -> np.ndarray:
    """Images pass through; a 1-D signal [C, L] becomes a drawing of it."""
    x = np.asarray(x)
    if x.ndim == 2 and x.dtype != np.uint8 and x.shape[0] <= 8 and x.shape[1] > 8:
        return signal_thumbnail(x)
    return x


def _counts(ds: Any, split: str) -> list[int]:
    if split not in getattr(ds, "split_names", ("train",)):
        return []
    return [int(n) for n in ds.class_counts(split).values()]


def open_look(cfg: dict, input_shape: tuple | None, base_dir: str | None, data_root: str, cache_dir: str,
              task: background.Task, augment: dict | None) -> Look:
    """Open the dataset and gather what the panel shows (a worker thread runs this)."""
    from engine.data import open_dataset

    def progress(done: int, total: int, message: str = "") -> None:
        task.report(done / total if total else -1.0, message)

    ds = open_dataset(cfg, input_shape=input_shape, base_dir=base_dir, data_root=data_root,
                      cache_dir=cache_dir, progress=progress)
    classes = [str(c) for c in ds.classes]
    counts, val_counts = _counts(ds, "train"), _counts(ds, "val")
    gallery = []
    for i, name in enumerate(classes):
        if task.cancelled:
            break
        gallery.append((name, [as_picture(im) for im in ds.samples(i, PER_CLASS, "train")]))
    mean = as_picture(ds.mean_image("train"))
    skipped = [" — ".join(map(str, s)) if isinstance(s, (tuple, list)) else str(s) for s in ds.skipped]
    hidden = getattr(ds, "skipped_count", len(skipped)) - len(skipped)
    if hidden > 0:
        skipped.append(f"… and {hidden:,} more (see the log of a training run)")
    splits = ", ".join(f"{n:,} {k}" for k, n in ((k, ds.split_size(k)) for k in ds.split_names))
    summary = f"{len(classes)} classes · {splits} · {units.shape(ds.sample_shape)}"
    if getattr(ds, "warnings", None):
        summary += "\n" + "\n".join(f"ⓘ {w}" for w in ds.warnings)
    look = Look(ds, classes, counts, val_counts, gallery, mean, skipped, summary, sum(counts))
    if augment is not None and sum(counts) and ds.is_image:
        look.preview = preview(ds, 0, augment, 0)
    return look


def preview(ds: Any, index: int, augment: dict, seed: int) -> list[np.ndarray]:
    """The original sample, then augmented versions of it (a worker thread runs this)."""
    from engine.data import augment_preview
    original, _ = ds.sample("train", index)
    return [np.asarray(original)] + [np.asarray(im) for im in augment_preview(ds, index, augment, PREVIEWS, seed)]


class SourceChooser(Editor):
    """The editor of ``dataset.source``: builtin:NAME / folder:PATH / torchvision:NAME."""

    def __init__(self) -> None:
        super().__init__()
        self.kind = QComboBox()
        for name, text, tip in BUILTINS:
            self.kind.addItem(text, f"builtin:{name}")
            self.kind.setItemData(self.kind.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.kind.addItem("Image folder…", "folder:")
        self.kind.setItemData(self.kind.count() - 1, "A folder with one sub-folder of images per class",
                              Qt.ItemDataRole.ToolTipRole)
        self.kind.addItem("torchvision…", "torchvision:")
        self.kind.setItemData(self.kind.count() - 1, "MNIST, CIFAR10… read from (or downloaded to) the dataset "
                              "folder of Preferences", Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip("Where the images come from")
        self.kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind.setMinimumContentsLength(12)
        self.kind.activated.connect(self._kind_chosen)
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("a folder with one sub-folder per class")
        self.folder.editingFinished.connect(self._folder_edited)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QWidget()
        fr = QHBoxLayout(folder_row)
        fr.setContentsMargins(0, 0, 0, 0)
        fr.addWidget(self.folder, 1)
        fr.addWidget(browse)
        self.tv = QComboBox()
        self.tv.setEditable(True)
        self.tv.addItems(TORCHVISION)
        self.tv.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.tv.setMinimumContentsLength(12)
        self.tv.setToolTip("A torchvision dataset class name; downloaded into the dataset folder of Preferences")
        self.tv.activated.connect(lambda _i: self._tv_edited())
        self.tv.lineEdit().editingFinished.connect(self._tv_edited)
        self.detail = QStackedWidget()
        self.detail.addWidget(QWidget())
        self.detail.addWidget(folder_row)
        self.detail.addWidget(self.tv)
        self.detail.setSizePolicy(self.detail.sizePolicy().horizontalPolicy(), self.tv.sizePolicy().verticalPolicy())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.kind)
        layout.addWidget(self.detail)
        self.base_dir: Path | None = None
        self._value = ""

    def _commit(self, source: str) -> None:
        self.committed.emit(source)

    def value(self) -> str:
        return self._value

    def set_value(self, value: Any) -> None:
        self.set_source(value)

    def set_source(self, source: str) -> None:
        source = source if isinstance(source, str) else ""
        self._value = source
        prefix, _, rest = source.partition(":")
        if prefix == "builtin":
            i = self.kind.findData(source)
            self.kind.setCurrentIndex(i if i >= 0 else 0)
            self.detail.setCurrentIndex(0)
        elif prefix == "folder":
            self.kind.setCurrentIndex(self.kind.findData("folder:"))
            if not self.folder.hasFocus():
                self.folder.setText(rest)
            self.detail.setCurrentIndex(1)
        elif prefix == "torchvision":
            self.kind.setCurrentIndex(self.kind.findData("torchvision:"))
            self.tv.setCurrentText(rest)
            self.detail.setCurrentIndex(2)
        self.detail.setVisible(self.detail.currentIndex() != 0)

    def _kind_chosen(self, index: int) -> None:
        data = self.kind.itemData(index)
        if data.startswith("builtin:"):
            self._commit(data)
        elif data == "folder:":
            self.detail.setCurrentIndex(1)
            self.detail.setVisible(True)
            if self.folder.text().strip():
                self._folder_edited()
            else:
                self._browse()
        else:
            self.detail.setCurrentIndex(2)
            self.detail.setVisible(True)
            self._tv_edited()

    def _browse(self) -> None:
        start = self.folder.text() or (str(self.base_dir) if self.base_dir else str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, "Image folder (one sub-folder per class)", start)
        if path:
            self.folder.setText(self._relative(path))
            self._folder_edited()

    def _relative(self, path: str) -> str:
        """Inside the project's folder, a path is kept relative (the project can move)."""
        p = Path(path)
        if self.base_dir is not None:
            try:
                return str(p.resolve().relative_to(self.base_dir.resolve()))
            except ValueError:
                pass
        return str(p)

    def _folder_edited(self) -> None:
        text = self.folder.text().strip()
        if text:
            self._commit(f"folder:{text}")

    def _tv_edited(self) -> None:
        name = self.tv.currentText().strip()
        if name:
            self._commit(f"torchvision:{name}")


class DatasetPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.doc: Document | None = None
        self.look: Look | None = None
        self._wanted = False  # the data must be (re)opened when the panel is next visible
        self._loader = background.Latest()
        self._previewer = background.Latest()
        self._preview_index = 0
        self._preview_seed = 0

        self.source = SourceChooser()
        self.settings_form = SettingsForm("dataset", DATASET_SETTINGS, editors={"source": self.source})
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(16)
        self.status = QLabel()
        self.status.setObjectName("dataset_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.gallery = ImageGrid(cell=44)  # one line per class: as many samples as the width shows
        self.histogram = None  # built after the window's first paint (pyqtgraph takes a while to import)
        self._histogram_page = QWidget()
        QVBoxLayout(self._histogram_page).setContentsMargins(0, 0, 0, 0)
        self.mean = ImageGrid(cell=128)
        self.augmented = ImageGrid(cell=64, wrap=True)
        self.skipped = QListWidget()
        another = QPushButton("Another sample")
        another.setToolTip("Preview the augmentation on a different image")
        another.clicked.connect(self._another_sample)
        aug_page = QWidget()
        av = QVBoxLayout(aug_page)
        note = QLabel("The original (first) and augmented versions, as training will see them:")
        note.setWordWrap(True)
        av.addWidget(note)
        av.addWidget(self.augmented)
        av.addWidget(another, 0, Qt.AlignmentFlag.AlignLeft)
        av.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._scrolling(self.gallery, resizable=True), "Gallery")
        self.tabs.addTab(self._histogram_page, "Classes")
        self.tabs.addTab(self._scrolling(self.mean), "Mean image")
        self.tabs.addTab(aug_page, "Augmentation")
        self.tabs.addTab(self.skipped, "Skipped")
        self.tabs.setMinimumHeight(160)

        # settings above, the data below: both stay in view whatever the dock's height
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.settings_form)
        layout.addStretch(1)
        scroll = vertical_scroll(page)
        data = QWidget()
        dv = QVBoxLayout(data)
        dv.setContentsMargins(8, 4, 8, 4)
        dv.setSpacing(4)
        dv.addWidget(self.progress)
        dv.addWidget(self.status)
        dv.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(data)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)
        self.progress.hide()

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.reload)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(120)
        self._preview_timer.timeout.connect(self.update_preview)
        window.document_changed.connect(self.set_document)
        self.set_document(window.document)
        window.when_painted(self.build_histogram)

    def build_histogram(self) -> None:
        if self.histogram is not None:
            return
        from widgets.histogram import BarChart
        self.histogram = BarChart()
        self._histogram_page.layout().addWidget(self.histogram)
        self.histogram.show()  # a child added to a visible parent starts hidden
        if self.look is not None:
            self.histogram.set_bars(self.look.classes, self.look.counts)

    @staticmethod
    def _scrolling(widget: QWidget, resizable: bool = False) -> QScrollArea:
        if resizable:  # the content takes the width and scrolls down
            return vertical_scroll(widget)
        area = QScrollArea()
        area.setWidget(widget)
        area.setFrameShape(QFrame.Shape.NoFrame)
        return area

    # -- document ----------------------------------------------------------------------
    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            self.doc.setting_changed.disconnect(self._setting_changed)
            self.doc.graph.params_changed.disconnect(self._params_changed)
        self.doc = doc
        doc.setting_changed.connect(self._setting_changed)
        doc.graph.params_changed.connect(self._params_changed)
        self.settings_form.set_document(doc)
        self.source.base_dir = doc.path.parent if doc.path else None
        self.window_.dataset_size_changed.emit(None)
        self.request_reload()

    def _setting_changed(self, section: str, key: str) -> None:
        if section != "dataset":
            return
        if is_augmentation(key):
            self._preview_timer.start()
        else:
            self.request_reload()

    def _params_changed(self, node_id: str) -> None:
        node = self.doc.graph.nodes.get(node_id)
        if node is not None and node.type == "Input":
            self.request_reload()  # the data is resized/converted to the input shape

    # -- loading -----------------------------------------------------------------------
    def request_reload(self) -> None:
        self._wanted = True
        if self.on_screen():
            self._timer.start()

    def on_screen(self) -> bool:
        """Visible to the user (a dock in a tab that is not current is "visible" but off screen)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def on_dock_visibility(self, visible: bool) -> None:
        """Called by the dock when its tab is brought up or put away."""
        if visible and self._wanted:
            self._timer.start(0)

    def augment_settings(self) -> dict:
        value = self.doc.setting("dataset", "augment", None)
        return copy.deepcopy(value) if isinstance(value, dict) else {}

    def reload(self) -> background.Task:
        self._timer.stop()
        self._wanted = False
        self._previewer.cancel()
        doc = self.doc
        cfg = copy.deepcopy(doc.project.dataset)
        shape = doc.project.input_shape()
        base = str(doc.path.parent) if doc.path else None
        prefs = self.window_.studio.settings
        data_root, cache_dir = prefs.data_root, prefs.cache_dir
        augment = self.augment_settings()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Opening the dataset…")
        self.progress.show()
        self.status.setStyleSheet("")
        self.status.setText("Opening the dataset…")
        return self._loader.start(
            lambda task: open_look(cfg, shape, base, data_root, cache_dir, task, augment),
            on_done=self._show, on_error=self._failed, on_progress=self._progress)

    def _progress(self, fraction: float, text: str) -> None:
        if fraction < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(text or "%p%")

    def _show(self, look: Look) -> None:
        self.look = look
        self.progress.hide()
        self.status.setStyleSheet("")
        self.status.setText(look.summary + (f" · {len(look.skipped)} skipped file"
                                            f"{'s' if len(look.skipped) != 1 else ''}" if look.skipped else ""))
        self.gallery.set_rows(look.gallery)
        if self.histogram is not None:
            self.histogram.set_bars(look.classes, look.counts)
        self.mean.set_rows([("", [look.mean])] if look.mean is not None else [])
        self.mean.adjustSize()
        self._show_preview(look.preview)
        self.skipped.clear()
        self.skipped.addItems(look.skipped or [])
        self.tabs.setTabText(4, f"Skipped ({len(look.skipped)})")
        self.window_.dataset_size_changed.emit(look.train_size)

    def _failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self.look = None
        self.gallery.clear()
        self.mean.clear()
        self.augmented.clear()
        if self.histogram is not None:
            self.histogram.set_bars([], [])
        self.window_.dataset_size_changed.emit(None)
        self.status.setStyleSheet("color: #c62828;")
        if isinstance(exc, LayerStudioError):
            self.status.setText(f"⚠ {exc.message}")
        elif isinstance(exc, ImportError):
            self.status.setText(f"⚠ The dataset engine is not available: {exc}")
        else:
            self.status.setText("⚠ The dataset could not be opened (Help → Show Log Folder for details).")
            self.window_.show_error("Dataset", "The dataset could not be opened.", exc, context="opening the dataset")

    # -- augmentation preview ----------------------------------------------------------
    def _another_sample(self) -> None:
        if self.look is not None and self.look.train_size:
            self._preview_index = (self._preview_index + 9973) % self.look.train_size
            self._preview_seed += 1
            self.update_preview()

    def update_preview(self) -> background.Task | None:
        self._preview_timer.stop()
        if self.look is None or not self.look.dataset.is_image:
            return None
        ds, augment = self.look.dataset, self.augment_settings()
        index, seed = self._preview_index, self._preview_seed
        return self._previewer.start(lambda task: preview(ds, index, augment, seed),
                                     on_done=self._show_preview, on_error=self._preview_failed)

    def _show_preview(self, images: list[np.ndarray]) -> None:
        captions = [["original"] + [f"augmented #{i}" for i in range(1, len(images))]] if images else None
        self.augmented.set_rows([("", images)] if images else [], captions)

    def _preview_failed(self, exc: BaseException) -> None:
        self.augmented.clear()
        if isinstance(exc, LayerStudioError):
            self.status.setText(f"⚠ Augmentation: {exc.message}")
            self.status.setStyleSheet("color: #c62828;")
        else:
            self.window_.show_error("Augmentation preview", "The preview could not be drawn.", exc)
