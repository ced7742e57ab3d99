"""``folder:PATH``: scan, split, decode once into the cache (threads: Pillow releases the GIL
while decoding), compute the training statistics. Unreadable files are skipped and reported."""
from __future__ import annotations

import json
import os
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.data.cache import cache_key, hash_files, load_array, read_meta
from engine.data.config import DEFAULT_IMAGE, DataConfig
from engine.data.decode import Unreadable, decode_file
from engine.data.scan import Scan, scan_folder
from engine.data.source import folder_path
from engine.data.split import limit_classes, remap_labels, stratified_split
from engine.data.store import Progress, finish, open_or_build, split_ranges
from engine.errors import DatasetError

MAX_SKIPPED_LISTED = 1000  # skipped files kept by name (all are counted)
NOISY_MODES = ("fill", "half_crop")  # their padding noise is seeded by dataset.seed
_PROGRESS_EVERY_S = 0.1


def open_folder(dc: DataConfig, cache_dir: Path, progress: Progress | None):
    v = dc.values
    if progress:
        progress(0, 0, f"Scanning {dc.source.path}")
    train = scan_folder(dc.source.path)
    val = None
    if v["val_source"]:
        text = v["val_source"].removeprefix("folder:")
        val = scan_folder(folder_path(text, dc.base_dir), key="dataset.val_source", what="dataset.val_source")
        unknown = [c for c in val.classes if c not in train.classes]
        if unknown:
            raise DatasetError(f"dataset.val_source: class folder(s) {', '.join(unknown[:5])} are not classes of "
                               f"the training folder ({', '.join(train.classes[:10])})", key="dataset.val_source")
    c = dc.channels or DEFAULT_IMAGE[0]
    h, w = dc.size or DEFAULT_IMAGE[1:]
    # what the pixels depend on (files, size, resize mode; the seed only through fill noise) ...
    decode_key = cache_key("folder", str(train.root), hash_files((f[0], f[2], f[3]) for f in train.files),
                           str(val.root) if val else None,
                           hash_files((f[0], f[2], f[3]) for f in val.files) if val else None,
                           [c, h, w], v["resize_mode"], v["seed"] if v["resize_mode"] in NOISY_MODES else None)
    # ... and what the split depends on: a new split re-uses decoded rows instead of decoding
    key = cache_key(decode_key, v["val_fraction"], v["test_fraction"], v["min_per_class"], v["max_per_class"],
                    v["seed"])

    def build(writer) -> dict:
        donor = _donor(cache_dir, decode_key)
        meta = _build(writer, dc, train, val, (c, h, w), progress, donor)
        return dict(meta, decode_key=decode_key)

    return open_or_build(cache_dir, "folder", key, build)


def _donor(cache_dir: Path, decode_key: str) -> tuple[np.ndarray, dict[str, int]] | None:
    """An entry with the same decoded pixels (another split of the same files): its rows by file."""
    for entry in sorted(Path(cache_dir).glob("folder-*")):
        meta = read_meta(entry)
        if meta and meta.get("decode_key") == decode_key:
            try:
                rows = json.loads((entry / "rows.json").read_text())
                return load_array(entry, "x"), {name: i for i, name in enumerate(rows)}
            except (OSError, ValueError):
                continue
    return None


