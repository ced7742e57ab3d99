"""Autosave to recovery files, and finding them again after a crash.

While a document has unsaved changes, its window writes the whole project every N seconds
to ``<state dir>/recovery/<pid>-<id>.json`` (serialized on the GUI thread, which is fast;
written atomically on a worker, which may wait on the disk). Saving the document or closing
its window deletes the file, so a file whose process is gone is work a crash left behind:
the next start offers to recover it.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from engine.errors import LayerStudioError
from engine.project import Project
from engine.project.io import from_dict, write_atomic
from studio import settings
from widgets import background

if TYPE_CHECKING:
    from studio.document import Document

log = logging.getLogger("studio.recovery")
FORMAT = "layerstudio-recovery"


_pool: QThreadPool | None = None


def io_pool() -> QThreadPool:
    """One thread for every recovery write and delete, so they happen in the order asked."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(1)
    return _pool


def default_dir() -> Path:
    return settings.state_dir() / "recovery"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0 and not isinstance(pid, bool)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class RecoveryEntry:
    file: Path
    name: str  # the project's name
    original: str | None  # the file it was opened from, if any
    saved: float  # Unix time of the autosave
    pid: int

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved))


class RecoveryStore:
    """The recovery folder. ``write``/``scan``/``load`` touch the disk: call them off the GUI thread."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory) if directory else default_dir()

    def new_file(self) -> Path:
        return self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:10]}.json"

    @staticmethod
    def encode(project: dict, original: str | None) -> bytes:
        doc = {"format": FORMAT, "version": 1, "pid": os.getpid(), "saved": time.time(),
               "name": project.get("name", "Untitled"), "original": original, "project": project}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def write(self, file: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomic(file, data)

    @staticmethod
    def remove(file: Path) -> None:
        try:
            file.unlink()
        except FileNotFoundError:
            pass

    def scan(self) -> list[RecoveryEntry]:
        """Recovery files left by processes that are gone, newest first. Unreadable ones are skipped."""
        if not self.directory.is_dir():
            return []
        out = []
        for f in self.directory.glob("*.json"):
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
                if doc.get("format") != FORMAT or not isinstance(doc.get("project"), dict):
                    continue
                pid = int(doc.get("pid", 0))
                if _alive(pid):
                    continue
                out.append(RecoveryEntry(f, str(doc.get("name", "Untitled")), doc.get("original"),
                                         float(doc.get("saved", f.stat().st_mtime)), pid))
            except (OSError, ValueError, TypeError, AttributeError) as e:
                log.warning("skipping unreadable recovery file %s: %s", f, e)
        return sorted(out, key=lambda e: -e.saved)

    @staticmethod
    def load(entry: RecoveryEntry) -> Project:
        """Raises LayerStudioError when the saved project is not valid any more."""
        try:
            doc = json.loads(entry.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LayerStudioError(f"the recovery file {entry.file.name} cannot be read: {e}") from None
        return from_dict(doc["project"])


class Autosaver(QObject):
    """Writes a document's recovery file on a timer while it has unsaved changes."""

    saved = Signal(object)  # the recovery file, after each write

    def __init__(self, store: RecoveryStore, interval_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.file = store.new_file()
        self.doc: Document | None = None
        self._dirty = False
        self._written = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.save_now)
        self.set_interval(interval_s)

    def set_interval(self, seconds: float) -> None:
        self.timer.setInterval(max(50, int(seconds * 1000)))

    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            self.doc.undo_stack.indexChanged.disconnect(self._edited)
            self.doc.modified_changed.disconnect(self._modified_changed)
            self.discard()
        self.doc = doc
        doc.undo_stack.indexChanged.connect(self._edited)
        doc.modified_changed.connect(self._modified_changed)
        self._dirty = doc.is_modified
        self._modified_changed(doc.is_modified)

    def _edited(self, _index: int) -> None:
        self._dirty = True

    def _modified_changed(self, modified: bool) -> None:
        if modified:
            if not self.timer.isActive():
                self.timer.start()
        else:  # saved (or undone back to the saved state): nothing to recover
            self.timer.stop()
            self.discard()

    def save_now(self) -> background.Task | None:
        doc = self.doc
        if doc is None or not doc.is_modified or not self._dirty:
            return None
        self._dirty = False
        data = self.store.encode(doc.to_dict(), str(doc.path) if doc.path else None)
        file, store = self.file, self.store
        self._written = True

        def write(task: background.Task) -> Path:
            store.write(file, data)
            return file
        return background.start(write, on_done=self.saved.emit, pool=io_pool(),
                                on_error=lambda e: log.warning("autosave to %s failed: %s", file, e))

    def discard(self) -> None:
        """Delete the recovery file (after a save, or a close without a crash)."""
        if self._written:
            self._written = False
            file, store = self.file, self.store
            background.start(lambda task: store.remove(file), pool=io_pool())

    def stop(self) -> None:
        self.timer.stop()
        self.discard()
