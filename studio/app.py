"""The application: ``run(path)`` starts LayerStudio; ``Studio`` is what its windows share.

One process holds one ``Studio``: the user's settings, the engine service (one child
process, started in the background after the first window is on screen: nothing waits for
it), the recovery folder, and the list of open windows. ``layerstudio`` (studio/cli.py)
calls ``run``.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.errors import LayerStudioError
from engine.project import Project
from studio import app_log, recovery
from studio.document import Document
from studio.error_dialog import install_excepthook, show_error
from studio.main_window import SAMPLE, MainWindow
from studio.runs import RunManager
from studio.settings import APP, AppSettings
from widgets import background

log = logging.getLogger("studio.app")


class Studio(QObject):
    """Shared state of every window of the process."""

    engine_state_changed = Signal(str, str)  # "starting" | "ready" | "failed" | "stopped", message
    devices_changed = Signal(list)  # [{"id", "name", "memory", "kind"}]
    recovery_checked = Signal(list)  # the RecoveryEntry list found at start-up (possibly empty)

    def __init__(self, settings: AppSettings | None = None,
                 engine_factory: Callable[[QObject], Any] | None = None,
                 recovery_store: recovery.RecoveryStore | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings(parent=self)
        self.recovery = recovery_store or recovery.RecoveryStore()
        self.windows: list[MainWindow] = []
        self.devices: list[dict] = []
        self.engine_state, self.engine_message = "stopped", "not started"
        self._engine_factory = engine_factory
        self.engine: Any = None
        self._quitting = False
        self.runs = RunManager(self)  # every run of the app; windows reach it as window.runs

    # -- engine service ----------------------------------------------------------------
    def start_engine(self) -> None:
        """Start the engine service child process; returns at once (signals report later)."""
        if self.engine is not None:
            return
        try:
            factory = self._engine_factory or _default_engine_factory()
            self.engine = factory(self)
        except Exception as e:  # a broken install must not keep the editor from working
            log.exception("the engine service could not be created")
            self._set_engine("failed", f"the engine service could not start: {e}")
            return
        self.engine.ready.connect(lambda: self._set_engine("ready", "the engine service is running"))
        self.engine.devices_changed.connect(self._devices)
        self.engine.died.connect(lambda why: self._set_engine("failed", str(why)))
        self._set_engine("starting", "starting the engine service in the background")
        self.engine.start()

    def restart_engine(self) -> None:
        """Start the engine service again after it stopped (a crash, a kill)."""
        if self.engine is None:
            self.start_engine()
        elif self.engine_state in ("failed", "stopped"):
            self._set_engine("starting", "restarting the engine service")
            self.engine.start()

    def _set_engine(self, state: str, message: str) -> None:
        self.engine_state, self.engine_message = state, message
        log.info("engine %s: %s", state, message)
        self.engine_state_changed.emit(state, message)

    def _devices(self, devices: list) -> None:
        self.devices = [dict(d) for d in devices]
        self.devices_changed.emit(self.devices)
        self.engine_state_changed.emit(self.engine_state, self.engine_message)

    # -- windows -------------------------------------------------------------------------
    def new_window(self, document: Document | None = None) -> MainWindow:
        """Open (and show) a window; a blank project unless a document is given."""
        if document is None:
            project = Project(name="Untitled")
            project.graph.add_node("input", "Input", {})
            document = Document(project)
        window = MainWindow(self, document)
        if self.windows:  # cascade from the active window
            ref = QApplication.activeWindow() if isinstance(QApplication.activeWindow(), MainWindow) \
                else self.windows[-1]
            window.move(ref.pos().x() + 30, ref.pos().y() + 30)
        self.windows.append(window)
        window.show()
        return window

    def window_closed(self, window: MainWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def quit(self) -> bool:
        """Close every window (each may ask about unsaved changes). False if the user cancelled."""
        self._quitting = True
        try:
            for window in list(self.windows):
                if not window.close():
                    return False
        finally:
            self._quitting = False
        QApplication.quit()
        return True

    def save_recovery_now(self) -> None:
        """Write every window's unsaved work to its recovery file now (quitting on a signal)."""
        for window in self.windows:
            window.autosaver.save_now()
        recovery.io_pool().waitForDone(5000)

    def shutdown(self) -> None:
        """Stop the engine service and finish pending file writes (the app's exit)."""
        self.runs.close()
        if self.engine is not None:
            try:
                self.engine.shutdown()
            except Exception:
                log.exception("engine shutdown failed")
            self.engine = None
            self._set_engine("stopped", "the app closed")
        QThreadPool.globalInstance().waitForDone(5000)
        recovery.io_pool().waitForDone(5000)

    # -- recovery after a crash ----------------------------------------------------------
    def check_recovery(self) -> background.Task:
        """Look for work a crashed session left (off the GUI thread) and offer to recover it."""
        return background.start(lambda task: self.recovery.scan(), on_done=self._offer_recovery,
                                on_error=lambda e: log.warning("recovery scan failed: %s", e))

    def _offer_recovery(self, entries: list[recovery.RecoveryEntry]) -> None:
        if entries:
            names = "".join(f"<li><b>{e.name}</b>{' — ' + e.original if e.original else ''} "
                            f"<span style='color:gray'>(autosaved {e.when})</span></li>" for e in entries[:8])
            parent = self.windows[-1] if self.windows else None
            box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                              "LayerStudio did not close normally last time. Unsaved work was kept:"
                              f"<ul>{names}</ul>", QMessageBox.StandardButton.Open
                              | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Ignore, parent)
            box.button(QMessageBox.StandardButton.Open).setText("Recover")
            box.button(QMessageBox.StandardButton.Ignore).setText("Later")
            box.setInformativeText("Recover opens each project in its own window, unsaved. "
                                   "Discard deletes the recovery files.")
            box.setDefaultButton(QMessageBox.StandardButton.Open)
            answer = box.exec()
            box.deleteLater()
            if answer == QMessageBox.StandardButton.Open:
                self.recover(entries)
                return  # recovery_checked follows once the projects are open
            if answer == QMessageBox.StandardButton.Discard:
                for e in entries:
                    background.start(lambda task, f=e.file: recovery.RecoveryStore.remove(f),
                                     pool=recovery.io_pool())
        self.recovery_checked.emit(entries)

    def recover(self, entries: list[recovery.RecoveryEntry]) -> background.Task:
        """Read the recovery files (off the GUI thread), then open each project, unsaved."""
        store = self.recovery

        def read(task) -> list[tuple[recovery.RecoveryEntry, Any]]:
            out = []
            for entry in entries:
                try:
                    out.append((entry, store.load(entry)))
                except LayerStudioError as e:
                    out.append((entry, e))
            return out
        return background.start(read, on_done=lambda loaded: self._open_recovered(entries, loaded),
                                on_error=lambda e: (log.error("recovery failed: %s", e),
                                                    self.recovery_checked.emit(entries)))

    def _open_recovered(self, entries: list[recovery.RecoveryEntry], loaded: list) -> None:
        parent = self.windows[-1] if self.windows else None
        for entry, project in loaded:
            try:
                if isinstance(project, LayerStudioError):
                    raise project
                doc = Document(project, entry.original)
            except LayerStudioError as e:
                show_error(parent, "Cannot recover", f"{entry.name}: {e.message}", e)
                continue
            doc.undo_stack.resetClean()  # recovered work is unsaved work
            target = self._pristine_window()
            if target is not None:
                target.pristine = False
                target.set_document(doc)
            else:
                self.new_window(doc)
            # the window autosaves again under its own name; the old file has done its job
            background.start(lambda task, f=entry.file: recovery.RecoveryStore.remove(f), pool=recovery.io_pool())
        self.recovery_checked.emit(entries)

    def _pristine_window(self) -> MainWindow | None:
        """The start-up window if the user has not touched it (so a recovery replaces it)."""
        for w in self.windows:
            doc = w.document
            if not doc.is_modified and doc.undo_stack.count() == 0 and w.pristine:
                return w
        return None


