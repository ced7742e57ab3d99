"""Follow a run directory without the engine: the app and the CLI open any run, finished or
live (also one written by the CLI or by torchrun on another machine), and poll it while its
status says running.

    reader = RunReader("runs/lenet-20260101-120000")
    reader.state()          # "running" | "finished" | "stopped" | "failed" | "interrupted"
    rows = reader.poll()    # metrics rows appended since the last poll
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.runs.checkpoints import CheckpointFile, best_checkpoint, list_checkpoints
from engine.runs.layout import RunDir, open_run
from engine.runs.metrics import MetricsReader
from engine.runs.status import effective_state, read_status


class RunReader:
    def __init__(self, path: str | os.PathLike) -> None:
        self.run: RunDir = open_run(path)
        self._metrics = MetricsReader(self.run.metrics)

    @property
    def path(self) -> Path:
        return self.run.path

    def status(self) -> dict[str, Any] | None:
        return read_status(self.run.status)

    def state(self) -> str | None:
        return effective_state(self.status())

    def is_live(self) -> bool:
        return self.state() == "running"

    def project(self) -> dict[str, Any]:
        return self.run.read_json(self.run.project)

    def config(self) -> dict[str, Any]:
        return self.run.read_json(self.run.config)

    def poll(self) -> list[dict[str, Any]]:
        """Metrics rows appended since the last call (all of them the first time)."""
        return self._metrics.read_new()

    def checkpoints(self) -> list[CheckpointFile]:
        return list_checkpoints(self.run.checkpoints)

    def best_checkpoint(self) -> Path | None:
        return best_checkpoint(self.run.checkpoints)

    def log_text(self, max_bytes: int = 1 << 20) -> str:
        try:
            with open(self.run.log, "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - max_bytes))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""


def find_interrupted(parent: str | os.PathLike) -> list[Path]:
    """Run directories under ``parent`` whose run was interrupted (to offer resuming them)."""
    out = []
    parent = Path(parent)
    if parent.is_dir():
        for p in sorted(parent.iterdir()):
            if (p / "status.json").is_file() and effective_state(read_status(p / "status.json")) == "interrupted":
                out.append(p)
    return out
