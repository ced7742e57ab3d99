"""Read and write project files.

Errors: ``UnreadableFileError`` for what is not a JSON object (missing, unreadable, empty,
binary, invalid or too deeply nested JSON; CLI exit 2) and ``ProjectFormatError`` /
``GraphError`` for a JSON document that is not a valid project (CLI exit 1). ``load``
refuses structural errors; shape problems are left to ``Inference.diagnostics``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.catalog import get_spec
from engine.errors import (DuplicateIdError, GraphError, LayerStudioError, ParamError, ProjectFormatError,
                           UnknownNodeError, UnknownTypeError, UnreadableFileError)
from engine.graph import Graph
from engine.project.document import FORMAT, Project
from engine.project.migrate import migrate
from engine.runs.atomic import write_bytes_atomic

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000


def load(path: str | os.PathLike, *, errors: list[LayerStudioError] | None = None) -> Project:
    """Read a project file. With ``errors`` (a list), structural errors of the graph and of the
    sections are appended to it instead of raised, and what is valid is loaded (``check`` lists
    every error this way); what makes the whole file unusable still raises."""
    path = Path(path)
    try:
        if path.is_dir():
            raise UnreadableFileError(f"{path} is a folder, not a project file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UnreadableFileError(f"{path} is {size // 2**20} MiB; a project file is at most 64 MiB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFileError(f"{path}: no such file") from None
    except PermissionError:
        raise UnreadableFileError(f"{path}: permission denied") from None
    except OSError as e:
        raise UnreadableFileError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return loads(data, errors=errors)
    except LayerStudioError as e:
        e.message = f"{path.name}: {e.message}"
        e.args = (e.message,)
        raise


def parse_json(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        if not data.strip():
            raise UnreadableFileError("the file is empty")
        if b"\x00" in data[:8192]:
            raise UnreadableFileError("this is a binary file, not a JSON project")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnreadableFileError("the file is not UTF-8 text") from None
    else:
        text = data
    if not text.strip():
        raise UnreadableFileError("the file is empty")
    _check_depth(text)
    try:
        # NaN and Infinity are read (as Python's json writes them) so that validation can say
        # which parameter or setting holds one, instead of a bare "not JSON".
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UnreadableFileError(f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise UnreadableFileError(f"JSON nested more than {MAX_DEPTH} levels deep") from None


def _check_depth(text: str) -> None:
    """Refuse deep nesting before json recurses (cheap scan; ignores brackets inside strings)."""
    depth = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise UnreadableFileError(f"JSON nested more than {MAX_DEPTH} levels deep")
        elif ch in "]}":
            depth -= 1


def loads(data: bytes | str, *, errors: list[LayerStudioError] | None = None) -> Project:
    doc = parse_json(data)
    return from_dict(doc, errors=errors)


def _collector(errors: list[LayerStudioError] | None):
    """``report(err)``: raise it, or (collecting) append it and carry on."""
    def report(err: LayerStudioError) -> None:
        if errors is None:
            raise err
        errors.append(err)
    return report


def from_dict(doc: Any, *, errors: list[LayerStudioError] | None = None) -> Project:
    if not isinstance(doc, dict):
        raise ProjectFormatError("a project file must hold a JSON object")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise ProjectFormatError(f"format must be {FORMAT!r}, got {fmt!r}", key="format")
    doc = migrate(dict(doc))
    report = _collector(errors)
    name = doc.get("name", "Untitled")
    if not isinstance(name, str):
        report(ProjectFormatError("name must be text", key="name"))
        name = "Untitled"
    graph_doc = doc.get("graph")
    if not isinstance(graph_doc, dict):
        raise ProjectFormatError("graph must be an object with nodes and edges", key="graph")
    graph = graph_from_dict(graph_doc, errors=errors)
    sections = {}
    for key in ("dataset", "training"):
        value = doc.get(key, {})
        if not isinstance(value, dict):
            report(ProjectFormatError(f"{key} must be an object", key=key))
            value = {}
        sections[key] = value
    sections["dataset"].setdefault("source", "builtin:shapes")
    known = {"format", "version", "name", "graph", "dataset", "training"}
    return Project(
        name=name, graph=graph, dataset=sections["dataset"], training=sections["training"],
        extra={k: v for k, v in doc.items() if k not in known},
        graph_extra={k: v for k, v in graph_doc.items() if k not in ("nodes", "edges")},
    )


NODE_KEYS = {"id", "type", "params", "pos", "label", "trainable"}
EDGE_KEYS = {"from", "to", "port"}


def graph_from_dict(graph_doc: dict, *, errors: list[LayerStudioError] | None = None) -> Graph:
    """Build a ``Graph``; with ``errors`` (a list), refused nodes and edges are reported there
    and skipped. A node refused only for its params is still added, with its valid params, so
    that its edges stay and the error is not followed by a cascade of "missing input"."""
    report = _collector(errors)
    nodes, edges = graph_doc.get("nodes", []), graph_doc.get("edges", [])
    if not isinstance(nodes, list):
        raise ProjectFormatError("graph.nodes must be a list", key="graph.nodes")
    if not isinstance(edges, list):
        raise ProjectFormatError("graph.edges must be a list", key="graph.edges")
    if len(nodes) > MAX_NODES:
        raise ProjectFormatError(f"the graph has {len(nodes)} nodes; at most {MAX_NODES}", key="graph.nodes")
    g = Graph()
    refused: set = set()  # ids of nodes that were not added (collecting mode)
    for i, nd in enumerate(nodes):
        if not isinstance(nd, dict):
            report(ProjectFormatError(f"graph.nodes[{i}] must be an object", key=f"graph.nodes[{i}]"))
            continue
        if "id" not in nd or "type" not in nd:
            report(ProjectFormatError(f"graph.nodes[{i}] needs an id and a type", key=f"graph.nodes[{i}]"))
            continue
        params = nd.get("params", {})
        if params is None:
            params = {}
        kwargs = dict(pos=nd.get("pos"), label=nd.get("label"), trainable=nd.get("trainable", True),
                      extra={k: v for k, v in nd.items() if k not in NODE_KEYS})
        try:
            g.add_node(nd["id"], nd["type"], params, **kwargs)
        except GraphError as e:
            report(e)
            if not isinstance(e, (DuplicateIdError, UnknownTypeError)) and e.key != "id":
                _add_sanitized(g, nd["id"], nd["type"], params, kwargs)
            if isinstance(nd["id"], str) and nd["id"] not in g.nodes:
                refused.add(nd["id"])
    for i, ed in enumerate(edges):
        if not isinstance(ed, dict) or "from" not in ed or "to" not in ed:
            report(ProjectFormatError(f"graph.edges[{i}] must be an object with from and to",
                                      key=f"graph.edges[{i}]"))
            continue
        src, dst = ed["from"], ed["to"]
        try:
            g.connect(src, dst, ed.get("port", 0), extra={k: v for k, v in ed.items() if k not in EDGE_KEYS})
        except UnknownNodeError as e:
            if any(isinstance(n, str) and n in refused for n in (src, dst)):
                continue  # the node's own error was reported; its edges are not news
            e.message = f"edge {_show(src)} → {_show(dst)}: {e.message}"
            e.args = (e.message,)
            report(e)
        except GraphError as e:
            report(e)
    return g


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _add_sanitized(g: Graph, node_id: str, type_: str, params: Any, kwargs: dict) -> None:
    """Collecting mode: add a node that was refused for a bad param, pos, label or trainable
    flag, keeping only what is valid, so its edges stay and its error is not followed by a
    cascade of "missing input" diagnostics downstream. Skipped if still refused."""
    index = get_spec(type_).param_index
    ok = {}
    for k, v in (params.items() if isinstance(params, dict) else ()):
        if k in index:
            try:
                index[k].validate(v)
                ok[k] = v
            except ParamError:
                pass
    safe = dict(kwargs)
    if not isinstance(safe["label"], str):
        safe["label"] = None
    if not isinstance(safe["trainable"], bool):
        safe["trainable"] = True
    try:
        g.add_node(node_id, type_, ok, **safe)
    except GraphError:
        try:
            g.add_node(node_id, type_, ok, **dict(safe, pos=None))
        except GraphError:
            pass  # already reported: the node is skipped


def dumps(project: Project) -> str:
    doc = project.to_dict()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in a name): keep it escaped
        text = json.dumps(doc, indent=2) + "\n"
    return text


def save(project: Project, path: str | os.PathLike) -> None:
    """Atomic: write a temp file in the same folder, fsync, then ``os.replace``."""
    write_atomic(Path(path), dumps(project).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)


__all__ = ["GraphError", "dumps", "from_dict", "graph_from_dict", "load", "loads", "save", "write_atomic"]
