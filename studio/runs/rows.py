"""``metrics.jsonl`` rows → the events a live worker would have sent (``Metrics``, ``Validation``).

A run followed on disk then looks like a live one to every listener. Consecutive training
rows of one flush (same epoch, throughput and GPU memory: the writer copies a flush's values
onto each of its rows) become one ``Metrics``; each validation row a ``Validation`` whose
confusion matrix is empty (0×0): the matrices are in ``probes/``. Runs off the GUI thread.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from engine.runs import events as ev

EMPTY_CONFUSION = np.zeros((0, 0), dtype=np.int64)


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


def rows_to_events(rows: Iterable[dict[str, Any]], coalesce: bool = False) -> list[ev.Event]:
    """``coalesce``: one ``Metrics`` per epoch (its last throughput): a catch-up read of a long
    run then sends a handful of events instead of one per flush."""
    out: list[ev.Event] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            first = batch[0]
            out.append(ev.Metrics(
                epoch=int(first.get("epoch") or 0),
                step=np.fromiter((int(r.get("step") or 0) for r in batch), np.int64, len(batch)),
                loss=np.fromiter((_num(r.get("loss")) for r in batch), np.float64, len(batch)),
                accuracy=np.fromiter((_num(r.get("accuracy")) for r in batch), np.float64, len(batch)),
                lr=np.fromiter((_num(r.get("lr")) for r in batch), np.float64, len(batch)),
                time=np.fromiter((_num(r.get("time")) for r in batch), np.float64, len(batch)),
                images_per_s=_num(batch[-1].get("images_per_s")), gpu_mem=batch[-1].get("gpu_mem")))
            batch.clear()

    key = None
    for r in rows:
        if r.get("split") == "val":
            flush()
            key = None
            out.append(ev.Validation(epoch=int(r.get("epoch") or 0), step=int(r.get("step") or 0),
                                     loss=_num(r.get("loss")), accuracy=_num(r.get("accuracy")),
                                     confusion=EMPTY_CONFUSION))
            continue
        if r.get("split") != "train":
            continue
        k = r.get("epoch") if coalesce else (r.get("epoch"), r.get("images_per_s"), r.get("gpu_mem"))
        if k != key:
            flush()
            key = k
        batch.append(r)
    flush()
    return out
