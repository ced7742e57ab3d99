"""``metrics.jsonl``: one JSON object per training step (written in batches) and per validation.

Keys of every row: step (global optimizer step), epoch (1-based), split ("train" | "val"),
loss, accuracy, lr, images_per_s, gpu_mem (bytes or null), time (Unix seconds). A value that
is not finite (a NaN loss) is written as null: JSON has no NaN.

``MetricsReader`` follows a file that is still being written: it returns only complete lines
and remembers where it stopped, so the app can poll a live run cheaply.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterable

from engine.runs.atomic import write_bytes_atomic

KEYS = ("step", "epoch", "split", "loss", "accuracy", "lr", "images_per_s", "gpu_mem", "time")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def encode_row(row: dict[str, Any]) -> str:
    return json.dumps({k: _clean(v) for k, v in row.items()}, separators=(",", ":"), allow_nan=False)


class MetricsWriter:
    """Appends rows; each ``write`` is one ``write()`` of whole lines, then a flush (no fsync)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        text = "".join(encode_row(r) + "\n" for r in rows)
        if text:
            self._f.write(text)
            self._f.flush()

    def sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


class MetricsReader:
    """Incremental reader: ``read_new()`` returns the rows appended since the last call."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.offset = 0
        self._partial = b""
        self.bad_lines = 0  # lines that are not JSON objects (skipped)

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self.offset:  # truncated or rewritten (a resume): start over
                    self.offset, self._partial = 0, b""
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an incomplete last line waits for the rest
        rows = []
        for line in lines:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self.bad_lines += 1
                continue
            if isinstance(row, dict):
                rows.append(row)
            else:
                self.bad_lines += 1
        return rows


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    return MetricsReader(path).read_new()


def keep_rows(path: str | os.PathLike, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Rewrite the file atomically with only the rows ``keep`` accepts (used on resume to drop
    rows written after the checkpoint being resumed). Returns how many rows were dropped."""
    path = Path(path)
    if not path.exists():
        return 0
    rows = read_metrics(path)
    kept = [r for r in rows if keep(r)]
    if len(kept) != len(rows):
        write_bytes_atomic(path, "".join(encode_row(r) + "\n" for r in kept).encode("utf-8"))
    return len(rows) - len(kept)


def columns(rows: Iterable[dict[str, Any]], split: str = "train") -> dict[str, list]:
    """Rows of one split as columns (lists; None where a value is missing), for plotting."""
    out: dict[str, list] = {k: [] for k in KEYS if k != "split"}
    for r in rows:
        if r.get("split") == split:
            for k in out:
                out[k].append(r.get(k))
    return out
