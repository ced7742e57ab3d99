"""``RunManager``: every run the app knows — started here, queued, or found on disk — and
which one the live panels show (``current``). One per application (``Studio.runs``); every
main window reaches it as ``window.runs``.

Runs are found in ``runs/`` beside each open project (and the app's own runs folder for
projects never saved), rescanned off the GUI thread every few seconds, so a run started by
``layerstudio train`` in a terminal appears too. A queued run starts when its device is free.
"""
from __future__ import annotations

import copy
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from engine.runs import failures
from studio.runs import queue as run_queue
from studio.runs.handle import ENDED, RunHandle
from studio.runs.places import reserve_run_dir, runs_parent
from widgets import background

if TYPE_CHECKING:
    from studio.app import Studio

log = logging.getLogger("studio.runs")
RESCAN_MS = 4000


class RunManager(QObject):
    runs_changed = Signal()
    current_changed = Signal(object)  # RunHandle | None
    failure = Signal(object, object)  # RunHandle, failure dict: a run of this app failed
    deleted = Signal(object)  # Path of a run directory removed from disk
    compare_changed = Signal()  # the runs overlaid in the curves besides the current one
    scanned = Signal()  # a scan of the runs folders came back

    def __init__(self, studio: "Studio") -> None:
        super().__init__(studio)
        self.studio = studio
        self._runs: list[RunHandle] = []
        self._current: RunHandle | None = None
        self._compared: list[RunHandle] = []
        self._by_path: dict[Path, RunHandle] = {}  # normalised run directory → its handle
        self._deleted: set[Path] = set()  # folders being removed (a scan in flight may still list them)
        self._folders: list[Path] = []
        self._scan = background.Latest()
        self._scan_timer = QTimer(self)
        self._scan_timer.setInterval(RESCAN_MS)
        self._scan_timer.timeout.connect(self.rescan)
        self._closed = False
        self.offer_resume = True  # ask about interrupted runs found on disk (once per run)
        self._offered: set[Path] = set()
        self.failure.connect(self._notify)

    # -- the interface the panels use ----------------------------------------------------------
    def current(self) -> RunHandle | None:
        return self._current

    def runs(self) -> list[RunHandle]:
        return list(self._runs)

    def set_current(self, handle: RunHandle | None) -> None:
        if handle is self._current:
            return
        self._current = handle
        if handle is not None and handle.run_dir is not None and not handle.is_live and handle.state != "queued":
            handle.follow()  # its whole history, and live updates while it runs elsewhere
        self.current_changed.emit(handle)

    def compared(self) -> list[RunHandle]:
        """Runs the user ticked to overlay in the curves (the current one is always shown)."""
        return list(self._compared)

    def set_compared(self, handle: RunHandle, on: bool) -> None:
        if on and handle not in self._compared:
            self._compared.append(handle)
            if handle.run_dir is not None and not handle.is_live and handle.state != "queued":
                handle.follow()
        elif not on and handle in self._compared:
            self._compared.remove(handle)
        else:
            return
        self.compare_changed.emit()

    def shown(self) -> list[RunHandle]:
        """The runs the curves draw: the compared ones and the current one."""
        out = list(self._compared)
        if self._current is not None and self._current not in out:
            out.append(self._current)
        return out

    def find(self, path: str | Path) -> RunHandle | None:
        return self._by_path.get(_norm(path))

    def open_run_dir(self, path: str | Path) -> RunHandle:
        """A run directory (finished or live): listed, made current, read and followed."""
        from engine.runs.layout import open_run
        run = open_run(path)  # RunDirError (a LayerStudioError) if it is not one
        handle = self.find(run.path)
        if handle is None:
            handle = self._add(RunHandle(run_dir=run.path.resolve(), parent=self))
        self.watch_folder(run.path.resolve().parent)
        self.set_current(handle)
        handle.follow()
        return handle

    # -- folders -------------------------------------------------------------------------------
    def watch_folder(self, folder: str | Path) -> None:
        """List the runs in ``folder`` (``runs/`` beside a project) and keep it rescanned."""
        folder = _norm(folder)
        if folder not in self._folders:
            self._folders.append(folder)
            self.rescan()
        if not self._scan_timer.isActive() and not self._closed:
            self._scan_timer.start()

    def watch_project(self, project_path: str | Path | None) -> None:
        self.watch_folder(runs_parent(project_path))

    def rescan(self) -> None:
        if self._scan.running or not self._folders or self._closed:
            return
        from studio.runs.scan import scan
        folders = list(self._folders)
        known = {p for p, h in self._by_path.items() if h.state != "queued"}
        self._scan.start(lambda task: scan(folders, known), on_done=lambda found: self._scanned(found, folders),
                         on_error=lambda e: log.warning("scanning runs failed: %s", e))

    def _scanned(self, found: list, folders: list[Path] | None = None) -> None:
        added = False
        paths = {f.path for f in found}
        self._deleted &= paths  # a deleted folder that is gone at last
        for f in found:
            if f.path in self._deleted:
                continue  # being deleted: the scan saw it before it went
            handle = self._by_path.get(f.path)  # scan paths are under normalised folders
            if handle is None:
                handle = RunHandle(run_dir=f.path, parent=self)
                handle.created = f.mtime
                self._add(handle, announce=False)
                added = True
            handle.seen_on_disk = True
            if handle.is_live or handle.state == "queued":
                continue
            if f.config:
                handle.config = f.config
                handle.classes = list(f.config.get("classes") or [])
                handle.params = f.config.get("params")
                handle.batches_per_epoch = int(f.config.get("batches_per_epoch") or 0)
                handle.device = f.config.get("device")
            if f.project:
                handle.project = f.project
            if f.flops is not None:
                handle.flops = f.flops
            following = handle.follower is not None and handle.follower.following
            if not following:
                handle.apply_status(f.status)
                handle.set_disk_state(f.state)
                if f.state == "running":  # written by another process: follow it
                    handle.follow()
            handle.changed.emit()
        if added:
            self.runs_changed.emit()
        for handle in self._vanished(paths, folders or []):  # removed by someone else
            self._remove(handle)
        self.scanned.emit()
        self._offer_resume([self._by_path.get(f.path) for f in found if f.state == "interrupted"])

    def _vanished(self, paths: set[Path], folders: list[Path]) -> list[RunHandle]:
        folders = set(folders)
        return [h for p, h in list(self._by_path.items()) if h.seen_on_disk and p.parent in folders
                and p not in paths and not h.is_live and h.state != "queued"]

    def _offer_resume(self, handles: list) -> None:
        fresh = [h for h in handles if h is not None and h.training is None and h.state == "interrupted"
                 and h.run_dir not in self._offered]
        if not fresh or not self.offer_resume:
            return
        self._offered.update(h.run_dir for h in fresh)
        from studio.runs.resume_offer import ask_to_resume
        if ask_to_resume(self._window(), fresh):
            for h in fresh:
                if h.state == "interrupted":  # still: nothing resumed it while the question was up
                    self.resume(h)

    def _window(self):
        from PySide6.QtWidgets import QApplication
        active = QApplication.activeWindow()
        windows = getattr(self.studio, "windows", [])
        return active if active in windows else (windows[-1] if windows else None)

    def _notify(self, handle: RunHandle, failure: dict) -> None:
        from studio.runs.notify import show_failure
        window = self._window()
        if window is None:  # quitting: the run's row and status.json keep the failure
            log.warning("run %s failed: %s", handle.name, failure.get("message"))
            return
        window.statusBar().showMessage(f"{handle.name} failed: {failure.get('message', '')}", 10000)
        show_failure(window, handle, failure)

    # -- starting runs -------------------------------------------------------------------------
    def train(self, project: dict, project_path: str | Path | None = None, *, name: str | None = None,
              overrides: dict | None = None, make_current: bool = True) -> RunHandle:
        """Queue a new run of ``project`` (a project dict); it starts when its device is free."""
        project = copy.deepcopy(project)
        parent = runs_parent(project_path)
        run_dir = reserve_run_dir(parent, name or project.get("name") or "run",
                                  [h.run_dir for h in self._runs if h.run_dir is not None])
        handle = RunHandle(run_dir=run_dir, project=project, parent=self)
        self._measure(handle)
        handle.device = run_queue.device_key((overrides or {}).get("device")
                                             or handle.training_setting("device", "auto"), self.studio.devices)
        handle.set_queued({"project": project, "project_path": str(project_path) if project_path else None,
                           "run_dir": str(run_dir), "overrides": dict(overrides or {})})
        self._add(handle)
        self.watch_folder(parent)
        if make_current:
            self.set_current(handle)
        self._schedule()
        return handle

    def _measure(self, handle: RunHandle) -> None:
        """The model's FLOPs per sample, for the table and the Pareto chart (off the GUI thread)."""
        from studio.runs.follower import project_flops
        project = handle.project

        def done(flops) -> None:
            if flops is not None and shiboken6.isValid(handle) and handle in self._runs:
                handle.flops = flops
                handle.changed.emit()
        background.start(lambda task: project_flops(project), on_done=done)

    def resume(self, handle: RunHandle, epochs: int | None = None) -> None:
        """Continue a stopped, interrupted or failed run from its last checkpoint, or a finished
        one for more epochs (``epochs`` is the new total)."""
        if handle.is_active or handle.state == "queued" or handle.run_dir is None:
            return
        if handle.follower is not None:
            handle.follower.stop()
        handle.device = run_queue.device_key(handle.training_setting("device", "auto"), self.studio.devices)
        handle.set_queued({"resume": str(handle.run_dir), "epochs": epochs})
        self.set_current(handle)
        self._schedule()

    def start_from(self, source: RunHandle, project: dict, project_path: str | Path | None = None,
                   **kw: Any) -> RunHandle:
        """A new run of ``project`` whose weights start from ``source``'s best (or last) checkpoint."""
        project = copy.deepcopy(project)
        project.setdefault("training", {})["init_from"] = {"run": str(source.run_dir)}
        return self.train(project, project_path, **kw)

    def sweep(self, project: dict, project_path: str | Path | None, lrs: Iterable[float],
              batch_sizes: Iterable[int]) -> list[RunHandle]:
        """One queued run per (learning rate, batch size): the grid of DIGITS' sweep."""
        from studio.runs.sweep import sweep_projects
        made = [self.train(p, project_path, name=name, make_current=False)
                for name, p in sweep_projects(project, lrs, batch_sizes)]
        if made:
            self.set_current(made[0])
        return made

    def cancel(self, handle: RunHandle) -> None:
        """Take a queued run off the queue (a new one is forgotten; a resume goes back to its state)."""
        if handle.state != "queued":
            return
        was_resume = bool(handle.request and handle.request.get("resume"))
        handle.request = None
        if was_resume:
            handle._set_state(handle.status.get("state") or "stopped")
        else:
            self._remove(handle)

    # -- the queue -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        busy = {h.device or "cpu" for h in self._runs if h.is_live}
        queued = [(h, h.device or "cpu") for h in self._runs if h.state == "queued"]
        queued.sort(key=lambda pair: pair[0].created)
        for handle in run_queue.next_to_start(queued, busy):
            self._start(handle)

    def _start(self, handle: RunHandle) -> None:
        engine = self.studio.engine
        if engine is None or not hasattr(engine, "host"):
            self._failed_to_start(handle, "the engine service is not running",
                                  "Use Help → Restart Engine, then start the run again.")
            return
        from studio.services.training_run import TrainingRun
        request = dict(handle.request or {})
        training = TrainingRun(engine, **request)
        handle.attach(training)
        if not getattr(handle, "_reports_failures", False):  # once per handle, however often it resumes
            handle._reports_failures = True
            handle.failed.connect(lambda f, h=handle: self.failure.emit(h, f))
        training.finished.connect(lambda _e, h=handle: self._ended(h))
        training.start()

    def _failed_to_start(self, handle: RunHandle, message: str, advice: str = "") -> None:
        f = failures.failure("exception", message, advice=advice)
        handle.request = None
        handle.failure = f
        handle._set_state("failed")
        self.failure.emit(handle, f)
        QTimer.singleShot(0, self._schedule)

    def _ended(self, handle: RunHandle) -> None:
        training = handle.training
        if training is not None and handle.state not in ENDED:
            handle._set_state(training.state)
        QTimer.singleShot(0, self._schedule)  # the device is free: the next queued run

    # -- deleting ------------------------------------------------------------------------------
    def delete(self, handle: RunHandle) -> background.Task | None:
        """Forget a run and remove its folder (off the GUI thread). Never a live or queued run."""
        if handle.is_live or handle.is_active or handle.state == "queued":
            return None
        path = handle.run_dir
        self._remove(handle)
        if path is None or not path.exists():
            return None
        self._deleted.add(_norm(path))

        def remove(task) -> Path:
            shutil.rmtree(path)
            return path

        def failed(e: BaseException) -> None:
            window = self._window()
            if window is not None:
                window.show_error("Run not deleted", f"{path} could not be removed: {e}", e)
        return background.start(remove, on_done=self.deleted.emit, on_error=failed)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _add(self, handle: RunHandle, announce: bool = True) -> RunHandle:
        self._runs.append(handle)
        if handle.run_dir is not None:
            self._by_path[_norm(handle.run_dir)] = handle
        if announce:
            self.runs_changed.emit()
        return handle

    def _remove(self, handle: RunHandle) -> None:
        if handle in self._runs:
            self._runs.remove(handle)
            for path in [p for p, h in self._by_path.items() if h is handle]:
                del self._by_path[path]
            handle.close()
            if handle is self._current:
                self.set_current(None)
            if handle in self._compared:
                self.set_compared(handle, False)
            self.runs_changed.emit()
            handle.deleteLater()

    def live(self) -> list[RunHandle]:
        return [h for h in self._runs if h.is_live]

    def close(self) -> None:
        """The app is quitting: stop polling (workers are ended by the engine's shutdown)."""
        self._closed = True
        self._scan_timer.stop()
        self._scan.cancel()
        for h in self._runs:
            h.close()


def _norm(path: str | Path) -> Path:
    p = Path(path).expanduser()
    try:
        return p.resolve()
    except OSError:
        return p.absolute()
