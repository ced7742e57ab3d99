"""Colours, fonts and metrics of the node editor: one place, so every item paints alike.

A dark canvas (as in most node editors) with one accent colour per layer category.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QColor, QFont, QFontDatabase

# -- metrics (scene units; a node's model position is its centre) ------------------------
NODE_W = 180.0
NODE_H = 66.0  # header, key parameters, footer
NODE_H_COMPACT = 48.0  # header and footer: a layer without key parameters
NODE_RADIUS = 6.0
PORT_R = 4.5
PORT_HIT = 10.0  # how close the mouse must be to a port to grab it
HEADER_H = 25.0
FOOTER_H = 21.0  # shape and parameter count, at the bottom of the card

# -- colours -----------------------------------------------------------------------------
BACKGROUND = "#1b1d21"
GRID_MINOR = "#202327"
GRID_MAJOR = "#25292e"
NODE_BODY = "#2a2d33"
NODE_HEADER = "#31353c"
NODE_BORDER = "#41464f"
NODE_SELECTED = "#4c9aff"
TEXT = "#e8eaed"
TEXT_MUTED = "#9aa0a8"
SHAPE_TEXT = "#8cc8ff"
ERROR = "#f2555a"
ERROR_BODY = "#3a2a2e"
HINT = "#e3b341"
PORT_FILL = "#c9d1d9"
PORT_FREE = "#6b7280"
PORT_TARGET = "#4c9aff"
EDGE = "#7d8590"
EDGE_HOVER = "#c9d1d9"
EDGE_DRAFT = "#4c9aff"
RUBBER_BAND = "#4c9aff"

#: accent per palette category; unknown categories get DEFAULT_ACCENT
ACCENTS = {
    "Input": "#58a6ff",
    "Convolution": "#3fb97f",
    "Linear": "#a371f7",
    "Activation": "#f0883e",
    "Pooling": "#39c5cf",
    "Normalization": "#db61a2",
    "Regularization": "#8b949e",
    "Recurrent": "#d29922",
    "Embedding": "#bc8cff",
    "Merge": "#e3b341",
    "Utility": "#6e7681",
}
DEFAULT_ACCENT = "#6e7681"


def accent_for(category: str) -> str:
    return ACCENTS.get(category, DEFAULT_ACCENT)


@lru_cache(maxsize=None)
def color(name: str) -> QColor:
    """Shared QColor objects: building one per paint call shows up in profiles."""
    return QColor(name)


@lru_cache(maxsize=None)
def font(role: str) -> QFont:
    """Fonts by role: title, small, mono."""
    if role == "mono":
        f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        f.setPointSizeF(8.5)
        return f
    f = QFont()
    if role == "title":
        f.setPointSizeF(9.5)
        f.setWeight(QFont.Weight.DemiBold)
    else:
        f.setPointSizeF(8.0)
    return f
