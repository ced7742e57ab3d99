"""A generic node-graph editor (scene, items, view, gestures). Fed plain values; it imports
nothing of the engine or the app: a controller mirrors a model into it and turns its
request signals into edits."""
from widgets.node_editor.content import NodeContent
from widgets.node_editor.edge_item import EdgeItem
from widgets.node_editor.node_item import NodeItem
from widgets.node_editor.scene import NodeEditorScene
from widgets.node_editor.search_popup import SearchPopup
from widgets.node_editor.theme import accent_for
from widgets.node_editor.view import NodeEditorView

__all__ = ["EdgeItem", "NodeContent", "NodeEditorScene", "NodeEditorView", "NodeItem", "SearchPopup", "accent_for"]
