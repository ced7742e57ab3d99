"""The canvas's actions, created once: the canvas binds their shortcuts (active while it has
focus) and the window puts the same objects in its Edit/View menus, so no shortcut is ever
registered twice (Qt ignores an ambiguous one)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

K = QKeySequence
# name: (text, shortcuts, status tip, canvas method; None = wired by the canvas)
SPEC = {
    "undo": ("&Undo", [K.StandardKey.Undo], "Undo the last edit", None),
    "redo": ("&Redo", [K("Ctrl+Shift+Z"), K("Ctrl+Y")], "Redo the edit undone last", None),
    "cut": ("Cu&t", [K.StandardKey.Cut], "Copy the selected layers and delete them", "cut"),
    "copy": ("&Copy", [K.StandardKey.Copy], "Copy the selected layers to the clipboard", "copy"),
    "paste": ("&Paste", [K.StandardKey.Paste], "Paste layers from the clipboard at the mouse", "paste"),
    "duplicate": ("D&uplicate", [K("Ctrl+D")], "Duplicate the selected layers", "duplicate"),
    "delete": ("&Delete", [K(Qt.Key.Key_Delete), K(Qt.Key.Key_Backspace)],
               "Delete the selected layers and connections", "delete_selected"),
    "select_all": ("Select &All", [K.StandardKey.SelectAll], "Select every layer", "select_all"),
    "rename": ("Re&name…", [K(Qt.Key.Key_F2)], "Edit the label of the selected layer", "rename_selected"),
    "add_layer": ("&Add Layer…", [K(Qt.Key.Key_Tab)], "Search the catalog and add a layer at the mouse",
                  "open_layer_search"),
    "auto_layout": ("Automatic &Layout", [K("Ctrl+L")], "Arrange the layers top-down", "auto_layout"),
    "fit": ("&Fit to Window", [K(Qt.Key.Key_F)], "Show the whole graph", "fit"),
    "zoom_in": ("Zoom &In", [K("Ctrl+="), K("Ctrl++")], "Zoom in", "zoom_in"),
    "zoom_out": ("Zoom &Out", [K("Ctrl+-")], "Zoom out", "zoom_out"),
    "zoom_reset": ("&Actual Size", [K("Ctrl+0")], "Zoom to 100 %", "zoom_reset"),
}
#: actions that act on a selection, disabled without one
NEEDS_SELECTION = ("cut", "copy", "duplicate", "delete", "rename")


def build_actions(canvas) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for name, (text, keys, tip, method) in SPEC.items():
        a = QAction(text, canvas)
        a.setObjectName(f"canvas_{name}")
        keys = [s for k in keys for s in (QKeySequence.keyBindings(k) if isinstance(k, QKeySequence.StandardKey)
                                          else [k])]
        a.setShortcuts(keys)
        a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        a.setStatusTip(tip)
        a.setToolTip(f"{tip} ({keys[0].toString(QKeySequence.SequenceFormat.NativeText)})")
        if method is not None:
            # called without triggered's `checked` flag: fit(rect=None) must not get False
            a.triggered.connect(lambda _checked=False, m=getattr(canvas, method): m())
        canvas.addAction(a)
        actions[name] = a
    return actions
