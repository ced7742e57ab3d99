"""Checkpoint files of a run: naming, listing, and retention (best + the last K). No torch here:
the trainer writes the files (engine.train.checkpoint), the app only needs to list them.

    checkpoints/epoch-0002-step-000000250.pt   one per save; "epoch" is the 1-based epoch in
                                               progress (a stop mid-epoch saves mid-epoch)
    checkpoints/best.pt                        a hard link to (or copy of) the best one so far
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

BEST = "best.pt"
_NAME = re.compile(r"^epoch-(\d+)-step-(\d+)\.pt$")


@dataclass(frozen=True)
class CheckpointFile:
    path: Path
    epoch: int
    step: int


def checkpoint_name(epoch: int, step: int) -> str:
    return f"epoch-{epoch:04d}-step-{step:09d}.pt"


def list_checkpoints(folder: str | os.PathLike) -> list[CheckpointFile]:
    """Every numbered checkpoint, oldest (lowest step) first. best.pt is not listed."""
    folder = Path(folder)
    out = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _NAME.match(p.name)
            if m and p.is_file():
                out.append(CheckpointFile(p, int(m.group(1)), int(m.group(2))))
    out.sort(key=lambda c: (c.step, c.epoch))
    return out


def latest_checkpoint(folder: str | os.PathLike) -> CheckpointFile | None:
    found = list_checkpoints(folder)
    return found[-1] if found else None


def best_checkpoint(folder: str | os.PathLike) -> Path | None:
    p = Path(folder) / BEST
    return p if p.is_file() else None


def prune(folder: str | os.PathLike, keep_last: int, *, protect: Path | None = None) -> list[Path]:
    """Delete numbered checkpoints older than the ``keep_last`` latest (never ``protect``)."""
    found = list_checkpoints(folder)
    removed = []
    for c in found[:-keep_last] if keep_last > 0 else found:
        if protect is not None and c.path == protect:
            continue
        try:
            c.path.unlink()
            removed.append(c.path)
        except OSError:
            pass
    return removed
