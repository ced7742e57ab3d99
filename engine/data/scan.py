"""Scan an image folder: one sub-folder per class, searched recursively.

Only names and ``stat`` results (size, mtime): no file is opened. Symbolic links are followed,
but a folder already visited (same device and inode) is not entered again, so a link loop
cannot hang the scan. Hidden entries (".DS_Store", ".git") are ignored; other files that are
not images by their extension are reported as skipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.decode import IMAGE_EXTENSIONS
from engine.errors import DatasetError

MAX_DEPTH = 64


@dataclass
class Scan:
    root: Path
    classes: list[str]
    files: list[tuple[str, int, int, int]]  # (path relative to root, class index, size, mtime_ns)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    counts: list[int] = field(default_factory=list)  # images per class


def scan_folder(root: Path, key: str = "dataset.source", *, what: str = "dataset.source") -> Scan:
    """Raises DatasetError (``key``) for a missing path, a file, an empty folder or a folder
    without class sub-folders."""
    shown = _show(root)
    try:
        if not root.exists():
            raise DatasetError(f"{what}: the folder {shown} does not exist", key=key)
        if not root.is_dir():
            raise DatasetError(f"{what}: {shown} is a file; folder: needs a folder with one sub-folder per "
                               f"class", key=key)
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except DatasetError:
        raise
    except (OSError, ValueError) as e:
        raise DatasetError(f"{what}: cannot read the folder {shown} ({getattr(e, 'strerror', None) or e})",
                           key=key) from None
    class_dirs = [e for e in entries if not e.name.startswith(".") and _is_dir(e)]
    loose = [e.name for e in entries if not e.name.startswith(".") and not _is_dir(e)]
    if not class_dirs:
        if any(os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS for n in loose):
            raise DatasetError(f"{what}: {shown} holds images but no class sub-folders: put the images of "
                               f"each class in a sub-folder named after the class", key=key)
        raise DatasetError(f"{what}: the folder {shown} is empty: it needs one sub-folder of images per class",
                           key=key)
    scan = Scan(root, [e.name for e in class_dirs], [])
    for name in loose:
        scan.skipped.append((name, "not in a class sub-folder"))
    # the class folders themselves count as visited: a link from one class into another is not
    # followed (its images would be counted twice, under the wrong class)
    visited = {_inode(root)} | {_inode(Path(d.path)) for d in class_dirs}
    for k, d in enumerate(class_dirs):
        before = len(scan.files)
        _walk(Path(d.path), d.name, k, scan, visited, 0)
        scan.counts.append(len(scan.files) - before)
    return scan


def _walk(folder: Path, rel: str, k: int, scan: Scan, visited: set, depth: int) -> None:
    if depth:
        ino = _inode(folder)
        if ino is None or ino in visited:
            if ino is not None:
                scan.skipped.append((rel, "a link to a folder already scanned (a loop?)"))
            return
        visited.add(ino)
    if depth > MAX_DEPTH:
        scan.skipped.append((rel, f"nested deeper than {MAX_DEPTH} folders"))
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        scan.skipped.append((rel, f"cannot read the folder ({e.strerror or e})"))
        return
    files, skipped = scan.files, scan.skipped
    prefix = rel + "/"
    for e in entries:  # the hot loop of a cached open: keep it lean
        name = e.name
        if name[0] == ".":
            continue
        try:
            is_dir = e.is_dir()  # follows links; no system call for plain folders and files
        except OSError:
            is_dir = False
        if is_dir:
            _walk(Path(e.path), prefix + name, k, scan, visited, depth + 1)
            continue
        dot = name.rfind(".")
        if dot < 0 or name[dot:].lower() not in IMAGE_EXTENSIONS:
            skipped.append((prefix + name, "not an image file (by its extension)"))
            continue
        try:
            st = e.stat()  # follows links
        except OSError:
            skipped.append((prefix + name, "unreadable (a broken link?)"))
            continue
        files.append((prefix + name, k, st.st_size, st.st_mtime_ns))


def _is_dir(e: os.DirEntry) -> bool:
    try:
        return e.is_dir()  # follows links
    except OSError:
        return False


def _inode(p: Path):
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _show(p: Path) -> str:
    s = str(p)
    return s if len(s) <= 200 else s[:197] + "..."
