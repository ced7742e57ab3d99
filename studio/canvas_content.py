"""What the canvas shows for a node, computed from the model: texts, ports and colours.

Turns a graph node and its inference ``NodeInfo`` into the editor's plain ``NodeContent``.
"""
from __future__ import annotations

from engine.catalog import get_spec
from engine.graph import Graph
from engine.graph.inference import NodeInfo
from widgets.node_editor import NodeContent, accent_for

# short names for key parameters, so three of them fit on one line of a node
_ABBREV = {"out_channels": "out", "out_features": "out", "output_size": "out", "kernel_size": "k",
           "stride": "s", "padding": "pad", "start_dim": "start", "num_heads": "heads",
           "hidden_size": "hidden", "num_layers": "layers", "embedding_dim": "dim",
           "num_embeddings": "vocab", "scale_factor": "×", "shape": ""}


def fmt_value(v, key: str = "") -> str:
    """Compact: a uniform tuple (kernel 5×5, stride 1×1) shows one number; a shape all of them."""
    if isinstance(v, (tuple, list)):
        if v and key != "shape" and all(x == v[0] for x in v):
            return fmt_value(v[0])
        return "×".join(fmt_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def fmt_shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def fmt_count(n: int) -> str:
    if n < 1000:
        return str(n)
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            return f"{v:.2g}{unit}" if v < 10 else f"{v:.0f}{unit}"  # the exact count is in the tooltip
    return str(n)


def key_params_line(type_: str, params: dict) -> str:
    spec = get_spec(type_)
    parts = []
    for k in spec.key_params:
        v = params.get(k)
        if v is None or v is False:
            continue
        name = _ABBREV.get(k, k)
        parts.append(f"{name} {fmt_value(v, k)}".strip() if v is not True else name)
    return " · ".join(parts)


def ports_of(graph: Graph, node_id: str) -> tuple[tuple[int, ...], frozenset[int]]:
    """Ports to draw and the connected ones. A multi-input node always shows one free port."""
    spec = graph.nodes[node_id].spec
    used = set(graph.inputs(node_id))
    if spec.variadic:
        free = graph.free_port(node_id)
        shown = used | ({free} if free is not None else set())
    else:
        shown = set(range(spec.inputs)) | used
    return tuple(sorted(shown)), frozenset(used)


def node_content(graph: Graph, node_id: str, info: NodeInfo | None) -> NodeContent:
    node = graph.nodes[node_id]
    spec = node.spec
    ports, connected = ports_of(graph, node_id)
    shape = fmt_shape(info.shape) if info is not None and info.shape is not None else ""
    if info is not None and info.out is not None and info.out.dtype != "float32":
        shape += f" {info.out.dtype}"
    params = info.params if info is not None else None
    cost = f"{fmt_count(params)} params" if params else ""
    error = info.error if info is not None else None
    hint = info.hint if info is not None else None
    tip = [f"{node.display_name} — {node.type}" + ("" if node.label is None else f" ({node.id})")]
    if spec.key_params:
        tip.append(", ".join(f"{k}={fmt_value(node.params[k], k)}" for k in spec.key_params))
    if shape:
        tip.append(f"Output: {shape}")
    if info is not None and info.out is not None:
        tip.append(f"Parameters: {params:,} · FLOPs: {fmt_count(info.flops or 0)}")
    if not node.trainable:
        tip.append("Frozen (not trained)")
    if error:
        tip.append(f"⚠ {error}")
    if hint:
        tip.append(f"Hint: {hint}")
    return NodeContent(
        title=node.display_name, kind=node.type, detail=key_params_line(node.type, node.params), shape=shape,
        cost=cost, accent=accent_for(spec.category), ports=ports, connected=connected,
        has_output=True, error=error, hint=hint, muted=not node.trainable, tooltip="\n".join(tip))


def edge_info(graph: Graph, src: str, dst: str, port: int, src_info: NodeInfo | None,
              dst_info: NodeInfo | None) -> tuple[str, bool, str]:
    """(label, drawn red?, tooltip) of an edge: the tensor it carries; red into a node in error."""
    label = fmt_shape(src_info.shape) if src_info is not None and src_info.shape is not None else "?"
    error = bool(dst_info is not None and dst_info.error)
    tip = f"{src} → {dst}" + (f" (input {port})" if graph.nodes[dst].spec.variadic else "") + f"\n{label}"
    if error:
        tip += f"\n⚠ {dst_info.error}"
    return label, error, tip
