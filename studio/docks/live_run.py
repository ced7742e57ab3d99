"""``LivePanel``: the base of the docks that show what a run's probes report (filters, feature
maps, layer health, evaluation).

It follows ``window.runs.current_changed`` and the current ``RunHandle``'s ``event`` signal,
and hands a subclass the events of the kinds it lists. Whatever the run recorded before the
panel saw it (a reopened run, a panel built mid-run) is read from the run's ``probes/`` on
the thread pool and handed over the same way; a run that another process writes is read
again every few seconds while it runs. Drawing is coalesced, and left until the dock is on
screen: a tab in the background costs nothing while a run streams.
"""
from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from engine.runs.probes import ProbeHistory
from widgets import background

if TYPE_CHECKING:
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

log = logging.getLogger("studio.docks.live")

RENDER_MS = 100  # at most ten redraws a second, however fast events come
POLL_MS = 3000  # rereading probes/ of a run that another process writes


def drop_after(frames: dict[int, Any], step: int) -> None:
    """Forget the rounds after ``step`` (keyed by step)."""
    for s in [s for s in frames if s > step]:
        del frames[s]


def thin(frames: dict[int, Any], budget: int, size: int) -> None:
    """Bound a panel's history: drop every other round (the newest stays) until ``len(frames)``
    rounds of ``size`` bytes fit in ``budget``, so what is kept still spans the whole run."""
    while len(frames) > 2 and len(frames) * size > budget:
        for step in sorted(frames)[-2::-2]:
            del frames[step]


def spaced(steps: list[int], after_step: int, limit: int) -> list[int]:
    """Indices into ``steps`` of the rounds from ``after_step`` on, at most ``limit`` of them
    evenly spaced (the newest always among them): a long run's history loads in bounded time."""
    first = int(np.searchsorted(np.asarray(steps, dtype=np.int64), after_step, side="left"))
    n = len(steps) - first
    if n <= limit:
        return list(range(first, len(steps)))
    picks = np.unique(np.round(np.linspace(first, len(steps) - 1, limit)).astype(int))
    return [int(i) for i in picks]


def read_frames(read: Callable[[int], Any], indices: Iterable[int]) -> Iterator[Any]:
    """``read(i)`` for each index, skipping a frame that cannot be read (damaged, or removed by
    a live run's thinning): one bad file must not hide the rest of the history."""
    for i in indices:
        try:
            yield read(i)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            log.info("skipping a probe frame: %s", e)


class LivePanel(QWidget):
    kinds: tuple[str, ...] = ()  # event types this panel wants

    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.run: "RunHandle | None" = None
        self._on_screen = True
        self._dirty = False
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_MS)
        self._render_timer.timeout.connect(self._render_now)
        self._loader = background.Latest()
        self._loading = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._reload)
        self._after_step = 0  # probes/ was read up to this step
        self._reader: dict = {}  # {"history": ProbeHistory} of the current run, made on the pool
        self.destroyed.connect(self._loader.cancel)

    # -- for subclasses --------------------------------------------------------------------
    def follow_runs(self) -> None:
        """Start following the window's runs (call at the end of the subclass's __init__)."""
        runs = getattr(self.window_, "runs", None)
        if runs is None:
            return
        runs.current_changed.connect(self._set_run)
        self._set_run(runs.current())

    def on_run(self, run: "RunHandle | None") -> None:
        """A new current run (or none): forget the old one's data."""

    def on_event(self, event: Any, live: bool) -> None:
        """One event of ``kinds``: live from the run, or read back from its probes/ (live=False)."""

    def render(self) -> None:
        """Draw the data held (called coalesced, only while on screen)."""

    def drop_after(self, step: int) -> None:
        """Forget the rounds after ``step`` (a run resumed from a checkpoint there)."""

    @staticmethod
    def load_history(history: "ProbeHistory", after_step: int) -> Iterable[Any]:
        """The recorded events of this panel's kinds from ``after_step`` on, read with
        ``history`` (already refreshed; runs off the GUI thread). The round at ``after_step``
        comes again: it may have been half written when last read, so panels replace what they
        hold for a step."""
        return ()

    def schedule(self) -> None:
        """Ask for a redraw (coalesced; left until the dock is on screen)."""
        self._dirty = True
        if self._on_screen and not self._render_timer.isActive():
            self._render_timer.start()

    def flush(self) -> None:
        """Draw now if anything changed (tests; a dock brought up)."""
        self._render_timer.stop()
        self._render_now(force=True)

    @property
    def loading(self) -> bool:
        return self._loading

    def on_dock_visibility(self, visible: bool) -> None:
        self._on_screen = visible
        if visible and self._dirty:
            self.schedule()

    # -- following the current run -----------------------------------------------------------
    def _set_run(self, run: "RunHandle | None") -> None:
        if run is self.run:
            return
        old, self.run = self.run, run
        if old is not None and shiboken6.isValid(old):
            for signal, slot in ((old.event, self._event), (old.state_changed, self._state)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
        self._loader.cancel()
        self._loading = False
        self._poll.stop()
        self._after_step = 0
        self._reader = {}
        self.on_run(run)
        if run is not None:
            run.event.connect(self._event)
            run.state_changed.connect(self._state)
            self._reload()
            self._update_poll()
        self.schedule()

    def _event(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "started" and getattr(event, "start_step", 0):
            # a resumed run redoes the steps after its checkpoint: what it showed of them goes
            self.drop_after(int(event.start_step))
            self._after_step = min(self._after_step, int(event.start_step))
            self.schedule()
        elif kind in self.kinds:
            self.on_event(event, True)
            self.schedule()

    def _state(self, state: str) -> None:
        was_polling = self._poll.isActive()
        self._update_poll()
        if was_polling and not self._poll.isActive():
            self._reload()  # the last rounds a finished writer left

    def _update_poll(self) -> None:
        run = self.run
        if run is not None and not run.is_live and run.state in ("starting", "running", "paused", "stopping"):
            if not self._poll.isActive():
                self._poll.start()
        else:
            self._poll.stop()

    def _reload(self) -> None:
        run = self.run
        if run is None or run.run_dir is None or self._loading:
            return
        run_dir, after, load, box = Path(run.run_dir), self._after_step, type(self).load_history, self._reader

        def read(task) -> list:
            # one ProbeHistory per run, used by one task at a time: a poll reads only what is new
            if box.get("history") is None:
                box["history"] = ProbeHistory(run_dir)
            else:
                box["history"].refresh()
            return list(load(box["history"], after))
        self._loading = True
        self._loader.start(read,
                           on_done=lambda events, r=run: self._loaded(r, events),
                           on_error=lambda e, r=run: self._load_failed(r, e))

    def _loaded(self, run: "RunHandle", events: list) -> None:
        if run is not self.run:
            return
        self._loading = False
        for e in events:
            self._after_step = max(self._after_step, int(getattr(e, "step", 0) or 0))
            self.on_event(e, False)
        self.schedule()  # also without events: "reading…" gives way to what there is

    def _load_failed(self, run: "RunHandle", error: BaseException) -> None:
        if run is self.run:
            self._loading = False
            log.warning("reading the probes of %s failed: %s", run.run_dir, error)

    def _render_now(self, force: bool = False) -> None:
        if not self._dirty or not (self._on_screen or force):
            return
        self._dirty = False
        self.render()
