"""The command line's view of a run: a progress bar fed by the run's events.

On a terminal one line is redrawn in place (epoch, batch, loss, accuracy, images/s, ETA) at
most 10 times a second; elsewhere (a log file, CI) only one line per epoch is printed.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

from engine.runs import events as ev

BAR = 24


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.min_interval = min_interval
        self._last_draw = 0.0
        self._line = False  # a bar is on screen (needs clearing)
        self.epochs = self.bpe = 0
        self.start_step = 0
        self.epoch = 1
        self.epoch_first_step = 0
        self.loss = self.acc = float("nan")
        self.rate_steps = 0.0  # steps per second, smoothed
        self._rate_t = None
        self._rate_step = 0

    def __call__(self, event: ev.Event) -> None:
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event)

    # -- output ------------------------------------------------------------------------------
    def _print(self, text: str) -> None:
        self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self._line:
            self.stream.write("\r\x1b[2K")
            self._line = False

    def _draw(self, step: int, images_per_s: float) -> None:
        now = time.monotonic()
        if not self.tty or now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        done = max(0, step - self.epoch_first_step)
        frac = min(done / self.bpe, 1.0) if self.bpe else 0.0
        filled = int(frac * BAR)
        left = (self.epochs * self.bpe) - step
        eta = left / self.rate_steps if self.rate_steps > 0 else float("nan")
        self.stream.write(f"\r\x1b[2Kepoch {self.epoch}/{self.epochs} [{'#' * filled}{'.' * (BAR - filled)}] "
                          f"{done}/{self.bpe}  loss {self.loss:.4f}  acc {self.acc:.1%}  "
                          f"{images_per_s:,.0f} img/s  ETA {_duration(eta)}")
        self.stream.flush()
        self._line = True

    # -- events ------------------------------------------------------------------------------
    def _on_started(self, e: ev.Started) -> None:
        self.epochs, self.bpe = e.epochs, e.batches_per_epoch
        self.start_step = e.start_step
        self.epoch = e.start_epoch
        self.epoch_first_step = (e.start_epoch - 1) * e.batches_per_epoch
        verb = "resuming at epoch %d" % e.start_epoch if e.start_step else "training"
        where = f" → {e.run_dir}" if e.run_dir else ""
        self._print(f"{verb} on {e.device}: {e.params:,} parameters, {e.train_samples:,} training / "
                    f"{e.val_samples:,} validation samples, {e.epochs} epochs × {e.batches_per_epoch} batches{where}")

    def _on_metrics(self, e: ev.Metrics) -> None:
        if e.epoch != self.epoch:
            self.epoch = e.epoch
            self.epoch_first_step = (e.epoch - 1) * self.bpe
        finite = np.isfinite(e.loss)
        self.loss = float(e.loss[finite].mean()) if finite.any() else float("nan")
        self.acc = float(e.accuracy.mean())
        step = int(e.step[-1])
        now = time.monotonic()
        if self._rate_t is not None and now > self._rate_t:
            r = (step - self._rate_step) / (now - self._rate_t)
            self.rate_steps = r if self.rate_steps == 0 else 0.7 * self.rate_steps + 0.3 * r
        self._rate_t, self._rate_step = now, step
        self._draw(step, e.images_per_s)

    def _on_epoch_end(self, e: ev.EpochEnd) -> None:
        self._print(f"epoch {e.epoch}/{e.epochs}  loss {e.loss:.4f}  acc {e.accuracy:.1%}  "
                    f"{e.images_per_s:,.0f} img/s  {e.seconds:.1f} s")

    def _on_validation(self, e: ev.Validation) -> None:
        self._print(f"{'':>{len(str(e.epoch)) + len(str(self.epochs)) + 7}}val loss {e.loss:.4f}  acc {e.accuracy:.1%}")

    def _on_state(self, e: ev.StateChanged) -> None:
        if e.state in ("paused", "stopping"):
            self._print(f"{e.state}…")

    def _on_log(self, e: ev.Log) -> None:
        if e.level != "info":
            self._print(f"{e.level}: {e.message}")

    def _on_finished(self, e: ev.Finished) -> None:
        self._clear()
        self.stream.flush()
