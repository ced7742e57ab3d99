"""Which dropped files are images for the Explain dock. Kept free of numpy and Pillow: the main
window imports it at start-up (``test_explain_dock`` checks the list matches the engine's)."""
from __future__ import annotations

from pathlib import Path

#: the suffixes engine.explain.preprocess decodes (IMAGE_EXTENSIONS)
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")


def is_image_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def dropped_image(event) -> Path | None:
    """The first image file of a drag-and-drop (None when it carries none)."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    return next((Path(u.toLocalFile()) for u in urls if u.isLocalFile() and is_image_file(u.toLocalFile())), None)
