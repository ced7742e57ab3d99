"""Writes the run directory as the run goes: metrics.jsonl (in batches, at every flush),
status.json (state changes, progress, and a heartbeat thread), log.txt."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from engine.runs.layout import RunDir
from engine.runs.logfile import RunLog
from engine.runs.metrics import MetricsWriter
from engine.runs.status import new_status, read_status, write_status
from engine.train.callbacks.base import Callback

HEARTBEAT_S = 5.0


class RunRecorder(Callback):
    def __init__(self, run: RunDir, *, epochs: int, resumed: bool = False) -> None:
        self.run = run
        self.resumed = resumed
        old = read_status(run.status) if resumed else None
        self.status = new_status(epochs=epochs)
        if old:  # keep what a resume does not change
            self.status.update({k: old[k] for k in ("checkpoint", "best") if k in old})
            self.status["resumed"] = int(old.get("resumed", 0)) + 1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.metrics: MetricsWriter | None = None
        self.log: RunLog | None = None  # files are opened at the start of fit (the folder exists then)

    # -- status -----------------------------------------------------------------------------
    def write_status(self, *, fsync: bool = True) -> None:
        with self._lock:
            snapshot = dict(self.status)
        try:
            write_status(self.run.status, snapshot, fsync=fsync)
        except OSError as e:  # a full disk must not hide the real outcome of the run
            print(f"layerstudio: cannot write {self.run.status}: {e}", file=sys.stderr)

    def _update(self, **kw) -> None:
        with self._lock:
            self.status.update(kw)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self.write_status(fsync=False)

    # -- hooks ------------------------------------------------------------------------------
    def on_fit_start(self, trainer, event) -> None:
        self.metrics = MetricsWriter(self.run.metrics)
        self.log = RunLog(self.run.log)
        self._update(state="running", epoch=event.start_epoch - 1, step=event.start_step, epochs=event.epochs,
                     error=None, paused=False)
        self.log.write(("resumed" if self.resumed else "started") + f" at epoch {event.start_epoch}, step "
                       f"{event.start_step} of {event.epochs} epochs × {event.batches_per_epoch} batches on "
                       f"{event.device} (pid {event.pid})")
        self.write_status()
        self._thread = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)
        self._thread.start()

    def on_metrics(self, trainer, event) -> None:
        n = len(event.step)
        loss, acc, lr, t, steps = (event.loss.tolist(), event.accuracy.tolist(), event.lr.tolist(),
                                   event.time.tolist(), event.step.tolist())
        self.metrics.write({"step": steps[i], "epoch": event.epoch, "split": "train", "loss": loss[i],
                            "accuracy": acc[i], "lr": lr[i], "images_per_s": event.images_per_s,
                            "gpu_mem": event.gpu_mem, "time": t[i]} for i in range(n))
        self._update(step=steps[-1])

    def on_validation_end(self, trainer, event) -> None:
        self.metrics.write([{"step": event.step, "epoch": event.epoch, "split": "val", "loss": event.loss,
                             "accuracy": event.accuracy, "lr": trainer.step_fn.lr, "images_per_s": None,
                             "gpu_mem": None, "time": time.time()}])
        self.log.write(f"epoch {event.epoch}: validation loss {event.loss:.4f}, accuracy {event.accuracy:.2%}")

    def on_train_epoch_end(self, trainer, event) -> None:
        self.log.write(f"epoch {event.epoch}/{event.epochs}: loss {event.loss:.4f}, accuracy {event.accuracy:.2%}, "
                       f"{event.images_per_s:,.0f} images/s, {event.seconds:.1f} s")

    def on_epoch_end(self, trainer, epoch: int) -> None:
        self._update(epoch=epoch)

    def on_checkpoint(self, trainer, event) -> None:
        try:
            rel = str(Path(event.path).relative_to(self.run.path))
        except ValueError:
            rel = str(event.path)
        self._update(checkpoint=rel, checkpoint_step=event.step, best=trainer.best)
        self.log.write(f"checkpoint {rel} (epoch {event.epoch}, step {event.step}{', best' if event.best else ''})")
        # no fsync: the checkpoint itself is durable, and resuming reads the folder, not this
        self.write_status(fsync=False)

    def on_state(self, trainer, event) -> None:
        self._update(paused=event.state == "paused")
        self.log.write(event.state)
        self.write_status(fsync=False)

    def on_log(self, trainer, event) -> None:
        self.log.write(event.message, event.level)

    def on_failure(self, trainer, event) -> None:
        f = event.failure
        self._update(error={k: v for k, v in f.items() if k != "details"})
        text = f["message"] + (f"\n{f['advice']}" if f.get("advice") else "") + \
            (f"\n{f['details'].rstrip()}" if f.get("details") else "")
        self._quietly(lambda: self.log.write(text, "error"))

    def on_fit_end(self, trainer, event) -> None:
        """Close everything; a failing disk is reported on stderr and must not hide the outcome."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._update(state=event.state, step=event.step, paused=False, best=event.best)
        if self.metrics is not None:
            self._quietly(self.metrics.sync)
            self._quietly(self.metrics.close)
        self.write_status()
        self._quietly(lambda: self.log.write(f"{event.state} at epoch {event.epoch}, step {event.step} "
                                             f"({event.seconds:.1f} s)"))
        self._quietly(lambda: self.log.close())

    def _quietly(self, action) -> None:
        if self.log is None:
            self.log = _NullLog()
        try:
            action()
        except OSError as e:
            print(f"layerstudio: cannot write to {self.run.path}: {e}", file=sys.stderr)


class _NullLog:
    """Stands in for log.txt when the run failed before it could be opened."""

    def write(self, message: str, level: str = "info") -> None:
        print(f"layerstudio: {level}: {message}", file=sys.stderr)

    def close(self) -> None:
        pass
