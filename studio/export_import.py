"""File → Export… and File → Import…: the network out as PyTorch code, ONNX, TorchScript or a
torch.export program (optionally with a run's trained weights), and a torchvision model or a
class from a .py file in as an editable, laid-out graph.

Both run in the engine service (requests ``export`` and ``import_model``): torch never loads
in the window's process, and the window stays responsive while a model is traced or an
artefact verified. The dialogs open without blocking (``open``), show a busy bar while the
service works, and put the service's message inline when something is wrong, so the user can
fix the field and try again. An imported model opens as a new, unsaved document: in this
window when it holds nothing worth keeping, else in a new window.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton, QRadioButton,
                               QVBoxLayout, QWidget)

from engine.errors import LayerStudioError
from engine.export import FORMATS
from studio.docks.explain_call import ServiceCall, call
from widgets import background
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow

FORMAT_LABELS = {"py": "PyTorch code (.py)", "onnx": "ONNX (.onnx)", "torchscript": "TorchScript (.pt)",
                 "pt2": "torch.export program (.pt2)"}
FORMAT_NOTES = {
    "py": "One standalone module that needs torch alone; with a run's weights, a .pt state dict beside it.",
    "onnx": "Dynamic batch dimension; checked with onnxruntime against the engine's outputs.",
    "torchscript": "A scripted module, loaded back and checked before it is written.",
    "pt2": "A torch.export program, loaded back and checked before it is written.",
}
TORCHVISION = ("resnet18", "resnet50", "vgg11", "alexnet", "squeezenet1_0", "mobilenet_v2", "googlenet",
               "resnet34", "resnet101", "vgg16", "densenet121", "mobilenet_v3_small", "efficientnet_b0",
               "shufflenet_v2_x1_0", "mnasnet1_0", "regnet_y_400mf", "convnext_tiny")
RUN_CODE_WARNING = ("Importing a .py file runs its code (the class is built with no arguments). "
                    "Import only files you trust.")
ERROR_STYLE = "color: #c62828"


def add_menu_actions(window: "MainWindow", menu: QMenu) -> dict[str, QAction]:
    """File → Import… and Export… (added to ``menu`` and to the window, for their shortcuts)."""
    actions = {}
    for name, text, slot, tip in (
            ("import_model", "&Import Model…", lambda: show_import(window),
             "Open a torchvision model or a PyTorch class from a .py file as an editable graph"),
            ("export_model", "&Export…", lambda: show_export(window),
             "Write the network as PyTorch code, ONNX, TorchScript or torch.export, with a run's weights")):
        action = QAction(text, window)
        action.setObjectName(name)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False, s=slot: s())
        window.addAction(action)
        menu.addAction(action)
        actions[name] = action
    return actions


def show_export(window: "MainWindow") -> "ExportDialog":
    dialog = _existing(window, ExportDialog) or ExportDialog(window)
    dialog.open()
    return dialog


def show_import(window: "MainWindow") -> "ImportDialog":
    dialog = _existing(window, ImportDialog) or ImportDialog(window)
    dialog.open()
    return dialog


def _existing(window: "MainWindow", cls: type) -> Any:
    return next((d for d in window.findChildren(cls) if not d.busy), None)


class _ServiceDialog(QDialog):
    """A form, an inline message line, a busy bar, and one action button. Subclasses define
    ``start`` (the button) and ``succeeded(result)``. Closing while the service works loses
    nothing: the result still lands (the status bar says so)."""

    def __init__(self, window: "MainWindow", title: str, action: str) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.call: ServiceCall | None = None
        self.form = QFormLayout()
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: the service reports no fractions for these
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        self.bar.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.go = self.buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("go")
        self.go.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)

    @property
    def busy(self) -> bool:
        return self.call is not None and self.call.active

    def say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def run(self, kind: str, payload: dict, working: str) -> ServiceCall:
        self.say(working)
        self.bar.show()
        self.go.setEnabled(False)
        if self.call is not None:
            self.call.deleteLater()  # the previous attempt's, answered
        self.call = call(self.window_.studio, kind, payload, self)
        self.call.done.connect(self.succeeded)
        self.call.failed.connect(self._failed)
        self.call.finished.connect(self._finished)
        return self.call

    def _failed(self, message: str, details: str) -> None:
        self.say(message, error=True)
        self.message.setToolTip(details)

    def _finished(self) -> None:
        self.bar.hide()
        self.go.setEnabled(True)


# -- export ------------------------------------------------------------------------------
class ExportDialog(_ServiceDialog):
    exported = Signal(list)  # the files written

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window, "Export", "Export")
        self.format = QComboBox()
        self.format.setObjectName("format")
        for key, label in FORMAT_LABELS.items():
            self.format.addItem(label, key)
        self.note = muted(QLabel())
        self.note.setWordWrap(True)
        self.output = QLineEdit()
        self.output.setObjectName("output")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        self.weights = QComboBox()
        self.weights.setObjectName("weights")
        self.weights.setToolTip("Freshly initialized weights, or the trained weights of a run of this network")
        self.checkpoint = QComboBox()
        self.checkpoint.setObjectName("checkpoint")
        self.checkpoint.addItem("best", "best")
        self.checkpoint.addItem("last", "last")
        self.checkpoint.setToolTip("The run's best checkpoint (by validation) or its latest one")
        w_row = QHBoxLayout()
        w_row.addWidget(self.weights, 1)
        w_row.addWidget(QLabel("checkpoint"))
        w_row.addWidget(self.checkpoint)
        self.form.addRow("Format", self.format)
        self.form.addRow("", self.note)
        self.form.addRow("File", out_row)
        self.form.addRow("Weights", w_row)
        self._fill_runs()
        self.weights.currentIndexChanged.connect(self._weights_changed)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self._weights_changed()

    def _fill_runs(self) -> None:
        self.weights.clear()
        self.weights.addItem("Untrained (fresh initialization)", None)
        doc = self.window_.document
        mine = []
        for handle in self.window_.runs.runs():
            if handle.run_dir is None or handle.state in ("new", "queued"):
                continue
            same = (handle.project or {}).get("name") == doc.project.name
            mine.append((not same, -handle.created, handle))
        for _, _, handle in sorted(mine, key=lambda t: t[:2]):
            self.weights.addItem(f"{handle.name} ({handle.state})", str(handle.run_dir))
        self.weights.addItem("Other run folder…", "")
        current = self.window_.runs.current()
        if current is not None and current.run_dir is not None:
            i = self.weights.findData(str(current.run_dir))
            if i >= 0:
                self.weights.setCurrentIndex(i)

    def _weights_changed(self) -> None:
        data = self.weights.currentData()
        if data == "":  # "Other run folder…"
            folder = QFileDialog.getExistingDirectory(self, "Run folder with the weights")
            if folder:
                self.weights.insertItem(self.weights.count() - 1, Path(folder).name, folder)
                self.weights.setCurrentIndex(self.weights.count() - 2)
            else:
                self.weights.setCurrentIndex(0)
            return
        self.checkpoint.setEnabled(bool(data))
        self._format_changed()

    def fmt(self) -> str:
        return self.format.currentData()

    def _format_changed(self) -> None:
        fmt = self.fmt()
        note = FORMAT_NOTES[fmt]
        if fmt == "py" and self.weights.currentData():
            note += " The weights go to a .pt file of the same name."
        self.note.setText(note)
        text = self.output.text().strip()
        if not text:
            doc = self.window_.document
            folder = doc.path.resolve().parent if doc.path else Path.home()
            stem = re.sub(r"[^\w.-]+", "_", doc.project.name or "model").strip("._") or "model"
            self.output.setText(str(folder / f"{stem}{FORMATS[fmt]}"))
        else:
            path = Path(text)
            if path.suffix in FORMATS.values():
                self.output.setText(str(path.with_suffix(FORMATS[fmt])))

    def _browse(self) -> None:
        fmt = self.fmt()
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output.text(),
                                              f"{FORMAT_LABELS[fmt]} (*{FORMATS[fmt]});;All files (*)")
        if path:
            if not Path(path).suffix:
                path += FORMATS[fmt]
            self.output.setText(path)

    def payload(self) -> dict:
        run_dir = self.weights.currentData() or None
        payload = {"project": self.window_.document.to_dict(), "to": self.fmt(),
                   "output": str(Path(self.output.text().strip()).expanduser())}
        if run_dir:
            payload["weights_run_dir"] = run_dir
            payload["checkpoint"] = self.checkpoint.currentData()
        return payload

    def start(self) -> None:
        if not self.output.text().strip():
            self.say("Choose the file to write.", error=True)
            return
        self.run("export", self.payload(), "Exporting and checking the result against the engine…")

    def succeeded(self, result: dict) -> None:
        files = [str(f) for f in result.get("files") or [self.payload()["output"]]]
        diff = result.get("max_difference")
        check = f" Checked against the engine: largest difference {diff:.2g}." if isinstance(
            diff, (int, float)) else ""
        weights = "trained weights" if result.get("trained") else "untrained weights"
        names = " and ".join(Path(f).name for f in files)
        self.say(f"Wrote {names} ({weights}).{check}")
        self.message.setToolTip("\n".join(files))
        self.window_.statusBar().showMessage(f"Exported {names}", 6000)
        self.exported.emit(files)


# -- import ------------------------------------------------------------------------------
def parse_shape(text: str) -> list[int] | None:
    """"3,224,224" / "3x224x224" / "" (None: the model's default) → [3, 224, 224]."""
    text = text.strip().strip("[]()").strip()
    if not text:
        return None
    parts = [p for p in re.split(r"\s*[,x×]\s*|\s+", text) if p]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) > 8:
        raise ValueError(f"the input shape is positive sizes such as 3,224,224, not {text!r}")
    return [int(p) for p in parts]


