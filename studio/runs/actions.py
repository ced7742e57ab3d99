"""The Run menu and toolbar of a main window: Train, Pause/Resume, Stop on the current run,
File → Open Run…, and run folders dropped on the window.

Train starts the window's project (queued behind a run on the same device); a project with
errors does not start: the Problems panel comes up and one message lists them.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QStyle, QToolBar

from engine.errors import LayerStudioError
from studio.runs.handle import RunHandle
from studio.runs.scan import is_run_dir

if TYPE_CHECKING:
    from studio.main_window import MainWindow

MAX_LISTED = 8  # problems named in the message; the panel has them all


class RunActions:
    def __init__(self, window: "MainWindow") -> None:
        self.window = window
        self.runs = window.runs
        style = window.style()
        icon = lambda p: style.standardIcon(p)  # noqa: E731
        a = window._action
        self.train = a("train", "&Train", self.train_project, "F5",
                       "Train the project (waits in the queue while its device is busy)")
        self.train.setIcon(icon(QStyle.StandardPixmap.SP_MediaPlay))
        self.pause = a("pause", "&Pause", self.toggle_pause, "F6", "Pause the current run, or resume it")
        self.pause.setIcon(icon(QStyle.StandardPixmap.SP_MediaPause))
        self.stop = a("stop", "&Stop", self.stop_current, "Shift+F5",
                      "Stop the current run after a checkpoint (resumable); a queued run leaves the queue")
        self.stop.setIcon(icon(QStyle.StandardPixmap.SP_MediaStop))
        self.resume = a("resume_run", "&Resume Run", self.resume_current, None,
                        "Continue the current run from its last checkpoint")
        self.resume.setIcon(icon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.open_run = a("open_run", "Open &Run…", self.open_run_dialog, "Ctrl+Shift+O",
                          "Open a run directory (finished or still running) and follow it")
        self.show_runs = a("show_runs", "Show &Runs", lambda: window.show_dock("runs"), None,
                           "The list of runs: queue, resume, clone, sweep, delete")
        for name, act in (("train", self.train), ("pause", self.pause), ("stop", self.stop),
                          ("resume_run", self.resume), ("open_run", self.open_run)):
            window.actions_[name] = act
        self._menus()
        self._toolbar()
        self._handle: RunHandle | None = None
        self.runs.current_changed.connect(self._current_changed)
        self._current_changed(self.runs.current())
        window.document_changed.connect(lambda doc: self._watch(doc))
        self._watch(window.document)

    # -- building -------------------------------------------------------------------------------
    def _menus(self) -> None:
        bar = self.window.menuBar()
        menus = {a.text().replace("&", ""): a for a in bar.actions()}
        file_menu = menus["File"].menu()
        after_open = next((a for a in file_menu.actions() if a.objectName() == "open"), None)
        later = file_menu.actions()[file_menu.actions().index(after_open) + 1] if after_open else None
        file_menu.insertAction(later, self.open_run) if later else file_menu.addAction(self.open_run)
        run = self.window.menuBar().addMenu("&Run")
        run.setObjectName("run_menu")
        help_action = menus.get("Help")
        if help_action is not None:  # before Help, where menus of an app usually end
            bar.removeAction(run.menuAction())
            bar.insertMenu(help_action, run)
        for act in (self.train, self.pause, self.resume, self.stop):
            run.addAction(act)
        run.addSeparator()
        run.addAction(self.show_runs)
        self.menu = run

    def _toolbar(self) -> None:
        bar = QToolBar("Run", self.window)
        bar.setObjectName("run_toolbar")
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.train, self.pause, self.stop):
            bar.addAction(act)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    # -- following the current run --------------------------------------------------------------
    def _watch(self, doc) -> None:
        self.runs.watch_project(doc.path)

    def _current_changed(self, handle: RunHandle | None) -> None:
        if self._handle is not None:
            try:
                self._handle.state_changed.disconnect(self._update)
            except (RuntimeError, TypeError):
                pass
        self._handle = handle
        if handle is not None:
            handle.state_changed.connect(self._update)
        self._update()

    def _update(self, *_) -> None:
        h = self._handle
        live = h is not None and h.is_live
        paused = live and h.state == "paused"
        self.pause.setEnabled(live and h.state in ("running", "paused"))
        self.pause.setText("&Resume" if paused else "&Pause")
        self.pause.setToolTip("Resume the paused run" if paused else "Pause the current run")
        self.pause.setIcon(self.window.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.stop.setEnabled(h is not None and (live and h.state != "stopping" or h.state == "queued"))
        self.resume.setEnabled(h is not None and h.can_resume and h.state != "finished")

    # -- commands -------------------------------------------------------------------------------
    def check_project(self) -> bool:
        """True when the window's project can train; otherwise its errors are shown."""
        from studio.docks.problems import collect
        errors = [p for p in collect(self.window.document) if p.severity == "error"]
        if not errors:
            return True
        self.window.show_dock("problems")
        listed = "".join(f"<li>{(p.node or p.setting) + ': ' if (p.node or p.setting) else ''}{p.message}</li>"
                         for p in errors[:MAX_LISTED])
        more = f"<p>… and {len(errors) - MAX_LISTED} more in the Problems panel.</p>" \
            if len(errors) > MAX_LISTED else ""
        self.window.show_error("Cannot train", f"Fix {'this problem' if len(errors) == 1 else 'these problems'}"
                               f" first:<ul>{listed}</ul>{more}", context="starting a run")
        return False

    def train_project(self) -> RunHandle | None:
        """Queue a run of the window's project, unless it has errors (then they are shown)."""
        if not self.check_project():
            return None
        doc = self.window.document
        handle = self.runs.train(doc.to_dict(), doc.path)
        if "curves" in self.window.docks:
            self.window.show_dock("curves")
        self.window.statusBar().showMessage(
            f"{handle.name} is queued" if handle.state == "queued" else f"Training {handle.name}", 5000)
        return handle

    def toggle_pause(self) -> None:
        h = self.runs.current()
        if h is None or not h.is_live:
            return
        if h.state == "paused":
            h.resume()
        else:
            h.pause()

    def stop_current(self) -> None:
        h = self.runs.current()
        if h is None:
            return
        if h.state == "queued":
            self.runs.cancel(h)
        else:
            h.stop()

    def resume_current(self) -> None:
        h = self.runs.current()
        if h is not None:
            self.runs.resume(h)

    def open_run_dialog(self) -> None:
        start = str(self.window.document.path.parent) if self.window.document.path else str(Path.home())
        path = QFileDialog.getExistingDirectory(self.window, "Open run directory", start)
        if path:
            self.open_run_dir(path)

    def open_run_dir(self, path: str | Path) -> RunHandle | None:
        """Show a run directory in the live panels (an error message if it is not one)."""
        try:
            handle = self.runs.open_run_dir(path)
        except LayerStudioError as e:
            self.window.show_error("Cannot open run", e.message, e, context=f"opening {path}")
            return None
        for name in ("runs", "curves"):
            if name in self.window.docks:
                self.window.show_dock(name)
        return handle


def dropped_run_dir(event) -> Path | None:
    """A run directory among the URLs of a drag (to open it as a run, not as a project)."""
    if not event.mimeData().hasUrls():
        return None
    for url in event.mimeData().urls():
        if url.isLocalFile():
            p = Path(url.toLocalFile())
            if p.is_dir() and is_run_dir(p):
                return p
    return None
