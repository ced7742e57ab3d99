"""Layer-health dock: per layer over time, gradient norm, weight norm, update/weight ratio and
dead ReLU units; vanishing and exploding gradients flagged — and the canvas badges every
node of the current run with its health (cleared when no run is current).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout

from studio.docks.live_run import LivePanel, drop_after, thin
from widgets.health_view import COLORS, MEASURES, STATUS_TEXT, HealthTable, status_of
from widgets.style import muted

if TYPE_CHECKING:
    from engine.runs.probes import ProbeHistory
    from studio.main_window import MainWindow
    from studio.runs.handle import RunHandle

MAX_ROUNDS = 2000  # health rounds kept (thinned evenly beyond)


def node_colors(event: Any) -> dict[str, str]:
    """The canvas badge of every node a health round reports."""
    dead = np.asarray(event.dead_fraction, dtype=np.float32)
    flags = dict(event.flags or {})
    return {n: COLORS[status_of(n, flags, float(dead[i]) if i < len(dead) else float("nan"))]
            for i, n in enumerate(event.nodes)}


class HealthPanel(LivePanel):
    kinds = ("health",)

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.rounds: dict[int, Any] = {}  # step → LayerHealth
        self.colored: set[str] = set()  # nodes badged on the canvas
        self.colors: dict[str, str] = {}

        self.summary = QLabel()
        self.summary.setObjectName("health_summary")
        self.summary.setWordWrap(True)
        self.table = HealthTable()
        self.table.setObjectName("health_table")
        self.table.clicked.connect(self._clicked)
        legend = QHBoxLayout()
        for key in ("ok", "vanishing", "exploding", "dead"):
            dot = QLabel(f"<span style='color:{COLORS[key]}'>●</span> {STATUS_TEXT[key]}")
            legend.addWidget(dot)
        legend.addStretch(1)
        legend.addWidget(muted(QLabel("the canvas badges each layer the same way")))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(legend)
        window.document_changed.connect(lambda _doc: self._paint_canvas())  # a new canvas scene has no badges
        self.follow_runs()
        self.render()

    # -- LivePanel -------------------------------------------------------------------------
    def on_run(self, run: "RunHandle | None") -> None:
        self.rounds.clear()
        self.colors = {}
        self._paint_canvas()

    def on_event(self, event: Any, live: bool) -> None:
        self.rounds[int(event.step)] = event
        if len(self.rounds) > MAX_ROUNDS:
            thin(self.rounds, MAX_ROUNDS, 1)
        if int(event.step) >= max(self.rounds):
            self.colors = node_colors(event)
            self._paint_canvas()  # badges follow every round, even while the dock is hidden

    def drop_after(self, step: int) -> None:
        drop_after(self.rounds, step)

    @staticmethod
    def load_history(history: "ProbeHistory", after_step: int) -> Iterable[Any]:
        h = history.health()
        return [h.event(t) for t in range(len(h)) if int(h.steps[t]) >= after_step]

    def render(self) -> None:
        steps = sorted(self.rounds)
        if not steps:
            self.table.set_history([], np.zeros(0), {}, {})
            self.summary.setText(self._empty_text())
            return
        nodes = self._node_order({n for s in steps for n in self.rounds[s].nodes})
        col = {n: i for i, n in enumerate(nodes)}
        metrics = {key: np.full((len(steps), len(nodes)), np.nan, np.float32) for key, *_ in MEASURES}
        for t, s in enumerate(steps):
            e = self.rounds[s]
            idx = [col[n] for n in e.nodes]
            for key in metrics:
                metrics[key][t, idx] = np.asarray(getattr(e, key), dtype=np.float32)
        last = self.rounds[steps[-1]]
        self.table.set_history(nodes, np.asarray(steps), metrics, dict(last.flags or {}), self._labels())
        flagged = {n: f for n, f in (last.flags or {}).items()}
        if flagged:
            text = "; ".join(f"<b>{n}</b>: {f} gradient" for n, f in flagged.items())
            self.summary.setText(f"<span style='color:{COLORS['exploding']}'>⚠</span> {text} "
                                 f"(epoch {last.epoch}, step {last.step})")
        else:
            self.summary.setText(f"No vanishing or exploding gradient at epoch {last.epoch}, step {last.step} "
                                 f"({len(steps)} probe round{'s' if len(steps) != 1 else ''}).")

    # -- helpers ---------------------------------------------------------------------------
    def _node_order(self, present: set[str]) -> list[str]:
        """The run graph's order (inputs to output), then any other node reported."""
        project = self.run.project if self.run is not None else {}
        order = [str(n.get("id")) for n in (project.get("graph") or {}).get("nodes") or [] if isinstance(n, dict)]
        return [n for n in order if n in present] + sorted(present - set(order))

    def _labels(self) -> dict[str, str]:
        """Labels the user gave nodes in the run's graph ("label (id)")."""
        project = self.run.project if self.run is not None else {}
        out = {}
        for n in (project.get("graph") or {}).get("nodes") or []:
            if isinstance(n, dict) and n.get("label"):
                out[str(n["id"])] = f"{n['label']} ({n['id']})"
        return out

    def _paint_canvas(self) -> None:
        canvas = getattr(self.window_, "canvas", None)
        if canvas is None:
            return
        update: dict[str, str | None] = {n: None for n in self.colored - set(self.colors)}
        update.update(self.colors)
        self.colored = set(self.colors)
        if update:
            canvas.set_node_health(update)

    def _clicked(self, index) -> None:
        node = self.table.model_.nodes[index.row()] if index.isValid() else None
        if node and node in self.window_.document.graph.nodes:
            self.window_.focus_node(node)

    def _empty_text(self) -> str:
        if self.run is None:
            return "No run to show. Train the project, or open a run directory, to see the health of its layers."
        if self.loading:
            return "Reading the run's probes…"
        return "No health rounds yet: they arrive with the first probe round of the run."