def module_classes(path: str) -> list[str]:
    """Classes defined at the top of a .py file, read without running it (off the GUI thread)."""
    import ast  # only when a file is chosen: not at start-up
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ValueError(f"{Path(path).name} is not valid Python (line {e.lineno})") from None
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


class ImportDialog(_ServiceDialog):
    imported = Signal(object)  # the MainWindow showing the imported document

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window, "Import model", "Import")
        self.kind = QButtonGroup(self)
        self.from_tv = QRadioButton("torchvision model")
        self.from_tv.setObjectName("from_torchvision")
        self.from_py = QRadioButton("PyTorch class in a .py file")
        self.from_py.setObjectName("from_python")
        self.kind.addButton(self.from_tv)
        self.kind.addButton(self.from_py)
        self.from_tv.setChecked(True)
        self.tv_name = QComboBox()
        self.tv_name.setObjectName("torchvision_name")
        self.tv_name.setEditable(True)
        self.tv_name.addItems(TORCHVISION)
        self.tv_name.setToolTip("Any classification model of torchvision.models (built without weights)")
        self.py_file = QLineEdit()
        self.py_file.setObjectName("python_file")
        self.py_file.setPlaceholderText("model.py")
        self.py_file.editingFinished.connect(self._list_classes)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.py_class = QComboBox()
        self.py_class.setObjectName("python_class")
        self.py_class.setEditable(True)
        self.py_class.setToolTip("The nn.Module subclass to import; it is built with no arguments")
        self.shape = QLineEdit()
        self.shape.setObjectName("input_shape")
        self.shape.setPlaceholderText("3,224,224")
        self.shape.setToolTip("One input sample without the batch dimension (C,H,W); empty: the model's default")
        self.warning = QLabel(f"⚠ {RUN_CODE_WARNING}")
        self.warning.setObjectName("run_code_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #ef6c00")
        file_row = QHBoxLayout()
        file_row.addWidget(self.py_file, 1)
        file_row.addWidget(browse)
        self.py_box = QWidget()
        py_form = QFormLayout(self.py_box)
        py_form.setContentsMargins(20, 0, 0, 0)
        py_form.addRow("File", file_row)
        py_form.addRow("Class", self.py_class)
        self.form.addRow(self.from_tv)
        self.form.addRow("Model", self.tv_name)
        self.form.addRow(self.from_py)
        self.form.addRow(self.py_box)
        self.form.addRow(self.warning)
        self.form.addRow("Input shape", self.shape)
        self.kind.buttonToggled.connect(lambda *_: self._kind_changed())
        self._kind_changed()
        self._classes = background.Latest()

    def _kind_changed(self) -> None:
        py = self.from_py.isChecked()
        self.tv_name.setEnabled(not py)
        self.py_box.setEnabled(py)
        self.warning.setVisible(py)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python file with the model", self.py_file.text(),
                                              "Python files (*.py);;All files (*)")
        if path:
            self.py_file.setText(path)
            self.from_py.setChecked(True)
            self._list_classes()

    def _list_classes(self) -> None:
        path = self.py_file.text().strip()
        if not path:
            return
        self._classes.start(lambda task: module_classes(path), on_done=self._set_classes,
                            on_error=lambda e: self.say(f"{Path(path).name}: {e}" if not isinstance(
                                e, ValueError) else str(e), error=True))

    def _set_classes(self, names: list[str]) -> None:
        typed = self.py_class.currentText()
        self.py_class.clear()
        self.py_class.addItems(names)
        if typed:
            self.py_class.setCurrentText(typed)
        elif names:
            self.py_class.setCurrentIndex(len(names) - 1)  # the network is usually defined last

    def source(self) -> str:
        if self.from_tv.isChecked():
            name = self.tv_name.currentText().strip()
            if not name:
                raise ValueError("Name a torchvision model, e.g. resnet18.")
            return f"torchvision:{name}"
        path, cls = self.py_file.text().strip(), self.py_class.currentText().strip()
        if not path:
            raise ValueError("Choose the .py file that defines the model.")
        if not cls:
            raise ValueError("Name the class to import.")
        return f"{Path(path).expanduser()}:{cls}"

    def payload(self) -> dict:
        return {"source": self.source(), "input_shape": parse_shape(self.shape.text())}

    def start(self) -> None:
        try:
            payload = self.payload()
        except ValueError as e:
            self.say(str(e), error=True)
            return
        self.run("import_model", payload, "Tracing the model and laying it out…")

    def succeeded(self, result: dict) -> None:
        project = result.get("project", result)
        try:
            window = open_project(self.window_, project)
        except LayerStudioError as e:
            self.say(e.message, error=True)
            return
        nodes = len(window.document.graph.nodes)
        window.statusBar().showMessage(f"Imported {window.document.project.name}: {nodes} layers", 6000)
        self.imported.emit(window)
        self.accept()


def open_project(window: "MainWindow", project_dict: dict) -> "MainWindow":
    """Open ``project_dict`` as a new, unsaved document: in ``window`` when its document holds
    nothing to keep (unmodified, nothing to undo), else in a new window. Returns that window."""
    from engine.project.io import from_dict
    from studio.document import Document
    doc = Document(from_dict(project_dict))
    current = window.document
    if not current.is_modified and current.undo_stack.count() == 0:
        window._show_new(doc)
        return window
    new = window.studio.new_window(doc)
    new.canvas.fit()
    return new