def _build(writer, dc: DataConfig, train: Scan, val: Scan | None, shape, progress: Progress | None,
           donor) -> dict:
    v = dc.values
    y_all = np.array([f[1] for f in train.files], np.int64)
    warnings: list[str] = []
    empty = [name for name, n in zip(train.classes, train.counts) if n == 0]
    if empty and not v["min_per_class"]:
        raise DatasetError(f"dataset.source: class folder(s) without images: {', '.join(empty[:5])} (remove them, "
                           f"add images, or set dataset.min_per_class to leave small classes out)",
                           key="dataset.source")
    keep, kept, w = limit_classes(y_all, train.classes, min_per_class=v["min_per_class"],
                                  max_per_class=v["max_per_class"], seed=v["seed"])
    warnings += w
    _need_two(kept, train)
    y = remap_labels(y_all[keep], train.classes, kept)
    if val is None:
        fractions = [v["val_fraction"]] + ([v["test_fraction"]] if v["test_fraction"] > 0 else [])
        parts = stratified_split(y, fractions, v["seed"])
        plan = [(name, [(train.root, train.files[keep[i]][0], int(y[i])) for i in idx])
                for name, idx in zip(("train", "val", "test"), parts)]
    else:
        fractions = [v["test_fraction"]] if v["test_fraction"] > 0 else []
        parts = stratified_split(y, fractions, v["seed"])
        pos = {name: i for i, name in enumerate(kept)}  # val's own class order may differ
        val_items = [(val.root, f[0], pos[val.classes[f[1]]]) for f in val.files if val.classes[f[1]] in pos]
        plan = [("train", [(train.root, train.files[keep[i]][0], int(y[i])) for i in parts[0]]),
                ("val", val_items)]
        if len(parts) > 1:
            plan.append(("test", [(train.root, train.files[keep[i]][0], int(y[i])) for i in parts[1]]))
    skipped = list(train.skipped) + ([(f"val:{p}", r) for p, r in val.skipped] if val else [])
    x, labels, sizes, bad = _decode_all(writer, plan, shape, dc, progress, donor, val.root if val else None)
    skipped += bad
    counts = np.bincount(labels[:sizes[0][1]], minlength=len(kept))
    lost = [kept[k] for k in np.flatnonzero(counts == 0)]
    if lost:
        raise DatasetError(f"dataset.source: no readable training image in class(es) {', '.join(lost[:5])} "
                           f"({len(bad)} file(s) could not be decoded, e.g. {bad[0][0] if bad else '?'})",
                           key="dataset.source")
    if skipped:
        first = ", ".join(p for p, _ in skipped[:3])
        warnings.append(f"{len(skipped)} file(s) skipped (not images, corrupt or unreadable), e.g. {first}")
    ranges = split_ranges(sizes)
    meta = finish(writer, x, ranges, image=True)
    return dict(meta, source=dc.source.text, classes=kept, warnings=warnings,
                skipped=[list(s) for s in skipped[:MAX_SKIPPED_LISTED]], skipped_count=len(skipped))


def _need_two(kept: list[str], scan: Scan) -> None:
    if len(kept) < 2:
        only = f" ({kept[0]!r})" if kept else ""
        raise DatasetError(f"dataset.source: {scan.root} has {len(kept)} class{only} with images; a classifier "
                           f"needs two or more class sub-folders", key="dataset.source")


def _decode_all(writer, plan, shape, dc: DataConfig, progress: Progress | None, donor, val_root):
    """Decode every file of the plan into x.npy in split order (or copy its row from a donor
    entry); unreadable files are left out, the rows of each split stay contiguous.
    Returns (x, y, [(split, rows)], skipped) and writes rows.json (the file of each row)."""
    c, h, w = shape
    total = sum(len(items) for _, items in plan)
    x = writer.array("x", (total, c, h, w), np.uint8)
    y = np.empty(total, np.int64)
    mode, seed = dc["resize_mode"], dc["seed"]
    donor_x, donor_rows = donor if donor else (None, {})
    skipped: list[tuple[str, str]] = []
    names: list[str] = []
    sizes = []
    row, done, last = 0, 0, 0.0

    def name(item) -> str:
        return ("val:" if item[0] == val_root and val_root is not None else "") + item[1]

    def work(item):
        root, rel, _label = item
        if name(item) in donor_rows:
            return donor_x[donor_rows[name(item)]], None
        try:
            noise_seed = zlib.crc32(rel.encode("utf-8", "surrogateescape")) + (seed << 32)
            return decode_file(os.path.join(root, rel), c, (h, w), mode, noise_seed), None
        except Unreadable as e:
            return None, str(e)

    threads = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(threads) as pool:
        for split, items in plan:
            start = row
            for item, (arr, why) in zip(items, pool.map(work, items)):
                done += 1
                if arr is None:
                    skipped.append((name(item), why))
                else:
                    x[row] = arr
                    y[row] = item[2]
                    names.append(name(item))
                    row += 1
                now = time.monotonic()
                if progress and now - last > _PROGRESS_EVERY_S:
                    last = now
                    progress(done, total, "Decoding images")
            sizes.append((split, row - start))
    if row < total:  # some files were skipped: keep only the rows written
        x.flush()
        compact = writer.array("x_compact", (row, c, h, w), np.uint8)
        compact[:] = x[:row]
        compact.flush()
        del x
        os.replace(writer.tmp / "x_compact.npy", writer.tmp / "x.npy")
        x = compact
    writer.save("y", y[:row])
    (writer.tmp / "rows.json").write_text(json.dumps(names))
    if progress:
        progress(total, total, "Decoded")
    return x, y[:row], sizes, skipped
