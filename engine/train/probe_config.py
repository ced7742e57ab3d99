"""The live values of ``training.probes.*`` for one run, changed by the app while it trains.

The worker's command thread calls ``request`` with the keys it got (``feature_layer``,
``period_s``…, the setting names without ``probes.``); the probes pick the changes up on the
training thread with ``apply`` at their next step, so nothing is read half-changed. A value
the schema refuses is dropped and reported once as a warning in the run's log."""
from __future__ import annotations

import threading
from typing import Any, Mapping

from engine.errors import LayerStudioError
from engine.schema.probes import PROBE_SETTINGS

PREFIX = "probes."
SETTINGS = {s.key[len(PREFIX):]: s for s in PROBE_SETTINGS}
#: chosen when a run starts: the saliency time-lapse must keep the same probe images
FIXED = {"saliency_images"}


class ProbeConfig:
    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = {k: s.param.default for k, s in SETTINGS.items()}
        if values:
            self.load(values)
        self.version = 0  # grows with every applied change (probes compare it with theirs)
        self._lock = threading.Lock()
        self._pending: dict[str, Any] = {}
        self._errors: list[str] = []
        self._step: int | None = None  # step of the last apply (once per step for every probe)

    def load(self, cfg: Mapping[str, Any]) -> None:
        """Initial values from the resolved training settings (``probes.*`` keys), or from
        keys without the prefix."""
        for key, value in cfg.items():
            name = key[len(PREFIX):] if key.startswith(PREFIX) else key
            if name in SETTINGS:
                self.values[name] = value

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    # -- any thread ---------------------------------------------------------------------------
    def request(self, changes: Mapping[str, Any]) -> None:
        with self._lock:
            if not isinstance(changes, Mapping):
                self._errors.append(f"probe settings must be an object, got {type(changes).__name__}")
                return
            for name, value in changes.items():
                setting = SETTINGS.get(name)
                if setting is None:
                    self._errors.append(f"training.probes.{name}: unknown probe setting (known: "
                                        f"{', '.join(SETTINGS)})")
                    continue
                if name in FIXED:
                    self._errors.append(f"training.probes.{name} cannot change during a run; it applies "
                                        "to the next run")
                    continue
                try:
                    p = setting.param
                    self._pending[name] = p.validate(value) if value is not None or not p.nullable else None
                except LayerStudioError as e:
                    self._errors.append(f"training.{PREFIX}{e.message}")

    # -- the training thread ------------------------------------------------------------------
    def apply(self, step: int | None = None) -> tuple[set[str], list[str]]:
        """(names changed, error messages) since the last call; at most once per ``step`` (the
        other probes of that step get nothing: the first one has logged the errors)."""
        if (step is not None and step == self._step) or not (self._pending or self._errors):
            return set(), []  # the usual case, every step: no lock taken
        self._step = step
        with self._lock:
            pending, errors = self._pending, self._errors
            self._pending, self._errors = {}, []
        changed = {k for k, v in pending.items() if self.values.get(k) != v}
        for k in changed:
            self.values[k] = pending[k]
        if changed:
            self.version += 1
        return changed, errors
