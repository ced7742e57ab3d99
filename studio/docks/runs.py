"""Runs: every run of the open projects (``runs/`` beside them) and every run directory opened,
with state, progress, ETA, best validation accuracy, parameters and FLOPs. Selecting a run
makes it the one the live panels show; ticking runs overlays their curves.

From here: resume a stopped, interrupted or failed run; continue a finished one for more
epochs; train the project from a run's weights; clone a run (as a new project, or queued with
edited settings); a sweep of learning rates × batch sizes; delete a run (after asking).
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QInputDialog, QLabel, QMenu, QMessageBox, QTableView,
                               QToolBar, QToolButton, QVBoxLayout, QWidget)

from engine.errors import LayerStudioError
from studio.runs.dialogs import CloneDialog, SweepDialog, apply_overrides
from studio.runs.handle import RunHandle
from studio.runs.table import COLUMNS, PROGRESS, RUN, HandleRole, ProgressDelegate, RunsModel
from widgets.style import muted

if TYPE_CHECKING:
    from studio.main_window import MainWindow


class RunsPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.manager = window.runs
        self.model = RunsModel(self.manager, self)
        self.table = QTableView()
        self.table.setObjectName("runs_table")
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in zip(range(len(COLUMNS)), (200, 90, 120, 60, 80, 60, 90, 50, 110)):
            self.table.setColumnWidth(col, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _i: window.show_dock("curves") if "curves" in window.docks else None)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.summary = QLabel()
        muted(self.summary)
        self.empty = QLabel("No runs yet. Press Train (F5) to start one, or open a run directory "
                            "(File → Open Run…).")
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(8, 8, 8, 8)
        muted(self.empty)

        self._watched: RunHandle | None = None
        self._build_actions()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.summary)

        self.manager.runs_changed.connect(self._runs_changed)
        self.manager.current_changed.connect(self._select)
        self.model.modelReset.connect(lambda: self._select(self.manager.current()))
        self.model.dataChanged.connect(lambda *_: self._update())
        self._runs_changed()

    # -- actions --------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window_
        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar = bar

        def act(name: str, text: str, slot, tip: str) -> QAction:
            a = QAction(text, self)
            a.setObjectName(f"runs_{name}")
            a.setToolTip(tip)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _c=False: slot())
            return a
        self.a_resume = act("resume", "Resume", self.resume, "Continue the selected run from its last checkpoint")
        self.a_more = act("continue", "More Epochs…", self.continue_more,
                          "Continue the selected run to a new total of epochs")
        self.a_from = act("from_weights", "From Weights", self.train_from_weights,
                          "Train the window's project starting from the selected run's weights")
        self.a_clone_open = act("clone_open", "Open as New Project", self.clone_open,
                                "Open the selected run's project snapshot in a new window")
        self.a_clone_queue = act("clone_queue", "Queue with Changes…", self.clone_queue,
                                 "Queue a copy of the selected run with other epochs, batch size, learning rate")
        self.a_sweep = act("sweep", "Sweep…", self.sweep, "Queue one run per learning rate × batch size")
        self.a_delete = act("delete", "Delete…", self.delete, "Delete the selected run and its folder")
        self.a_folder = act("folder", "Show Folder", self.show_folder, "Open the run directory")
        clone = QMenu("Clone", self)
        clone.addAction(self.a_clone_open)
        clone.addAction(self.a_clone_queue)
        self.clone_menu = clone
        bar.addAction(w.run_actions.train)
        bar.addAction(w.run_actions.stop)
        bar.addSeparator()
        for a in (self.a_resume, self.a_more, self.a_from):
            bar.addAction(a)
        button = QToolButton()
        button.setText("Clone")
        button.setMenu(clone)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(button)
        bar.addAction(self.a_sweep)
        bar.addSeparator()
        bar.addAction(self.a_delete)

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.manager.set_current(index.data(HandleRole))
        menu = QMenu(self)
        w = self.window_
        for a in (w.run_actions.pause, w.run_actions.stop, self.a_resume, self.a_more, self.a_from):
            if a.isEnabled():
                menu.addAction(a)
        menu.addMenu(self.clone_menu)
        menu.addSeparator()
        menu.addAction(self.a_folder)
        menu.addAction(self.a_delete)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- selection ------------------------------------------------------------------------------
    def selected(self) -> RunHandle | None:
        return self.manager.current()

    def _row_changed(self, current, _previous) -> None:
        handle = self.model.handle(current.row()) if current.isValid() else None
        if handle is not None:
            self.manager.set_current(handle)
        self._update()

    def _select(self, handle: RunHandle | None) -> None:
        if handle is not self._watched:  # its state decides what the buttons can do
            if self._watched is not None:
                try:
                    self._watched.state_changed.disconnect(self._update)
                except (RuntimeError, TypeError):
                    pass
            self._watched = handle
            if handle is not None:
                handle.state_changed.connect(self._update)
        row = self.model.row_of(handle) if handle is not None else -1
        sel = self.table.selectionModel()
        if row < 0:
            sel.clearSelection()
        elif sel.currentIndex().row() != row:
            sel.setCurrentIndex(self.model.index(row, RUN), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                | QItemSelectionModel.SelectionFlag.Rows)
        self._update()

    def _runs_changed(self) -> None:
        self.model.reload()
        has = bool(self.model.rows)
        self.table.setVisible(has)
        self.empty.setVisible(not has)
        self._update()

    def _update(self, *_) -> None:
        h = self.selected()
        resumable = h is not None and h.can_resume
        self.a_resume.setEnabled(resumable and h.state != "finished")
        self.a_more.setEnabled(resumable)
        self.a_from.setEnabled(h is not None and h.run_dir is not None and h.step > 0)
        self.a_clone_open.setEnabled(h is not None and bool(h.project))
        self.a_clone_queue.setEnabled(h is not None and bool(h.project))
        self.a_delete.setEnabled(h is not None and not h.is_active and h.state != "queued")
        self.a_folder.setEnabled(h is not None and h.run_dir is not None)
        rows = self.model.rows
        counts = {s: sum(r.state == s for r in rows) for s in ("running", "paused", "queued", "failed")}
        parts = [f"{len(rows)} run{'s' if len(rows) != 1 else ''}"]
        parts += [f"{n} {s}" for s, n in counts.items() if n]
        self.summary.setText(" · ".join(parts))

    # -- commands -------------------------------------------------------------------------------
    def resume(self) -> None:
        h = self.selected()
        if h is not None:
            self.manager.resume(h)

    def continue_more(self) -> None:
        h = self.selected()
        if h is None:
            return
        current = h.epochs or int(h.training_setting("epochs", 10))
        total, ok = QInputDialog.getInt(self, "Continue run", f"Train {h.name} until epoch (now {h.epoch}):",
                                        current + max(1, current // 2), h.epoch + 1, 1_000_000)
        if ok:
            self.manager.resume(h, epochs=total)

    def train_from_weights(self) -> None:
        h = self.selected()
        if h is None or h.run_dir is None:
            return
        actions = self.window_.run_actions
        if actions.check_project():
            doc = self.window_.document
            self.manager.start_from(h, doc.to_dict(), doc.path)

    def clone_open(self) -> None:
        h = self.selected()
        if h is None or not h.project:
            return
        from engine.project.io import from_dict
        from studio.document import Document
        try:
            project = from_dict(copy.deepcopy(h.project))
        except LayerStudioError as e:
            self.window_.show_error("Cannot clone", e.message, e)
            return
        project.name = f"{project.name} (clone)"
        self.window_.studio.new_window(Document(project))

    def clone_queue(self) -> None:
        h = self.selected()
        if h is None or not h.project:
            return
        devices = [str(d.get("id")) for d in self.window_.studio.devices if d.get("id")]
        dialog = CloneDialog(h.project, devices, self)
        accepted = dialog.exec()
        values = dialog.overrides()
        dialog.deleteLater()
        if accepted:
            project = apply_overrides(copy.deepcopy(h.project), values)
            self.manager.train(project, h.config.get("project_path"), name=f"{h.project.get('name', 'run')}")

    def sweep(self) -> None:
        doc = self.window_.document
        if not self.window_.run_actions.check_project():
            return
        optimizer = doc.project.training.get("optimizer") or {}
        dialog = SweepDialog(optimizer.get("lr", 0.01) if isinstance(optimizer, dict) else 0.01,
                             doc.project.training.get("batch_size", 64), self)
        accepted = dialog.exec()
        try:
            lrs, sizes = dialog.values()
        except LayerStudioError:
            accepted = False
        dialog.deleteLater()
        if accepted:
            self.manager.sweep(doc.to_dict(), doc.path, lrs, sizes)

    def delete(self) -> None:
        h = self.selected()
        if h is None or h.is_active or h.state == "queued":
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete run",
                          f"Delete the run “{h.name}”?", QMessageBox.StandardButton.Yes
                          | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(f"Its folder is removed with its checkpoints and metrics:\n{h.run_dir}"
                               if h.run_dir else "It is removed from the list.")
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        box.deleteLater()
        if answer == QMessageBox.StandardButton.Yes:
            self.manager.delete(h)

    def show_folder(self) -> None:
        h = self.selected()
        if h is not None and h.run_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(h.run_dir)))
