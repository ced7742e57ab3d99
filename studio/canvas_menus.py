"""Context menus of the canvas, built from its actions (so they show the same shortcuts)."""
from __future__ import annotations

from PySide6.QtWidgets import QMenu

MENUS = {
    "canvas": ("add_layer", "paste", None, "select_all", "auto_layout", "fit"),
    "node": ("rename", "duplicate", "copy", "cut", None, "delete"),
    "edge": ("delete",),
}


def build_menu(kind: str, actions: dict, parent) -> QMenu:
    menu = QMenu(parent)
    menu.setObjectName(f"canvas_{kind}_menu")
    for name in MENUS[kind]:
        if name is None:
            menu.addSeparator()
        else:
            menu.addAction(actions[name])
    return menu
