"""Migrations from older format versions. ``MIGRATIONS[v]`` turns a version-v document into v+1.

Format 1 is the first version, so there is nothing to migrate yet; the hook is here so a
reader of version N accepts every older file.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.errors import ProjectFormatError
from engine.project.document import VERSION

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectFormatError(f"version must be a whole number, got {version!r}", key="version")
    if version > VERSION:
        raise ProjectFormatError(f"this file is format version {version}; this LayerStudio reads up to "
                                 f"version {VERSION}. Update LayerStudio to open it.", key="version")
    if version < 1:
        raise ProjectFormatError(f"unknown format version {version}", key="version")
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["version"] = version
    return doc
