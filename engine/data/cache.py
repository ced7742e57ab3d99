"""The preprocessing cache: decoded, resized (or generated) samples stored once as ``.npy``
files that are memory-mapped, so a second epoch or run never decodes an image again.

An entry is a folder ``<cache_dir>/<source kind>-<key>/`` holding ``x.npy`` (all samples in
split order: train, then val, then test), ``y.npy``, ``mean.npy`` (the mean training sample) and
``meta.json`` (classes, split ranges, per-channel statistics, skipped files). The key hashes
everything the content depends on (source, file list with sizes and mtimes, options), so a
change of files or options makes a new entry. Entries are written in a temporary folder and
renamed into place: a reader never sees half an entry and two writers never collide.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

import numpy as np

FORMAT = 1
ENV = "LAYERSTUDIO_CACHE_DIR"  # overrides the platformdirs location (tests, clusters)


def default_cache_dir() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("layerstudio", appauthor=False)) / "datasets"


def cache_key(*parts: Any) -> str:
    """A short stable hash of JSON-able parts."""
    blob = json.dumps([FORMAT, *parts], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()


def hash_files(entries: Iterable[tuple[str, int, int]]) -> str:
    """Hash (relative path, size, mtime_ns) triples without building one big string."""
    text = "\n".join(f"{rel}\0{size}\0{mtime}" for rel, size, mtime in entries)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()


def entry_path(cache_dir: Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / f"{kind}-{key}"


def read_meta(path: Path) -> dict | None:
    """The entry's metadata, or None when the entry is absent or unreadable (then it is rebuilt)."""
    try:
        meta = json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    return meta


def touch(path: Path) -> None:
    """Record the use (the app lists entries by last use)."""
    try:
        os.utime(path / "meta.json")
    except OSError:
        pass


class EntryWriter:
    """Builds one entry in a temporary folder; ``commit`` renames it into place."""

    def __init__(self, cache_dir: Path, kind: str, key: str):
        self.final = entry_path(cache_dir, kind, key)
        self.tmp = Path(cache_dir) / f".tmp-{kind}-{key}-{uuid.uuid4().hex[:8]}"
        self.tmp.mkdir(parents=True, exist_ok=False)

    def array(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        """A writable memory-mapped ``.npy`` of that shape (zero-size arrays are plain files)."""
        return np.lib.format.open_memmap(self.tmp / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)

    def save(self, name: str, arr: np.ndarray) -> None:
        np.save(self.tmp / f"{name}.npy", arr)

    def commit(self, meta: dict) -> Path:
        meta = dict(meta, format=FORMAT, created=time.time())
        (self.tmp / "meta.json").write_text(json.dumps(meta))
        try:
            os.replace(self.tmp, self.final)
        except OSError:
            if read_meta(self.final) is not None:
                # another process committed the same entry first: the content is identical
                shutil.rmtree(self.tmp, ignore_errors=True)
                return self.final
            # a damaged entry (an interrupted clear, a disk error): move it aside, then replace it
            trash = self.final.with_name(f".tmp-trash-{uuid.uuid4().hex[:8]}")
            os.replace(self.final, trash)
            os.replace(self.tmp, self.final)
            shutil.rmtree(trash, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def load_array(path: Path, name: str) -> np.ndarray:
    """Memory-mapped copy-on-write: reads are lazy, and writes (torch.from_numpy wants a
    writable array) go to private memory, never to the cache."""
    f = path / f"{name}.npy"
    try:
        return np.load(f, mmap_mode="c")
    except ValueError:  # numpy cannot map an empty array
        return np.load(f)


def folder_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def cache_entries(cache_dir: Path | None = None) -> list[dict]:
    """Every entry: {"path", "source", "bytes", "samples", "last_used"}, most recently used first."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    out = []
    if not root.is_dir():
        return out
    for p in root.iterdir():
        if p.name.startswith(".") or not p.is_dir():
            continue
        meta = read_meta(p) or {}
        try:
            used = (p / "meta.json").stat().st_mtime
        except OSError:
            used = 0.0
        out.append({"path": str(p), "source": meta.get("source"), "bytes": folder_bytes(p),
                    "samples": sum(b - a for a, b in (meta.get("splits") or {}).values()), "last_used": used})
    out.sort(key=lambda e: -e["last_used"])
    return out


def cache_size(cache_dir: Path | None = None) -> int:
    """Bytes used by the cache (shown in the app)."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return folder_bytes(root) if root.is_dir() else 0


def clear_cache(cache_dir: Path | None = None) -> int:
    """Delete every entry (and leftovers of interrupted writes); returns the bytes freed.
    An open dataset keeps working: its files stay mapped until it is closed."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    if not root.is_dir():
        return 0
    freed = 0
    for p in root.iterdir():
        if not p.is_dir():
            continue
        if p.name.startswith(".tmp-") and time.time() - p.stat().st_mtime < 600:
            continue  # probably being written right now by another process
        if p.name.startswith(".tmp-") or read_meta(p) is not None or (p / "x.npy").exists():
            freed += folder_bytes(p)
            shutil.rmtree(p, ignore_errors=True)
    return freed
