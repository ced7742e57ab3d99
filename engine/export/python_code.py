"""A project as the PyTorch module a person would have written: one standalone file.

    class LeNet5OnShapes(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, kernel_size=5)
            ...
        def forward(self, x):
            x = self.conv1(x)  # [6, 28, 28]
            ...

Attribute names are ``safe_names`` of the node ids, exactly the submodule names of
``engine.build.build_module``, so one state dict loads into both. Only arguments that differ
from torch's defaults are written. User text (labels, the project name) appears only in
comments (``text.comment_text``); ids only as sanitized identifiers: nothing a user typed can
become code. The file imports torch alone and uses no exec, eval or fx.
"""
from __future__ import annotations

from typing import Any

from engine.catalog import LayerSpec, TensorMeta
from engine.errors import ExportError
from engine.catalog.constructor import TUPLE_OUTPUT, constructor_args
from engine.graph.inplace import inplace_allowed
from engine.export.text import class_name, comment_text
from engine.export.torch_classes import REQUIRED, signature, torch_class
from engine.graph.inference import Inference
from engine.graph.model import Graph
from engine.graph.naming import safe_names
from engine.project import Project

INDENT = " " * 4
CHAIN = "x"  # the variable a straight chain of layers reads and writes
COMMENT_COLUMN = 60


def python_source(project: Project, *, weights_file: str | None = None) -> str:
    """The module's source text; raises ``ExportError`` for a graph with errors."""
    graph = project.graph
    inference = Inference(graph, batch_size=1)
    try:
        return _Writer(project, graph, inference, weights_file).source()
    finally:
        inference.close()


class _Writer:
    def __init__(self, project: Project, graph: Graph, inference: Inference, weights_file: str | None):
        errors = inference.errors()
        if errors:
            first = errors[0]
            raise ExportError(f"the graph cannot be exported: {first.message}", node=first.node, key=first.key)
        self.project, self.graph, self.inference = project, graph, inference
        self.weights_file = weights_file
        self.names = safe_names(graph.nodes)
        self.cls = class_name(project.name)
        outputs = [n for n in graph.output_nodes() if graph.nodes[n].type != "Input"]
        if not outputs:
            raise ExportError("the graph cannot be exported: it has no layer")
        self.output = outputs[0]
        self.order = [n for n in _chain_order(graph) if graph.nodes[n].type != "Input" or graph.outputs(n)]
        self.inputs = [n for n in self.order if graph.nodes[n].type == "Input"]

    # -- the file --------------------------------------------------------------------------
    def source(self) -> str:
        init = self._init_lines()
        forward = self._forward_lines()
        args = ", ".join(self._arg(n) for n in self.inputs)
        lines = self._header() + [
            "import torch",
            "from torch import nn",
            "",
            "",
            f"class {self.cls}(nn.Module):",
            f'{INDENT}"""{self._signature_doc()}"""',
            "",
            f"{INDENT}def __init__(self):",
            f"{INDENT * 2}super().__init__()",
            *init,
            "",
            f"{INDENT}def forward(self, {args}):",
            *forward,
            "",
        ]
        return "\n".join(lines)

    def _header(self) -> list[str]:
        head = [f"# {comment_text(self.project.name) or 'Untitled'}",
                "# Exported from LayerStudio: a standalone PyTorch module that needs torch only."]
        if self.weights_file:
            head += ["#",
                     "# Trained weights (a state dict of tensors):",
                     f"#     model = {self.cls}()",
                     f"#     model.load_state_dict(torch.load({comment_text(repr(self.weights_file))}, "
                     "weights_only=True))"]
        return head + ['"""The network of a LayerStudio project, as plain PyTorch code."""']

    def _signature_doc(self) -> str:
        parts = []
        for n in self.inputs:
            p = self.graph.nodes[n].params
            parts.append(f"{_shape(p['shape'])} {p['dtype']}")
        out = self.inference.info(self.output).out
        return (f"Input: {', '.join(parts)} per sample (batch first). "
                f"Output: {_shape(out.shape)} per sample.")

    def _arg(self, n: str) -> str:
        # "input" is a builtin; the usual spelling is x (the importer maps x back to "input")
        return CHAIN if n == "input" else self._local(n)

    def _local(self, n: str) -> str:
        name = self.names[n]
        while name == CHAIN or (name != self.names[n] and name in self.names.values()):
            name += "_"
        return name

    # -- __init__ ----------------------------------------------------------------------------
    def _init_lines(self) -> list[str]:
        lines = []
        for n in self.order:
            node = self.graph.nodes[n]
            spec = node.spec
            if spec.torch_class is None:
                continue
            ins = [self.inference.info(s).out for s in self.graph.input_nodes(n)]
            params = dict(node.params)
            if params.get("inplace") and not inplace_allowed(self.graph, n):
                params["inplace"] = False  # as engine.build does: the input is read elsewhere
            call = f"nn.{spec.torch_class.rsplit('.', 1)[1]}({_arguments(spec, params, ins, n)})"
            line = f"{INDENT * 2}self.{self.names[n]} = {call}"
            if node.label:
                line += f"  # {comment_text(node.label)}"
            lines.append(line)
            if not node.trainable:
                lines.append(f"{INDENT * 2}self.{self.names[n]}.requires_grad_(False)  # frozen")
        return lines or [f"{INDENT * 2}pass"]

    # -- forward -------------------------------------------------------------------------------
    def _forward_lines(self) -> list[str]:
        g = self.graph
        left = {n: len(g.outputs(n)) for n in self.order}  # uses still to come
        var: dict[str, str] = {}
        held: dict[str, str] = {}  # variable → node whose value it holds
        for n in self.inputs:
            var[n] = self._arg(n)
            held[var[n]] = n
        body: list[tuple[str, str]] = []
        for n in self.order:
            node = g.nodes[n]
            if node.type == "Input":
                continue
            srcs = g.input_nodes(n)
            args = [var[s] for s in srcs]
            for s in srcs:
                left[s] -= 1
            if node.spec.torch_class is None:
                expr = _graph_op(node.type, node.params, args, n)
                target = self._local(n)
            else:
                expr = f"self.{self.names[n]}({', '.join(args)})"
                if node.type in TUPLE_OUTPUT:
                    expr += "[0]"  # (output, state): the node's tensor is the sequence output
                target = self._target(n, srcs, var, held, left)
            var[n] = target
            held[target] = n
            shape = self.inference.info(n).shape
            body.append((f"{INDENT * 2}{target} = {expr}", _shape(shape)))
        body.append((f"{INDENT * 2}return {var[self.output]}", ""))
        width = min(COMMENT_COLUMN, max(len(code) for code, _ in body))
        return [f"{code:<{width}}  # {note}" if note else code for code, note in body]

    def _target(self, n: str, srcs: list[str], var, held, left) -> str:
        """The variable a layer's output goes to. A branch starts under its first layer's name
        and keeps it; the main chain is x, which resumes after a merge (Add, Concat...)."""
        if len(srcs) != 1 or len(self.graph.outputs(srcs[0])) != 1:
            return self._local(n)
        src = srcs[0]
        if var[src] == CHAIN:
            return CHAIN
        if self.graph.nodes[src].spec.torch_class is None and left.get(held.get(CHAIN), 0) == 0:
            return CHAIN
        return var[src]


