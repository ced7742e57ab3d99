"""Atomic file writes: a temp file in the same folder, (fsync), then ``os.replace``.

Readers never see a half-written file, and a crash leaves at worst a ``.NAME.*.tmp`` file,
which ``RunDir.clean_stale_temps`` removes on the next start.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

TMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 would hide runs from other users


def temp_path_for(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path`` (same file system, so ``os.replace`` is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, _MODE)
    except OSError:
        pass
    return fd, tmp


@contextmanager
def atomic_file(path: str | os.PathLike, *, fsync: bool = True) -> Iterator[IO[bytes]]:
    """Write ``path`` through the yielded binary file; it replaces ``path`` only if the block
    ends without an exception (otherwise the temp file is removed and ``path`` is untouched)."""
    path = Path(path)
    fd, tmp = temp_path_for(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> None:
    with atomic_file(path, fsync=fsync) as f:
        f.write(data)


def write_json_atomic(path: str | os.PathLike, obj: Any, *, fsync: bool = True) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), fsync=fsync)


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
