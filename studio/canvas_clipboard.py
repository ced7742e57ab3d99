"""Layers on the system clipboard: a private mime type plus the same JSON as text, so a copy
pastes into another window or process, and the text into an editor or a bug report."""
from __future__ import annotations

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from engine.errors import GraphError

GRAPH_MIME = "application/x-layerstudio-graph"
MAX_BYTES = 20_000_000  # a clipboard is not a place for a 20 MB graph: refuse rather than hang

_NOT_LAYERS = "the clipboard does not hold LayerStudio layers"


def write(fragment: dict) -> None:
    data = json.dumps(fragment, indent=1)
    md = QMimeData()
    md.setData(GRAPH_MIME, data.encode("utf-8"))
    md.setText(data)
    QGuiApplication.clipboard().setMimeData(md)
    global _exit_hook
    if not _exit_hook:
        _exit_hook = True
        atexit.register(_leave_text_only)


_exit_hook = False


def _leave_text_only() -> None:
    """PySide6 6.12 crashes at exit when the clipboard still owns a QMimeData made in Python.
    Before that, swap it for a plain-text copy (which pastes back into LayerStudio too)."""
    app = QGuiApplication.instance()
    if app is None:
        return
    cb = QGuiApplication.clipboard()
    md = cb.mimeData()
    if md is not None and md.hasFormat(GRAPH_MIME):
        cb.setText(md.text())


def read() -> dict:
    """The fragment on the clipboard: our mime type, else JSON text (a fragment, a project
    file's ``graph`` or a whole project). Raises GraphError with a readable reason."""
    md = QGuiApplication.clipboard().mimeData()
    if md is None:
        raise GraphError("the clipboard is empty")
    if md.hasFormat(GRAPH_MIME):
        raw = bytes(md.data(GRAPH_MIME).data())
    elif md.hasText():
        raw = md.text().encode("utf-8")
    else:
        raise GraphError(_NOT_LAYERS)
    return parse(raw)


def parse(raw: bytes) -> dict:
    if len(raw) > MAX_BYTES:
        raise GraphError("the clipboard holds too much data to paste")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise GraphError(_NOT_LAYERS) from None
    if isinstance(doc, dict) and isinstance(doc.get("graph"), dict):
        doc = doc["graph"]
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise GraphError(_NOT_LAYERS)
    return {"nodes": doc["nodes"], "edges": doc.get("edges", [])}