def _chain_order(graph: Graph) -> list[str]:
    """A topological order that follows each chain to its end before starting the next
    branch (depth first), as a person writes a forward pass; ties go to file order."""
    rank = {n: i for i, n in enumerate(graph.nodes)}
    waiting = {n: len(graph.inputs(n)) for n in graph.nodes}
    ready = sorted((n for n, k in waiting.items() if k == 0), key=rank.__getitem__, reverse=True)
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        fresh = []
        for e in graph.outputs(n):
            waiting[e.dst] -= 1
            if waiting[e.dst] == 0:
                fresh.append(e.dst)
        ready.extend(sorted(set(fresh), key=rank.__getitem__, reverse=True))
    return order


def _arguments(spec: LayerSpec, params: dict[str, Any], ins: list[TensorMeta], node: str) -> str:
    kwargs = constructor_args(spec, params, ins, node)
    sig = signature(torch_class(spec.torch_class))
    required = [name for name, default in sig if default is REQUIRED]
    positional = required if len(required) < 3 else required[:2]
    out = []
    for name, default in sig:
        if name not in kwargs:
            if default is REQUIRED:
                raise ExportError(f"{node}: {spec.type} needs {name}", node=node, key=name)
            continue
        value = kwargs[name]
        if default is not REQUIRED and _same(spec, name, value, default):
            continue
        text = _literal(spec, name, value)
        out.append(text if name in positional and len(out) == positional.index(name) else f"{name}={text}")
    unknown = set(kwargs) - {name for name, _ in sig}
    if unknown:
        raise ExportError(f"{node}: {spec.type} has no argument {sorted(unknown)[0]!r} in this torch",
                          node=node, key=sorted(unknown)[0])
    return ", ".join(out)


def _same(spec: LayerSpec, name: str, value: Any, default: Any) -> bool:
    p = spec.param_index.get(name)
    if p is None:
        return value == default
    try:
        return p.validate(default) == value if default is not None or p.nullable else False
    except Exception:  # torch's default is outside the catalog's range (Softmax dim=None)
        return False


def _literal(spec: LayerSpec, name: str, value: Any) -> str:
    p = spec.param_index.get(name)
    if isinstance(value, tuple) and p is not None and p.length is not None and len(set(value)) == 1:
        value = value[0]  # kernel_size=(5, 5) is written kernel_size=5
    return _repr(value)


def _repr(value: Any) -> str:
    """A Python literal; only numbers, bools, None, strings (repr-quoted) and tuples of them."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise ExportError(f"cannot write the value {value!r} as code")


def _graph_op(type_: str, params: dict[str, Any], args: list[str], node: str) -> str:
    if type_ == "Add":
        return " + ".join(args)
    if type_ == "Multiply":
        return " * ".join(args)
    if type_ == "Concat":
        return f"torch.cat([{', '.join(args)}], dim={params['dim']!r})"
    if type_ == "Transpose":
        return f"{args[0]}.transpose({params['dim0']!r}, {params['dim1']!r})"
    if type_ == "Permute":
        dims = params["dims"]
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        return f"{args[0]}.permute({', '.join(repr(int(d)) for d in dims)})"
    raise ExportError(f"{node}: {type_} cannot be exported to Python yet", node=node)


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]" if shape is not None else "?"
