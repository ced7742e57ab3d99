"""``TrainingRun``: one training worker process, seen from the GUI thread.

Commands go down the worker's socket (start, pause, resume, stop); its events come back as
signals. A stop is a message first; if the worker has not finished ``grace_s`` later it is
killed. A worker that dies (killed, crashed, out of memory) is reported through ``error``
with the classified failure, its run directory is marked, and the app carries on.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.runs import events as ev
from engine.runs import failures
from engine.runs.layout import STATUS
from engine.runs.status import mark_ended
from engine.service.host import ForkServerError
from studio.services.engine_client import EXIT_WAIT_MS, EngineService
from studio.services.watch import ChannelWatcher

GRACE_S = 10.0


class TrainingRun(QObject):
    state_changed = Signal(str)  # starting, running, paused, stopping, finished, stopped, failed, interrupted
    started = Signal(object)  # ev.Started: run directory, classes, epochs, batches per epoch
    metrics = Signal(object)  # ev.Metrics: per-step arrays since the last flush
    epoch_end = Signal(object)  # ev.EpochEnd
    validation = Signal(object)  # ev.Validation (with the confusion matrix)
    checkpoint_saved = Signal(object)  # ev.CheckpointSaved
    log = Signal(str)
    error = Signal(object)  # a classified failure dict (engine.runs.failures)
    finished = Signal(object)  # ev.Finished; always the last signal of a run
    #: every event of the run as it arrives, after its own signal above if it has one (but
    #: ``finished`` stays the last signal): also the probes' (ev.Filters, ev.FeatureMaps,
    #: ev.LayerHealth, ev.Evaluation, ev.Saliency, ev.ProbeImages) and the Error/Finished
    #: made up here for a worker that died
    event = Signal(object)

    def __init__(self, engine: EngineService, *, project: dict | None = None, project_path: str | None = None,
                 run_dir: str | None = None, runs_parent: str | None = None, overrides: dict | None = None,
                 resume: str | None = None, epochs: int | None = None, device: str | None = None,
                 grace_s: float = GRACE_S, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if (project is None) == (resume is None):
            raise ValueError("give either project or resume")
        self.engine = engine
        self.request: dict[str, Any] = {"project": project, "project_path": project_path, "run_dir": run_dir,
                                        "runs_parent": runs_parent, "overrides": overrides or {},
                                        "resume": resume, "epochs": epochs, "device": device}
        self.grace_s = grace_s
        self.state = "new"
        self.pid: int | None = None
        self.run_dir: str | None = resume or run_dir
        self.step = 0
        self.last_checkpoint: str | None = None
        self.failure: dict | None = None
        self.result: ev.Finished | None = None
        self._req: int | None = None
        self._watcher: ChannelWatcher | None = None
        self._stop_requested = False
        self._killed = False
        self._waiting_exit = False
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)
        engine.host.forked.connect(self._forked)
        engine.host.fork_failed.connect(self._fork_failed)
        engine.host.exited.connect(self._exited)

    # -- commands -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.state != "new":
            return
        self._set_state("starting")
        try:
            self._req, channel = self.engine.host.fork("worker")
        except ForkServerError as e:
            message = f"the engine could not start a worker: {e}"  # `e` is unbound after the except block
            QTimer.singleShot(0, lambda: self._fail_to_start(message))
            return
        self._watcher = ChannelWatcher(channel, self)
        self._watcher.messages.connect(self._on_messages)
        self._watcher.closed.connect(self._on_closed)
        channel.try_send({"cmd": "start", "request": self.request})  # waits in the socket until the worker runs

    def pause(self) -> None:
        self._send({"cmd": "pause"})

    def resume(self) -> None:
        self._send({"cmd": "resume"})

    def configure_probes(self, **config) -> None:
        """Change the live probes of the running worker: any of the ``training.probes.*``
        settings without the prefix (``feature_layer="conv2"``, ``feature_image=3``,
        ``filter_layer=None``, ``period_s=1.0``…). A bad value comes back as a warning log."""
        self._send({"cmd": "probe_config", "config": config})

    def stop(self) -> None:
        """Graceful: the worker checkpoints at the next step and finishes; killed after the grace period."""
        if self.is_done or self._stop_requested:
            return
        self._stop_requested = True
        self._send({"cmd": "stop"})
        if self.state not in ("new",):
            self._set_state("stopping")
        self._kill_timer.start(int(self.grace_s * 1000))

    def kill(self) -> None:
        """Kill the worker now (its last checkpoint stays valid)."""
        self._kill()

    @property
    def is_done(self) -> bool:
        return self.state in ("finished", "stopped", "failed", "interrupted")

    def _send(self, msg: dict) -> None:
        if self._watcher is not None and self._watcher.active:
            self._watcher.channel.try_send(msg)

    def _kill(self) -> None:
        if self.pid is not None and not self.is_done:
            self._killed = True
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- the fork server ------------------------------------------------------------------------
    def _forked(self, req: int, pid: int) -> None:
        if req == self._req:
            self.pid = pid
            if self._stop_requested and self._killed is False and not self._kill_timer.isActive():
                self._kill_timer.start(int(self.grace_s * 1000))

    def _fork_failed(self, req: int, message: str) -> None:
        if req == self._req:
            self._fail_to_start(message)

    def _exited(self, pid: int, code: int) -> None:
        if pid == self.pid and self._waiting_exit:
            self._died(code)

    # -- the worker's events ----------------------------------------------------------------------
    def _on_messages(self, msgs: list) -> None:
        for m in msgs:
            data = m.get("event")
            if not isinstance(data, dict):
                continue
            try:
                event = ev.event_from_dict(data)
            except (ValueError, TypeError):
                continue
            self._dispatch(event)
            if not isinstance(event, ev.Finished):  # _finish sends that one, once
                self.event.emit(event)

    def _dispatch(self, e: ev.Event) -> None:
        if isinstance(e, ev.Metrics):
            if len(e.step):
                self.step = int(e.step[-1])
            self.metrics.emit(e)
        elif isinstance(e, ev.Started):
            self.run_dir = e.run_dir
            self.step = e.start_step
            self.started.emit(e)
        elif isinstance(e, ev.StateChanged):
            if not (self._stop_requested and e.state == "running"):
                self._set_state(e.state)
        elif isinstance(e, ev.EpochEnd):
            self.epoch_end.emit(e)
        elif isinstance(e, ev.Validation):
            self.validation.emit(e)
        elif isinstance(e, ev.CheckpointSaved):
            self.last_checkpoint = e.path
            self.checkpoint_saved.emit(e)
        elif isinstance(e, ev.Log):
            self.log.emit(e.message if e.level == "info" else f"{e.level}: {e.message}")
        elif isinstance(e, ev.Error):
            self.failure = e.failure
            self.error.emit(e.failure)
        elif isinstance(e, ev.Finished):
            self._finish(e)

    def _on_closed(self) -> None:
        """The worker's socket closed: normal after "finished", else the worker died."""
        self._watcher = None
        if self.is_done:
            return
        code = self.engine.host.exit_code(self.pid) if self.pid else None
        if code is not None:
            self._died(code)
        else:
            self._waiting_exit = True
            QTimer.singleShot(EXIT_WAIT_MS, lambda: self._died(None))

    def _died(self, code: int | None) -> None:
        if self.is_done:
            return
        self._waiting_exit = False
        if self._killed and self._stop_requested:
            failure = failures.failure("killed", f"the training process did not stop within {self.grace_s:g} s and "
                                       "was killed", advice="Resume the run from its last checkpoint.",
                                       step=self.step, checkpoint=self.last_checkpoint)
            state = "interrupted"
        else:
            failure = failures.classify_exit(code, step=self.step, checkpoint=self.last_checkpoint)
            state = "failed"
        if self.run_dir:  # the worker could not record its own end
            try:
                mark_ended(Path(self.run_dir) / STATUS, state, failure)
            except OSError:
                pass
        self.failure = failure
        self.error.emit(failure)
        self.event.emit(ev.Error(failure))
        self._finish(ev.Finished(state=state, epoch=0, step=self.step, run_dir=self.run_dir,
                                 checkpoint=self.last_checkpoint, error=failure))

    def _fail_to_start(self, message: str) -> None:
        if self.is_done:
            return
        failure = failures.failure("exception", message)
        self.failure = failure
        self.error.emit(failure)
        self.event.emit(ev.Error(failure))
        self._finish(ev.Finished(state="failed", epoch=0, step=0, error=failure))

    def _finish(self, e: ev.Finished) -> None:
        if self.is_done:
            return
        self._kill_timer.stop()
        self.result = e
        if e.run_dir:
            self.run_dir = e.run_dir
        if e.checkpoint:
            self.last_checkpoint = e.checkpoint
        self._set_state(e.state)
        self.event.emit(e)
        self.finished.emit(e)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
