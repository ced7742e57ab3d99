"""``RunHandle``: one run as every panel sees it — live (a ``TrainingRun`` worker), queued
(waiting for its device), or on disk (a run directory, followed while it runs).

Whatever the source, listeners get the same things: ``event`` with every
``engine.runs.events`` event in arrival order, ``state_changed``, and ``history`` (the run's
metrics as numpy columns, exactly what ``metrics.jsonl`` holds) for what came before they
connected. ``latest`` keeps the last event of each type (a panel built mid-run shows the last
filters at once).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.runs import events as ev
from studio.runs.history import RunHistory

if TYPE_CHECKING:
    from studio.runs.follower import DiskUpdate, RunFollower
    from studio.services.training_run import TrainingRun

#: every state a handle can be in
STATES = ("new", "queued", "starting", "running", "paused", "stopping", "finished", "stopped", "failed",
          "interrupted")
ENDED = ("finished", "stopped", "failed", "interrupted")
ACTIVE = ("starting", "running", "paused", "stopping")


class RunHandle(QObject):
    event = Signal(object)  # every engine.runs.events.Event, in arrival order
    state_changed = Signal(str)
    changed = Signal()  # progress, best accuracy, info: the runs panel redraws the row (coalesced there)
    failed = Signal(object)  # a classified failure dict (also in ``event`` as an Error)

    def __init__(self, *, run_dir: str | Path | None = None, name: str = "", project: dict | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = Path(run_dir) if run_dir else None
        self.name = name or (self.run_dir.name if self.run_dir else "run")
        self.state = "new"
        self.project: dict = project or {}
        self.config: dict = {}
        self.status: dict = {}
        self.classes: list[str] = []
        self.history = RunHistory()
        self.latest: dict[str, ev.Event] = {}  # event type tag → the last such event
        self.epoch = 0  # epochs completed
        self.epochs = 0
        self.step = 0
        self.batches_per_epoch = 0
        self.params: int | None = None
        self.flops: int | None = None
        self.device: str | None = None  # asked for (queue key) or used
        self.failure: dict | None = None
        self.best: dict | None = None
        self.paused = False
        self.created = time.time()
        self.request: dict[str, Any] | None = None  # how to start it (TrainingRun keywords) while queued
        self.training: "TrainingRun | None" = None
        self.follower: "RunFollower | None" = None
        self.seen_on_disk = False  # listed by a scan of its folder (so its folder vanishing means removed)

    def __repr__(self) -> str:
        return f"<RunHandle {self.name} {self.state}>"

    # -- what panels ask ------------------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        """A worker of this app runs it: commands reach it."""
        return self.training is not None and not self.training.is_done

    @property
    def is_active(self) -> bool:
        """Running somewhere (here, or written by another process that we follow)."""
        return self.state in ACTIVE

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def total_steps(self) -> int:
        return self.epochs * self.batches_per_epoch

    @property
    def checkpoint(self) -> str | None:
        """The last good checkpoint (a path, absolute or relative to the run directory), if any."""
        finished, saved = self.latest.get("finished"), self.latest.get("checkpoint")
        return ((finished.checkpoint if finished is not None else None) or (saved.path if saved is not None else None)
                or self.status.get("checkpoint") or (self.failure or {}).get("checkpoint"))

    @property
    def can_resume(self) -> bool:
        """Ended, in a run directory, with a checkpoint to continue from."""
        return self.ended and self.run_dir is not None and bool(self.checkpoint)

    def progress(self) -> float | None:
        """Fraction done, 0..1 (None when unknown)."""
        if self.state == "finished":
            return 1.0
        if self.total_steps:
            return min(1.0, self.step / self.total_steps)
        if self.epochs:
            return min(1.0, self.epoch / self.epochs)
        return None

    def eta_seconds(self) -> float | None:
        """Time left at the pace of the last ~200 steps (None when unknown or not running)."""
        if self.state not in ("running", "stopping") or not self.total_steps:
            return None
        steps, times = self.history.train.col("step"), self.history.train.col("time")
        if len(steps) < 2:
            return None
        i = max(0, len(steps) - 200)
        ds, dt = float(steps[-1] - steps[i]), float(times[-1] - times[i])
        if ds <= 0 or not np.isfinite(dt) or dt <= 0:
            return None
        return max(0.0, (self.total_steps - self.step) * dt / ds)

    def best_accuracy(self) -> float | None:
        """Best validation accuracy so far (0..1)."""
        best = self.best or {}
        if best.get("metric") in ("val_accuracy", "accuracy") and isinstance(best.get("value"), (int, float)):
            return float(best["value"])
        return self.history.best_val_accuracy()

    def training_setting(self, key: str, default: Any = None) -> Any:
        """A setting of the run's project snapshot (dotted key under ``training``)."""
        node: Any = self.project.get("training", {})
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    # -- commands -------------------------------------------------------------------------------
    def send(self, command: dict) -> None:
        """A command for the live worker (e.g. probe settings); ignored when not live."""
        if not self.is_live:
            return
        command = dict(command)
        if command.get("cmd") == "probe_config" and "config" not in command:
            command.pop("cmd")
            self.training.configure_probes(**command)
        else:
            self.training._send(command)

    def pause(self) -> None:
        if self.is_live:
            self.training.pause()

    def resume(self) -> None:
        if self.is_live:
            self.training.resume()

    def stop(self) -> None:
        if self.is_live:
            self.training.stop()

    # -- a live worker --------------------------------------------------------------------------
    def attach(self, training: "TrainingRun") -> None:
        """Follow a ``TrainingRun`` (started by the caller after this)."""
        if self.follower is not None:
            self.follower.stop()
        self.training = training
        self.request = None
        self.failure = None
        training.setParent(self)
        training.state_changed.connect(self._set_state)
        generic = getattr(training, "event", None)
        if generic is not None:
            generic.connect(self._live_event)
        else:  # until TrainingRun has its generic signal
            for sig in (training.started, training.metrics, training.epoch_end, training.validation,
                        training.checkpoint_saved):
                sig.connect(self._live_event)
            training.log.connect(lambda text: self._live_event(ev.Log("info", text)))
            training.error.connect(lambda f: self._live_event(ev.Error(f)))
            training.finished.connect(self._live_event)
        if training.state != self.state:
            self._set_state(training.state)

    def _live_event(self, e: ev.Event) -> None:
        if isinstance(e, ev.StateChanged):
            self.paused = e.state == "paused"  # the state itself comes through state_changed
        self._take(e, record=True)

    # -- a run directory ------------------------------------------------------------------------
    def follow(self) -> "RunFollower":
        """Read the run directory (everything so far), and keep reading while it runs."""
        from studio.runs.follower import RunFollower
        if self.follower is None:
            self.follower = RunFollower(self.run_dir, parent=self)
            self.follower.updated.connect(self._disk_update)
        if not self.is_live:
            self.follower.start()
        return self.follower

    def _disk_update(self, u: "DiskUpdate") -> None:
        if self.is_live:
            return  # the worker's own events are ahead of the files
        if u.first or u.reset:
            self.history.clear()
        if u.config:
            self.config = u.config
            self.classes = list(u.config.get("classes") or self.classes)
            self.params = u.config.get("params", self.params)
            self.batches_per_epoch = int(u.config.get("batches_per_epoch") or self.batches_per_epoch)
            self.device = u.config.get("device", self.device)
        if u.project:
            self.project = u.project
        if u.flops is not None:
            self.flops = u.flops
        if u.train is not None and len(u.train["step"]):
            self.history.add_train(**u.train)
        if u.val is not None and len(u.val["step"]):
            self.history.add_val(**u.val)
        self.apply_status(u.status)
        for e in u.events:
            self._take(e, record=False)
        if u.state and u.state != self.state:
            self._set_state(u.state)
        self.changed.emit()

    def apply_status(self, status: dict | None) -> None:
        """Progress, best and error from a status.json (the scan and the follower read it)."""
        if not status:
            return
        self.status = status
        self.epoch = int(status.get("epoch") or 0)
        self.epochs = int(status.get("epochs") or self.epochs)
        self.step = max(int(status.get("step") or 0), self.history.last_step)
        self.best = status.get("best") or self.best
        self.paused = bool(status.get("paused"))
        if status.get("error"):
            self.failure = status["error"]

    def set_disk_state(self, state: str | None) -> None:
        if state and not self.is_live and state != self.state:
            self._set_state(state)

    # -- events ---------------------------------------------------------------------------------
    def _take(self, e: ev.Event, *, record: bool) -> None:
        if isinstance(e, ev.Started):
            if e.run_dir:
                self.run_dir = Path(e.run_dir)
            self.classes = list(e.classes)
            self.epochs, self.batches_per_epoch = e.epochs, e.batches_per_epoch
            self.params, self.device = e.params, e.device
            self.epoch, self.step = e.start_epoch - 1, e.start_step
            if record:
                self.history.drop_after(e.start_step)  # a resume redoes what came after its checkpoint
        elif isinstance(e, ev.Metrics):
            if record:
                n = len(e.step)
                self.history.add_train(step=e.step, epoch=e.epoch, loss=e.loss, accuracy=e.accuracy, lr=e.lr,
                                       time=e.time, images_per_s=np.full(n, e.images_per_s),
                                       gpu_mem=np.full(n, np.nan if e.gpu_mem is None else float(e.gpu_mem)))
            if len(e.step):
                self.step = max(self.step, int(e.step[-1]))
        elif isinstance(e, ev.EpochEnd):
            self.epoch, self.epochs = e.epoch, e.epochs
        elif isinstance(e, ev.Validation):
            if record:
                self.history.add_val(step=e.step, epoch=e.epoch, loss=e.loss, accuracy=e.accuracy)
            if e.classes:
                self.classes = list(e.classes)
        elif isinstance(e, ev.Error):
            self.failure = e.failure
        elif isinstance(e, ev.Finished):
            if e.best:
                self.best = e.best
            if e.error:
                self.failure = e.error
            if e.run_dir:
                self.run_dir = Path(e.run_dir)
        self.latest[e.type] = e
        self.event.emit(e)
        if isinstance(e, ev.Error) and record:
            self.failed.emit(e.failure)
        if not isinstance(e, ev.Log):
            self.changed.emit()

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if state in ENDED:
            self.paused = False
        self.state_changed.emit(state)
        self.changed.emit()

    def set_queued(self, request: dict[str, Any]) -> None:
        self.request = request
        self._set_state("queued")

    def close(self) -> None:
        """Stop following (the handle is being forgotten)."""
        if self.follower is not None:
            self.follower.stop()
