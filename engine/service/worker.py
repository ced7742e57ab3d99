"""A training worker: one forked process per run.

    app → worker   {"cmd": "start", "request": {...}}   then any of
                   {"cmd": "pause"} {"cmd": "resume"} {"cmd": "stop"}
                   {"cmd": "probe_config", "config": {"feature_layer": "conv2", ...}}  (training.probes.*
                   keys without the prefix; a refused value comes back as a warning log event)
    worker → app   {"event": <engine.runs.events event as a dict>}  … ending with "finished"

The start request: ``project`` (the project as a dict) with ``project_path``, ``run_dir``
(default: runs/<name>-<time> beside the project file, or under ``runs_parent``) and
``overrides`` ({"epochs", "batch_size", "device"}); or ``resume`` (a run directory) with
optional ``epochs`` and ``device``.

If the app goes away (EOF on the socket), or the fork server is told to shut down (SIGTERM),
the run stops at the next step, writes a checkpoint, marks itself "interrupted" and the
process exits: an orphan never trains on unobserved.
"""
from __future__ import annotations

import queue
import signal
import threading
from pathlib import Path
from typing import Any

from engine.errors import LayerStudioError
from engine.runs import events as ev
from engine.runs import failures
from engine.service.channel import Channel
from engine.train.control import Control
from engine.train.probe_config import ProbeConfig

EXIT_OK, EXIT_INVALID, EXIT_FAILED = 0, 1, 3
NICE = 5  # below the app: the window stays smooth while a run uses every core it is given


def be_polite() -> None:
    """Lower priority, and by default one core fewer than the machine has (``training.threads``
    overrides it): the GUI process keeps a core for itself."""
    import os

    import torch
    try:
        os.nice(NICE)
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores - 1))


def make_trainer(request: dict[str, Any], callbacks: list, control: Control):
    from engine.project.io import from_dict
    from engine.runs.layout import default_runs_parent, new_run_path
    from engine.train.trainer import Trainer

    if request.get("resume"):
        return Trainer.resume(request["resume"], epochs=request.get("epochs"), device=request.get("device"),
                              callbacks=callbacks, control=control)
    project = from_dict(request["project"])
    path = request.get("project_path")
    run_dir = request.get("run_dir")
    if not run_dir:
        parent = request.get("runs_parent") or default_runs_parent(path)
        run_dir = new_run_path(parent, project.name)
    return Trainer(project, project_path=path, run_dir=Path(run_dir), overrides=request.get("overrides") or {},
                   callbacks=callbacks, control=control)


def run_request(request: dict[str, Any], channel: Channel, control: Control,
                probes: ProbeConfig | None = None) -> int:
    from engine.train.callbacks import EventStream

    def send(event: ev.Event) -> None:
        channel.try_send({"event": event.to_dict()})  # a gone app is noticed by the command reader

    be_polite()
    try:
        trainer = make_trainer(request, [EventStream(send)], control)
        if probes is not None:
            trainer.probe_config = probes  # the changes the app sends while the run trains
        trainer.setup()
    except Exception as e:  # bad input: say what, and leave no half-made run behind
        failure = failures.invalid(e) if isinstance(e, LayerStudioError) else failures.classify_exception(e)
        send(ev.Error(failure))
        send(ev.Finished(state="failed", epoch=0, step=0, error=failure))
        return EXIT_INVALID
    finished = trainer.fit()
    return EXIT_FAILED if finished.state == "failed" else EXIT_OK


def main(fd: int) -> int:
    channel = Channel.from_fd(fd)
    control = Control()
    starts: queue.Queue = queue.Queue()
    probes = ProbeConfig()  # filled by probe_config commands, applied by the probes between steps

    def read_commands() -> None:
        while True:
            try:
                msg = channel.recv()
            except Exception:  # a garbled frame: treat the app as gone
                msg = None
            if msg is None:
                control.stop("interrupted")
                starts.put(None)
                return
            cmd = msg.get("cmd")
            if cmd == "start":
                starts.put(msg.get("request") or {})
            elif cmd == "pause":
                control.pause()
            elif cmd == "resume":
                control.resume()
            elif cmd == "stop":
                control.stop("stopped")
            elif cmd == "probe_config":
                probes.request(msg.get("config") or {})

    # a signal handler takes no locks: it only sets the flag the loop reads every step
    signal.signal(signal.SIGTERM, lambda signum, frame: control.stop("interrupted", wake=False))
    threading.Thread(target=read_commands, name="worker-commands", daemon=True).start()
    while True:
        try:
            request = starts.get(timeout=0.2)
            break
        except queue.Empty:
            if control.stop_reason is not None:
                return EXIT_OK
    if request is None:
        return EXIT_OK
    return run_request(request, channel, control, probes)
