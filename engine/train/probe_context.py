"""What the live probe callbacks of one run share: the live settings, the schedule of probe
rounds, the probe set, the writer of probes/ and the graph's node ids.

Each probe callback asks ``due(trainer, step, kind)`` after every optimizer step; that applies
the app's setting changes (logging refused ones once), and says whether a probe round is due and
that kind is on. The probe then runs inside ``running(trainer, kind)``, which charges its time to
the schedule and turns that kind off for the rest of the run if it fails: a probe never ends a
training run. The probes run on the unwrapped module (never DDP's or torch.compile's wrapper)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from engine.explain.model_state import unwrap
from engine.runs import events as ev
from engine.runs.probes import ProbeWriter
from engine.train.probe_config import ProbeConfig
from engine.train.probe_schedule import ProbeSchedule
from engine.train.probe_set import ProbeSet, build_probe_set

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn

    from engine.train.trainer import Trainer


class ProbeContext:
    def __init__(self, trainer: "Trainer", config: ProbeConfig) -> None:
        self.config = config
        self.schedule = ProbeSchedule(config["period_s"])
        self.writer = ProbeWriter(trainer.run.path) if trainer.run is not None else None
        self.graph = trainer.project.graph
        self.order: list[str] = list(self.graph.topological_order())
        self._probe_set: ProbeSet | None = None
        self._probe_set_failed = False
        self._warned: set[str] = set()
        self.failed: set[str] = set()  # kinds turned off after an error

    # -- every step ------------------------------------------------------------------------------
    def round(self, trainer: "Trainer", step: int) -> bool:
        """Apply pending setting changes; True when a probe round is due at ``step``."""
        changed, errors = self.config.apply(step)
        for message in errors:
            trainer.log(f"probes: {message}", "warning")
        if changed:
            if "period_s" in changed:
                self.schedule.set_period(self.config["period_s"])
            if changed - {"period_s", "enabled"} or ("enabled" in changed and self.config["enabled"]):
                self.schedule.due_now()  # the user wants to see the new choice now
        return self.config["enabled"] and self.schedule.is_round(step)

    def due(self, trainer: "Trainer", step: int, kind: str) -> bool:
        """``round`` (every probe calls it every step), and the kind is on and working."""
        return self.round(trainer, step) and self.config[kind] and kind not in self.failed

    @contextmanager
    def running(self, trainer: "Trainer", kind: str, *, charge: bool = True) -> Iterator[None]:
        """Run one probe: time charged to the schedule (unless ``charge`` is false), an error
        logged once and that kind turned off."""
        t0 = time.perf_counter()
        try:
            yield
        except Exception as e:  # a probe's bug or its out-of-memory must not end the run
            self.failed.add(kind)
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            trainer.log(f"probes: the {kind.replace('_', ' ')} probe failed and is off for the rest of this run "
                        f"({type(e).__name__}: {first})", "warning")
        finally:
            if charge:
                self.schedule.spent(time.perf_counter() - t0)

    def module(self, trainer: "Trainer") -> "nn.Module":
        return unwrap(trainer.model)

    def position(self, trainer: "Trainer") -> tuple[int, int]:
        """(1-based epoch in progress, step) of the trainer, as the events give them."""
        pos = trainer.position
        return (pos.epoch if pos.batch == 0 else pos.epoch + 1), pos.step

    # -- shared data ---------------------------------------------------------------------------
    def probe_set(self, trainer: "Trainer") -> ProbeSet | None:
        """Built on first use; the app gets it as a ProbeImages event (and probes/) once."""
        if self._probe_set is None and not self._probe_set_failed:
            ps = build_probe_set(trainer.dataset, trainer.device, self.config["saliency_images"],
                                 has_val=trainer.val_source is not None)
            if ps is None:
                self._probe_set_failed = True
                return None
            self._probe_set = ps
            if ps.images is not None:
                n = ps.count
                event = ev.ProbeImages(images=ps.images, labels=ps.labels[:n], classes=list(ps.classes),
                                       indices=[int(i) for i in ps.indices[:n]])
                if self.writer is not None:
                    self.writer.probe_images(event)
                trainer.emit(event)
        return self._probe_set

    def node_type(self, node: str) -> str:
        return self.graph.nodes[node].type

    def warn_once(self, trainer: "Trainer", key: str, message: str, level: str = "warning") -> None:
        if key not in self._warned:
            self._warned.add(key)
            trainer.log(f"probes: {message}", level)