def _default_engine_factory() -> Callable[[QObject], Any]:
    from studio.services.engine_client import EngineService
    return lambda parent: EngineService(parent)


def initial_document(path: str | None) -> tuple[Document, LayerStudioError | None]:
    """The document the first window shows: the given file, else the sample. A file that cannot
    be opened gives a blank project and the error to show."""
    if path is None:
        return Document.open(SAMPLE), None
    target = Path(path)
    if target.is_dir() and (target / "project.json").is_file():
        target = target / "project.json"  # a run directory: its snapshot of the project
    try:
        return Document.open(target), None
    except LayerStudioError as e:
        project = Project(name="Untitled")
        project.graph.add_node("input", "Input", {})
        return Document(project), e


def start(path: str | None = None, argv: list[str] | None = None) -> tuple[QApplication, Studio, MainWindow]:
    """Create the application and the first window (shown); the engine starts once it is painted."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(APP)
    app.setApplicationName(APP)
    app.setDesktopFileName("layerstudio")
    try:
        app_log.setup()
    except OSError as e:  # a read-only home must not stop the app
        print(f"LayerStudio: cannot write the log: {e}", file=sys.stderr)
    install_excepthook()
    log.info("starting (pid %d)", os.getpid())
    studio = Studio()
    document, error = initial_document(path)
    window = MainWindow(studio, document)
    window.pristine = path is None
    studio.windows.append(window)
    window.show()
    if error is not None:
        window.show_error("Cannot open project", error.message, error, context=f"opening {path}")
    QTimer.singleShot(0, studio.start_engine)
    QTimer.singleShot(0, studio.check_recovery)
    if path is not None and Path(path).is_dir():  # layerstudio open RUN_DIR: its curves and probes too
        QTimer.singleShot(0, lambda: window.run_actions.open_run_dir(path))
    app.aboutToQuit.connect(studio.shutdown)
    _quit_on_signals(app, studio)
    return app, studio, window


def _quit_on_signals(app: QApplication, studio: Studio) -> None:
    """Ctrl+C in the terminal or a SIGTERM quits cleanly: unsaved work goes to recovery files
    (offered at the next start), the engine service is shut down."""
    def handle(signum: int, _frame: Any) -> None:
        log.warning("signal %d: quitting; unsaved work is kept for recovery", signum)
        studio.save_recovery_now()
        app.quit()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
    # Python runs signal handlers only between bytecodes: wake it while Qt waits for events
    timer = QTimer(studio)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def run(path: str | None = None) -> int:
    """``layerstudio [open FILE]``: the window on the sample project (or FILE) until it closes."""
    t0 = time.perf_counter()
    app, studio, window = start(path)
    log.info("window shown after %.2f s", time.perf_counter() - t0)
    code = app.exec()
    app_log.shutdown()
    return code
