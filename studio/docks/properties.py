"""Properties of the selected layer: typed editors generated from its catalog parameters.

Every edit is validated at once by the catalog (the message appears under the field and
the graph is not touched); a valid one goes through ``Document.set_params``: one undo step.
Inferred parameters (``in_channels``...) are shown read-only with the value the input shape
gives them, and the node's output shape, parameter count and FLOPs follow inference.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QLabel, QLineEdit, QStackedWidget, QVBoxLayout,
                               QWidget)

from engine.errors import LayerStudioError
from studio.docks.fields import humanize, param_field, strip_name, to_json
from widgets.scrolling import vertical_scroll
from widgets.style import muted
from widgets import units
from widgets.editors import Field
from widgets.form import Form

if TYPE_CHECKING:
    from studio.document import Document
    from studio.main_window import MainWindow

# which input dimension each inferred constructor argument takes
_FROM_CHANNELS = {"in_channels", "num_features", "num_channels"}
_FROM_LAST = {"in_features", "input_size", "normalized_shape"}
_INFERRED_DOC = {
    "in_channels": "Input channels, taken from the input's shape",
    "num_features": "Channels to normalize, taken from the input's shape",
    "num_channels": "Channels, taken from the input's shape",
    "in_features": "Input features (the input's last dimension)",
    "input_size": "Features per time step (the input's last dimension)",
    "normalized_shape": "The normalized dimension (the input's last dimension)",
}


def inferred_value(name: str, input_shape: tuple[int, ...] | None) -> str:
    if not input_shape:
        return "— (needs a connected input)"
    if name in _FROM_CHANNELS:
        return str(input_shape[0])
    if name == "normalized_shape":
        return f"[{input_shape[-1]}]"
    if name in _FROM_LAST:
        return str(input_shape[-1])
    return "—"


class PropertiesPanel(QWidget):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__()
        self.window_ = window
        self.doc: Document | None = None
        self.node_id: str | None = None
        self.form: Form | None = None
        # inference answers when asked: after any graph edit, ask again (once per burst of edits)
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(0)
        self._info_timer.timeout.connect(lambda: self._inference_changed(None))
        self.stack = QStackedWidget()
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(16, 16, 16, 16)
        muted(self.empty)
        self.scroll = vertical_scroll()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        window.document_changed.connect(self.set_document)
        self.set_document(window.document)

    # -- document ----------------------------------------------------------------------
    def set_document(self, doc: "Document") -> None:
        if self.doc is not None:
            self.doc.selection_changed.disconnect(self.refresh)
            self.doc.inference_changed.disconnect(self._inference_changed)
            g = self.doc.graph
            g.params_changed.disconnect(self._node_changed)
            g.label_changed.disconnect(self._node_changed)
            g.trainable_changed.disconnect(self._node_changed)
            g.edge_added.disconnect(self._edges_changed)
            g.edge_removed.disconnect(self._edges_changed)
        self.doc = doc
        doc.selection_changed.connect(self.refresh)
        doc.inference_changed.connect(self._inference_changed)
        g = doc.graph
        g.params_changed.connect(self._node_changed)
        g.label_changed.connect(self._node_changed)
        g.trainable_changed.connect(self._node_changed)
        g.edge_added.connect(self._edges_changed)
        g.edge_removed.connect(self._edges_changed)
        self.node_id = None
        self.refresh()

    def refresh(self) -> None:
        sel = [n for n in self.doc.selection if n in self.doc.graph.nodes]
        if len(sel) != 1:
            self.node_id = None
            self.form = None
            self.empty.setText("Select a layer on the canvas to edit its parameters." if not sel
                               else f"{len(sel)} layers selected.\nSelect one to edit its parameters.")
            self.stack.setCurrentWidget(self.empty)
            return
        if sel[0] != self.node_id or self.form is None:
            self._build(sel[0])
        else:
            self._update_values()
            self._update_info()

    # -- building ----------------------------------------------------------------------
    def _build(self, node_id: str) -> None:
        self.node_id = node_id
        node = self.doc.graph.node(node_id)
        spec = node.spec
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        title = QLabel(f"<span style='font-size:13pt; font-weight:600'>{spec.type}</span>"
                       f"&nbsp;&nbsp;<span style='color:gray'>{spec.category}</span>")
        doc = QLabel(spec.doc)
        doc.setWordWrap(True)
        muted(doc)
        layout.addWidget(title)
        layout.addWidget(doc)

        form = Form(validator=self._validate)
        form.add_section("Layer")
        form.add_readonly(Field("id", "str", "Id", "The node's permanent id (names its weights)"), node_id)
        self.label_edit = QLineEdit(node.label or "")
        self.label_edit.setPlaceholderText(node_id)
        self.label_edit.setToolTip("A display name for the canvas (the id stays the same)")
        self.label_edit.setObjectName("field:label")
        self.label_edit.editingFinished.connect(self._label_edited)
        form.add_widget(Field("label", "str", "Label", "Display name on the canvas"), self.label_edit)
        self.trainable = QCheckBox()
        self.trainable.setObjectName("field:trainable")
        self.trainable.setToolTip("Update this layer's weights while training (off: frozen, e.g. to fine-tune)")
        self.trainable.toggled.connect(self._trainable_toggled)
        self.trainable_row = form.add_widget(Field("trainable", "bool", "Trainable", "Train this layer's weights"),
                                         self.trainable)
        if spec.params:
            form.add_section("Parameters")
            for p in spec.params:
                form.add_field(param_field(p), node.params[p.name])
        if spec.inferred:
            form.add_section("Inferred")
            for name in spec.inferred:
                form.add_readonly(Field(name, "int", humanize(name), _INFERRED_DOC.get(name, "From the input")), "")
        form.add_section("Output")
        for name, label, doc in (("out_shape", "Shape", "Output shape, without the batch dimension"),
                                 ("out_params", "Parameters", "Trainable and fixed weights of this layer"),
                                 ("out_flops", "FLOPs", "Multiply-adds count 2; per sample, forward pass"),
                                 ("out_memory", "Activations", "Output memory at the training batch size")):
            form.add_readonly(Field(name, "str", label, doc), "")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("node_message")
        form.committed.connect(self._commit)
        layout.addWidget(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.form = form
        self.scroll.setWidget(page)
        self.stack.setCurrentWidget(self.scroll)
        self._update_values()
        self._update_info()

    # -- model → view ------------------------------------------------------------------
    def _node_changed(self, node_id: str) -> None:
        if node_id == self.node_id and self.form is not None:
            self._update_values()
        self._info_timer.start()  # an edit upstream may change this node's numbers

    def _edges_changed(self, edge) -> None:
        self._info_timer.start()

    def _inference_changed(self, ids) -> None:
        if self.form is not None and self.node_id in self.doc.graph.nodes:
            self._update_info()

    def _update_values(self) -> None:
        node = self.doc.graph.node(self.node_id)
        for p in node.spec.params:
            self.form.set_value(p.name, node.params[p.name])
        if not self.label_edit.hasFocus():
            self.label_edit.setText(node.label or "")
        self.trainable.blockSignals(True)
        self.trainable.setChecked(node.trainable)
        self.trainable.blockSignals(False)

    def _update_info(self) -> None:
        doc, n = self.doc, self.node_id
        info = doc.inference.info(n)
        spec = doc.graph.node(n).spec
        srcs = doc.graph.input_nodes(n)
        in_shape = doc.inference.info(srcs[0]).shape if srcs else None
        for name in spec.inferred:
            self.form.set_value(name, inferred_value(name, in_shape))
        self.form.set_value("out_shape", units.shape(info.shape) if info.shape else "unknown")
        self.form.set_value("out_params", f"{info.params:,}" if info.params is not None else "—")
        flops = "—" if info.flops is None else units.si(info.flops, "FLOP")
        if info.elementwise:
            flops += f"  (+ {units.si(info.elementwise)} element-wise)"
        self.form.set_value("out_flops", flops)
        self.form.set_value("out_memory", units.binary_bytes(info.activation_bytes))
        # trainable only means something for a layer with weights
        self.trainable_row.set_visible(bool(info.params) or bool(spec.inferred))
        if info.error:
            self.message.setText(f"⚠ {info.error}")
            self.message.setStyleSheet("color: #c62828;")
        elif info.hint:
            self.message.setText(f"ⓘ {info.hint}")
            self.message.setStyleSheet("color: #1565c0;")
        else:
            self.message.setText("")
        self.message.setVisible(bool(info.error or info.hint))

    # -- view → model ------------------------------------------------------------------
    def _validate(self, name: str, value: Any) -> str | None:
        node = self.doc.graph.nodes.get(self.node_id)
        if node is None:
            return None
        try:
            node.spec.validate_params({**node.params, name: value}, node=self.node_id)
        except LayerStudioError as e:
            return strip_name(e.message, e.key or name)
        return None

    def _commit(self, name: str, value: Any) -> None:
        try:
            self.doc.set_params(self.node_id, {name: to_json(value)})
        except LayerStudioError as e:  # validated already; a refusal still shows where it belongs
            self.form.set_error(name, strip_name(e.message, e.key or name))

    def _label_edited(self) -> None:
        text = self.label_edit.text().strip()
        node = self.doc.graph.nodes.get(self.node_id)
        if node is not None and (text or None) != node.label:
            try:
                self.doc.set_label(self.node_id, text or None)
            except LayerStudioError as e:
                self.window_.show_error("Label not changed", e.message, e)

    def _trainable_toggled(self, on: bool) -> None:
        try:
            self.doc.set_trainable(self.node_id, on)
        except LayerStudioError as e:
            self.window_.show_error("Not changed", e.message, e)
