"""The main window: the graph canvas in the centre, the docks around it, menus, status bar.

One window shows one ``Document``; New and Open replace it (after asking to save unsaved
changes), New Window opens another window in the same process. Files are read off the GUI
thread; a file that cannot be opened shows its error and leaves the window as it was.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from engine.errors import LayerStudioError
from engine.project import Project
from engine.project import load as load_project
from studio import app_log, docks, export_import
from studio.canvas import GraphCanvas
from studio.docks.explain_drop import dropped_image
from studio.document import Document
from studio.error_dialog import ErrorDialog, show_error
from studio.recovery import Autosaver
from studio.runs.actions import RunActions, dropped_run_dir
from widgets import background, units

if TYPE_CHECKING:
    from studio.app import Studio

log = logging.getLogger("studio.window")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "sample.json"
TEMPLATES = ROOT / "assets" / "templates"
FILE_FILTER = "LayerStudio projects (*.json);;All files (*)"
DEFAULT_SIZE = (1440, 900)


class MainWindow(QMainWindow):
    document_changed = Signal(object)  # the new Document
    first_painted = Signal()  # once, after the canvas first painted: heavier panel parts build then
    dataset_size_changed = Signal(object)  # training samples (int) once the Dataset dock knows, else None

    def __init__(self, studio: "Studio", document: Document) -> None:
        super().__init__()
        self.studio = studio
        self.document = document
        document.setParent(self)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)  # a project file dropped on the window opens it
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.resize(*DEFAULT_SIZE)
        self._loading: background.Task | None = None

        self.pristine = False  # True for the start-up window until the user opens something
        self.canvas = GraphCanvas(document)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.canvas.status_message.connect(lambda m: self.statusBar().showMessage(m, 6000))
        self.canvas.node_activated.connect(lambda _node: self.show_dock("properties"))
        self.painted = False
        self.canvas.viewport().installEventFilter(self)
        self.dataset_size: int | None = None  # the last dataset_size_changed, for panels built later
        self.dataset_size_changed.connect(lambda n: setattr(self, "dataset_size", n))

        self.docks: dict[str, docks.Dock] = {spec.name: docks.create(self, spec) for spec in docks.DOCKS}
        docks.place_default(self, self.docks)
        self.resizeDocks([self.docks["palette"], self.docks["properties"]], [220, 340],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["summary"]], [250], Qt.Orientation.Vertical)
        self._default_state = self.saveState()

        self._build_actions()
        self._build_menus()
        self.run_actions = RunActions(self)  # Run menu and toolbar: Train, Pause, Stop, Open Run…
        self._build_status_bar()
        self.autosaver = Autosaver(studio.recovery, studio.settings.autosave_seconds, self)
        self.autosaver.set_document(document)
        studio.settings.changed.connect(self._settings_changed)
        self._connect_document(document)
        self._restore_layout()
        self.problems_panel.count_changed.connect(self._problem_count)
        self._problem_count(*self.problems_panel.counts())

    # -- first paint -------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if not self.painted and event.type() == QEvent.Type.Paint and obj is self.canvas.viewport():
            self.painted = True
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self.first_painted.emit)
        return False

    def when_painted(self, fn) -> None:
        """Run ``fn`` once the window is on screen (now, if it already is): keeps start-up fast."""
        if self.painted:
            fn()
        else:
            self.first_painted.connect(fn, Qt.ConnectionType.SingleShotConnection)

    # -- panels ------------------------------------------------------------------------
    def panel(self, name: str) -> QWidget:
        """A dock's content (built now if it was waiting for the first paint)."""
        return self.docks[name].content()

    @property
    def runs(self):
        """The app's RunManager (studio.runs): every run, the queue, the current run."""
        return self.studio.runs

    @property
    def problems_panel(self):
        return self.panel("problems")

    def show_dock(self, name: str) -> None:
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    def reset_layout(self) -> None:
        docks.place_default(self, self.docks)
        self.restoreState(self._default_state)  # the default sizes too
        self.studio.settings.clear_window_state()

    def _restore_layout(self) -> None:
        geometry, state = self.studio.settings.window_state()
        if geometry and not self.studio.windows:
            self.restoreGeometry(geometry)
        if state:
            self.restoreState(state)

    def save_layout(self) -> None:
        self.studio.settings.set_window_state(bytes(self.saveGeometry()), bytes(self.saveState()))

    # -- actions and menus -------------------------------------------------------------
    def _action(self, name: str, text: str, slot, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        # explicit keys: the platform's StandardKey for Close is Ctrl+F4 on some desktops
        self.actions_ = {
            "new": a("new", "&New…", self.new_project, "Ctrl+N", "Start a new project, blank or from a template"),
            "new_window": a("new_window", "New &Window", self.studio.new_window, "Ctrl+Shift+N",
                            "Open another window"),
            "open": a("open", "&Open…", self.open_dialog, "Ctrl+O", "Open a project file"),
            "save": a("save", "&Save", self.save, "Ctrl+S", "Save the project"),
            "save_as": a("save_as", "Save &As…", self.save_as, "Ctrl+Shift+S", "Save the project to a new file"),
            "close": a("close", "&Close Window", self.close, "Ctrl+W", "Close this window"),
            "preferences": a("preferences", "&Preferences…", self.show_preferences, "Ctrl+,",
                             "Data folders, cache, devices and their peak figures"),
            "quit": a("quit", "&Quit", self.studio.quit, "Ctrl+Q", "Close every window and quit"),
            "reset_layout": a("reset_layout", "&Reset Layout", self.reset_layout, None,
                              "Put every panel back where it starts"),
            "restart_engine": a("restart_engine", "Restart &Engine", self.studio.restart_engine, None,
                                "Start the engine service again (devices, model checks, training)"),
            "show_log": a("show_log", "Show &Log Folder", self.show_log, None, "Open the folder of the app's log"),
            "about": a("about", "&About LayerStudio", self.about, None, "Version and log file"),
        }
        self.actions_["preferences"].setMenuRole(QAction.MenuRole.PreferencesRole)
        self.actions_["quit"].setMenuRole(QAction.MenuRole.QuitRole)
        # The canvas owns the editing actions (one QAction per shortcut: Qt ignores ambiguous
        # ones); the window shows them in its menus. Undo/redo work from anywhere in the window
        # (a text field still undoes its own typing first); the rest only while the canvas has focus.
        self.canvas_actions: dict[str, QAction] = dict(self.canvas.actions_by_name())
        for name in ("undo", "redo"):
            if name in self.canvas_actions:
                self.canvas_actions[name].setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        A, C = self.actions_, self.canvas_actions
        file = bar.addMenu("&File")
        for name in ("new", "new_window", "open"):
            file.addAction(A[name])
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recent_menu")
        self._fill_recent()
        file.addSeparator()
        file.addAction(A["save"])
        file.addAction(A["save_as"])
        file.addSeparator()
        self.actions_.update(export_import.add_menu_actions(self, file))
        file.addSeparator()
        file.addAction(A["preferences"])
        file.addSeparator()
        file.addAction(A["close"])
        file.addAction(A["quit"])

        edit = bar.addMenu("&Edit")
        self._add_canvas_group(edit, ("undo", "redo"))
        self._add_canvas_group(edit, ("cut", "copy", "paste", "duplicate", "delete"))
        self._add_canvas_group(edit, ("select_all", "rename"))

        view = bar.addMenu("&View")
        self.view_menu = view
        self.dock_toggles = {name: d.toggleViewAction() for name, d in self.docks.items()}
        for spec in docks.DOCKS:
            view.addAction(self.dock_toggles[spec.name])
        self._add_canvas_group(view, ("zoom_in", "zoom_out", "zoom_reset", "fit"))
        view.addSeparator()
        view.addAction(A["reset_layout"])

        graph = bar.addMenu("&Graph")
        self._add_canvas_group(graph, ("add_layer", "auto_layout"), separator=False)
        used = {"cut", "copy", "paste", "duplicate", "delete", "select_all", "rename", "zoom_in", "zoom_out",
                "zoom_reset", "fit", "add_layer", "auto_layout", "undo", "redo"}
        rest = [n for n in C if n not in used]
        self._add_canvas_group(graph, rest)

        help_ = bar.addMenu("&Help")
        help_.addAction(A["restart_engine"])
        help_.addAction(A["show_log"])
        help_.addAction(A["about"])

    def _add_canvas_group(self, menu: QMenu, names, separator: bool = True) -> None:
        present = [self.canvas_actions[n] for n in names if n in self.canvas_actions]
        if present and separator and not menu.isEmpty():
            menu.addSeparator()
        for action in present:
            menu.addAction(action)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.studio.settings.recent_files
        for i, path in enumerate(files):
            label = f"&{i + 1} {Path(path).name}" if i < 9 else Path(path).name
            action = self.recent_menu.addAction(label)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_file(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self.studio.settings.clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.totals_label = QLabel()
        self.totals_label.setObjectName("status_totals")
        self.totals_label.setToolTip("Parameters and forward FLOPs per sample of the whole model")
        self.problems_label = QLabel()
        self.problems_label.setObjectName("status_problems")
        self.engine_label = QLabel()
        self.engine_label.setObjectName("status_engine")
        for w in (self.problems_label, self.totals_label, self.engine_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)
        self._totals_timer = QTimer(self)
        self._totals_timer.setSingleShot(True)
        self._totals_timer.setInterval(30)
        self._totals_timer.timeout.connect(self._update_totals)
        self.studio.engine_state_changed.connect(self._engine_state)
        self._engine_state(self.studio.engine_state, self.studio.engine_message)

    # -- document ----------------------------------------------------------------------
    def _connect_document(self, doc: Document) -> None:
        doc.modified_changed.connect(self.setWindowModified)
        doc.modified_changed.connect(self._update_title)
        doc.path_changed.connect(self._update_title)
        doc.setting_changed.connect(self._setting_changed)
        doc.inference_changed.connect(self._schedule_totals)
        for sig in (doc.graph.node_added, doc.graph.node_removed, doc.graph.edge_added, doc.graph.edge_removed,
                    doc.graph.params_changed):
            sig.connect(self._schedule_totals)
        self._update_title()
        self._update_totals()

    def _disconnect_document(self, doc: Document) -> None:
        doc.modified_changed.disconnect(self.setWindowModified)
        doc.modified_changed.disconnect(self._update_title)
        doc.path_changed.disconnect(self._update_title)
        doc.setting_changed.disconnect(self._setting_changed)
        doc.inference_changed.disconnect(self._schedule_totals)
        for sig in (doc.graph.node_added, doc.graph.node_removed, doc.graph.edge_added, doc.graph.edge_removed,
                    doc.graph.params_changed):
            sig.disconnect(self._schedule_totals)

    def set_document(self, doc: Document) -> None:
        """Show ``doc`` in this window; the previous document is closed."""
        old = self.document
        self._disconnect_document(old)
        doc.setParent(self)
        self.document = doc
        self.canvas.set_document(doc)
        self.autosaver.set_document(doc)
        self._connect_document(doc)
        self.document_changed.emit(doc)
        old.close()
        old.deleteLater()

    def _update_title(self, *_: Any) -> None:
        doc = self.document
        where = f" ({doc.path.parent})" if doc.path else ""
        self.setWindowTitle(f"{doc.title}[*]{where} — LayerStudio")
        self.setWindowModified(doc.is_modified)

    def _setting_changed(self, section: str, key: str) -> None:
        if section == "name":
            self._update_title()
        if section == "training" and key == "batch_size":
            self._schedule_totals()

    def _schedule_totals(self, *_: Any) -> None:
        if not self._totals_timer.isActive():
            self._totals_timer.start()

    def _update_totals(self) -> None:
        t = self.document.inference.totals()
        text = f"{units.si(t.params)} params · {units.si(t.flops, 'FLOP')}/sample"
        self.totals_label.setText(text if t.complete else text + " (partial)")

    def _problem_count(self, errors: int, warnings: int) -> None:
        if errors:
            self.problems_label.setText(f"<span style='color:#c62828'>● {errors} error{'s' if errors > 1 else ''}"
                                        f"</span>")
        elif warnings:
            self.problems_label.setText(f"<span style='color:#ef6c00'>● {warnings} warning"
                                        f"{'s' if warnings > 1 else ''}</span>")
        else:
            self.problems_label.setText("<span style='color:#2e7d32'>● ready</span>")
        self.problems_label.setToolTip("Problems of the graph and settings (View → Problems)")
        self.docks["problems"].setWindowTitle(f"Problems ({errors + warnings})" if errors + warnings else "Problems")

    def _engine_state(self, state: str, message: str) -> None:
        colors = {"ready": "#2e7d32", "starting": "#9e9e9e", "failed": "#c62828", "stopped": "#9e9e9e"}
        text = {"ready": "Engine ready", "starting": "Engine starting…", "failed": "Engine stopped",
                "stopped": "Engine stopped"}.get(state, state)
        devices = self.studio.devices
        if state == "ready" and devices:
            gpus = sum(1 for d in devices if d.get("kind") != "cpu")
            text += f" · {gpus} GPU{'s' if gpus != 1 else ''}" if gpus else " · CPU"
        self.engine_label.setText(f"<span style='color:{colors.get(state, '#9e9e9e')}'>●</span> {text}")
        self.actions_["restart_engine"].setEnabled(state in ("failed", "stopped"))
        self.engine_label.setToolTip(message or text)

    # -- graph helpers used by the docks -------------------------------------------------
    def view_centre(self) -> tuple[float, float]:
        p = self.canvas.visible_scene_rect().center()
        return p.x(), p.y()

    def add_layer(self, type_: str, pos: tuple[float, float] | None = None) -> str | None:
        """Add a layer (at the centre of the view by default) and select it; one undo step."""
        x, y = pos or self.view_centre()
        taken = [n.pos for n in self.document.graph.nodes.values() if n.pos]
        while any(abs(px - x) < 30 and abs(py - y) < 30 for px, py in taken):
            x, y = x + 40, y + 40  # do not hide a node under another
        return self.canvas.add_layer(type_, QPointF(x, y))

    def focus_node(self, node_id: str) -> None:
        """Select a node and bring it to the middle of the canvas."""
        doc = self.document
        if node_id not in doc.graph.nodes:
            return
        doc.select([node_id])
        pos = doc.graph.nodes[node_id].pos
        if pos is not None:
            self.canvas.centerOn(QPointF(*pos))

    # -- errors ------------------------------------------------------------------------
    def show_error(self, title: str, message: str, exc: BaseException | None = None,
                   context: str = "") -> ErrorDialog:
        return show_error(self, title, message, exc, context)

    # -- files -------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes. True: go on (saved or discarded)."""
        doc = self.document
        if not doc.is_modified:
            return True
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"Save the changes to “{doc.title}” before closing it?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        box.deleteLater()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_project(self) -> None:
        """File → New: a chooser of blank or a template (the list is read off the GUI thread)."""
        def listing(task) -> list[tuple[str, str, str]]:
            out = []
            for f in sorted(TEMPLATES.glob("*.json")):
                try:
                    d = json.loads(f.read_text(encoding="utf-8"))
                    out.append((str(f), str(d.get("name", f.stem)), str(d.get("description", ""))))
                except (OSError, ValueError):
                    log.warning("template %s cannot be read", f)
            return out
        background.start(listing, on_done=self._choose_template,
                         on_error=lambda e: self.show_error("New project", "The templates cannot be listed.", e))

    def _choose_template(self, templates: list[tuple[str, str, str]]) -> None:
        from widgets.template_chooser import TemplateChooser
        choices = [(None, "Blank project", "An Input node and nothing else.")] + templates
        dialog = TemplateChooser(choices, self)
        accepted = dialog.exec()
        key = dialog.chosen()
        dialog.deleteLater()
        if accepted:
            self.new_from(key)

    def new_from(self, template: str | None) -> background.Task | None:
        """Replace the document with a blank project or a copy of a template (unsaved, untitled)."""
        if not self.maybe_save():
            return None
        if template is None:
            project = Project(name="Untitled")
            project.graph.add_node("input", "Input", {})
            self._show_new(Document(project))
            return None
        return self._load(template, as_template=True)

    def _show_new(self, doc: Document) -> None:
        self.pristine = False
        self.set_document(doc)
        self.canvas.fit()

    def open_dialog(self) -> None:
        start = str(self.document.path.parent) if self.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> background.Task | None:
        """Open a project in this window (asking about unsaved changes first). Read off the GUI thread."""
        if not self.maybe_save():
            return None
        return self._load(path)

    def _load(self, path: str | Path, as_template: bool = False) -> background.Task:
        path = Path(path)
        if self._loading is not None:
            self._loading.cancel()
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._loading = background.start(
            lambda task: load_project(path),
            on_done=lambda project: self._loaded(project, path, as_template),
            on_error=lambda e: self._load_failed(path, e))
        return self._loading

    def _loaded(self, project: Project, path: Path, as_template: bool) -> None:
        self._loading = None
        try:
            doc = Document(project, None if as_template else path)
        except LayerStudioError as e:
            self._load_failed(path, e)
            return
        self._show_new(doc)
        self.statusBar().showMessage(f"Opened {path.name}", 4000)
        if not as_template:
            self.studio.settings.add_recent(path)

    def _load_failed(self, path: Path, exc: BaseException) -> None:
        self._loading = None
        self.statusBar().clearMessage()
        if isinstance(exc, LayerStudioError):
            message = exc.message
            if not exc.message.startswith(path.name):
                message = f"{path.name}: {message}"
            if "no such file" in exc.message and str(path.resolve()) in self.studio.settings.recent_files:
                self.studio.settings.remove_recent(path.resolve())
        else:
            message = f"{path.name} could not be opened."
        self.show_error("Cannot open project", message, exc, context=f"opening {path}")

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        doc = self.document
        start = str(doc.path) if doc.path else str(Path.home() / f"{doc.project.name or 'Untitled'}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", start, FILE_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".json"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except OSError as e:
            self.show_error("Not saved", f"{path} could not be written: {e.strerror or e}", e,
                            context=f"saving {path}")
            return False
        except LayerStudioError as e:
            self.show_error("Not saved", e.message, e, context=f"saving {path}")
            return False
        self.studio.settings.add_recent(path)
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    # -- other commands ----------------------------------------------------------------
    def show_preferences(self) -> None:
        from studio.preferences import PreferencesDialog
        dialog = PreferencesDialog(self.studio.settings, self, self.studio.devices)
        dialog.exec()
        dialog.deleteLater()

    def show_log(self) -> None:
        folder = app_log.log_file().parent
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def about(self) -> None:
        QMessageBox.about(self, "About LayerStudio",
                          "<b>LayerStudio</b><br>Design, train and understand neural networks.<br><br>"
                          f"Log file: {app_log.log_file()}")

    def _settings_changed(self, key: str) -> None:
        if key == "files/recent":
            self._fill_recent()
        elif key == "prefs/autosave_seconds":
            self.autosaver.set_interval(self.studio.settings.autosave_seconds)

    # -- closing -----------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        if self._loading is not None:
            self._loading.cancel()
        self.autosaver.stop()
        self._totals_timer.stop()
        self.studio.window_closed(self)
        self.canvas.detach()
        self.document.close()
        event.accept()

    def explain_image(self, path: str | Path) -> None:
        """Bring up the Explain dock on an image file (dropped on the window)."""
        self.show_dock("explain")
        self.panel("explain").explain_file(path)

    # -- project files dropped on the window ---------------------------------------------
    @staticmethod
    def _dropped_project(event) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return next((p for p in paths if p.suffix.lower() == ".json"), None)

    def dragEnterEvent(self, event) -> None:
        if self._dropped_project(event) is not None or dropped_run_dir(event) is not None \
                or dropped_image(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        image = dropped_image(event)
        if image is not None:  # an image file: the Explain dock classifies it
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.explain_image(image))
            return
        run = dropped_run_dir(event)
        if run is not None:  # a run folder: its curves and probes, followed while it runs
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.run_actions.open_run_dir(run))
            return
        path = self._dropped_project(event)
        if path is not None:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.open_file(path))  # not inside the platform's drag loop
