"""``log.txt``: human-readable lines with a time stamp; tracebacks of failures go here too."""
from __future__ import annotations

import os
import time
from pathlib import Path


class RunLog:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, message: str, level: str = "info") -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        tag = "" if level == "info" else f"{level.upper()}: "
        lines = message.rstrip("\n").split("\n")
        self._f.write(f"{stamp} {tag}{lines[0]}\n" + "".join(f"    {ln}\n" for ln in lines[1:]))
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.flush()
            try:
                os.fsync(self._f.fileno())
            except OSError:
                pass
            self._f.close()
