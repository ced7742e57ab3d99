"""Small shared looks: secondary ("muted") text that follows the palette (light or dark)."""
from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget


def muted(widget: QWidget) -> QWidget:
    """Draw the widget's text in the palette's secondary text colour (help lines, notes)."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
    palette.setColor(QPalette.ColorRole.Text, palette.color(QPalette.ColorRole.PlaceholderText))
    widget.setPalette(palette)
    return widget
