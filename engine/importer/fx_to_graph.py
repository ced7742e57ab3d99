"""Turn a traced ``fx.GraphModule`` into a LayerStudio ``Graph`` (or report what cannot be).

Every fx node the output depends on becomes one graph node (a module call, a function or
method call, the input), except pass-throughs (``x.contiguous()``, an LSTM's ``[0]``) which
alias their source. Ids are fx's names (``layer1_0_conv1``, the module path), the variable a
functional op was assigned to when that is a new name (``cat = torch.cat(...)``), or ``input``.
When anything cannot be mapped nothing is returned: ``UnmappableModelError`` lists every
unmapped op with its count.
"""
from __future__ import annotations

import ast
import linecache
import operator
import re
from collections import Counter
from dataclasses import dataclass, field

from torch import fx

from engine.errors import ImportModelError
from engine.graph import Graph
from engine.graph.model import MAX_ID_LEN
from engine.catalog.constructor import TUPLE_OUTPUT
from engine.importer.functions import Mapped, call_name, map_call
from engine.importer.modules import Unmapped, map_module, module_name


class UnmappableModelError(ImportModelError):
    """Ops with no catalog layer; ``unmapped`` maps each op's name to how often it occurs."""

    def __init__(self, what: str, unmapped: Counter):
        self.unmapped = dict(unmapped)
        lines = [f"  {name} × {count}" for name, count in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))]
        n = sum(unmapped.values())
        super().__init__(f"{what} cannot be imported: {n} operation{'s' if n != 1 else ''} "
                         f"{'have' if n != 1 else 'has'} no LayerStudio layer; nothing was imported:\n"
                         + "\n".join(lines))


@dataclass
class Imported:
    graph: Graph
    #: node id → the module path it was called as (its weights' state-dict prefix in the model)
    module_paths: dict[str, str] = field(default_factory=dict)
    #: node id → the fx node whose value is the node's tensor (shape checks)
    value_nodes: dict[str, fx.Node] = field(default_factory=dict)
    #: node id → the torch module behind it (consistency checks of inferred arguments)
    modules: dict[str, object] = field(default_factory=dict)


@dataclass
class _Layer:
    fx_node: fx.Node
    type: str
    params: dict
    inputs: list  # fx nodes (resolved through aliases later)
    module_path: str | None = None
    trainable: bool = True


def to_graph(gm: fx.GraphModule, what: str, *, input_shape: tuple[int, ...], input_dtype: str = "float32",
             input_id: str | None = None) -> Imported:
    nodes = list(gm.graph.nodes)
    placeholders = [n for n in nodes if n.op == "placeholder"]
    output = next(n for n in nodes if n.op == "output")
    if len(placeholders) != 1:
        raise ImportModelError(f"{what} takes {len(placeholders)} inputs; LayerStudio imports models "
                               f"with exactly one input tensor")
    result = output.args[0]
    if not isinstance(result, fx.Node):
        kind = f"a {type(result).__name__}" if isinstance(result, (tuple, list, dict)) else "no tensor"
        raise ImportModelError(f"{what} returns {kind}; LayerStudio imports models whose forward "
                               f"returns one tensor")

    layers: dict[fx.Node, _Layer] = {}
    alias: dict[fx.Node, fx.Node] = {}
    failures: dict[fx.Node, str] = {}
    calls = Counter(n.target for n in nodes if n.op == "call_module")
    for n in nodes:
        if n.op == "placeholder":
            layers[n] = _Layer(n, "Input", {"shape": tuple(input_shape), "dtype": input_dtype}, [])
        elif n.op == "call_module":
            _module_layer(gm, n, calls, layers, failures)
        elif n.op in ("call_function", "call_method"):
            try:
                m = map_call(n)
            except Unmapped as e:
                failures[n] = str(e)
                continue
            if isinstance(m, fx.Node):
                alias[n] = m
            else:
                layers[n] = _Layer(n, m.spec.type, m.params, m.inputs)
        elif n.op == "get_attr":
            failures[n] = "a tensor attribute used directly (get_attr)"

    def resolve(n: fx.Node) -> fx.Node:
        while n in alias:
            n = alias[n]
        return n

    # Only what the output depends on counts (an unused `_` of `x, _ = lstm(x)` is dropped).
    live: list[fx.Node] = []
    seen, stack = set(), [result]
    unmapped: Counter = Counter()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in alias:
            stack.append(alias[n])
        elif n in layers:
            live.append(n)
            stack.extend(layers[n].inputs)
        else:
            if not _follows_failure(n, failures):  # `out, _ = unmapped(x)`: report only the cause
                unmapped[failures.get(n, f"{call_name(n) if n.op.startswith('call') else n.op} (unsupported)")] += 1
            stack.extend(n.all_input_nodes)
    if unmapped:
        raise UnmappableModelError(what, unmapped)

    order = {n: i for i, n in enumerate(nodes)}
    live.sort(key=order.__getitem__)
    for layer in layers.values():
        layer.inputs = [resolve(i) for i in layer.inputs]
    live = _merge_chains(live, layers)
    ids = _ids(live, layers, input_id)

    g = Graph()
    imported = Imported(g)
    for n in live:
        layer = layers[n]
        g.add_node(ids[n], layer.type, layer.params, trainable=layer.trainable)
        for port, src in enumerate(layer.inputs):
            g.connect(ids[src], ids[n], port)
        if layer.module_path is not None:
            imported.module_paths[ids[n]] = layer.module_path
            imported.modules[ids[n]] = gm.get_submodule(layer.module_path)
        imported.value_nodes[ids[n]] = n
    # the value of an aliased node (lstm → [0]) is what the shape check should look at
    for a in alias:
        src = resolve(a)
        if src in ids and order[a] > order[imported.value_nodes[ids[src]]]:
            imported.value_nodes[ids[src]] = a
    return imported


def _follows_failure(n: fx.Node, failures: dict) -> bool:
    return (n.op == "call_function" and n.target is operator.getitem and isinstance(n.args[0], fx.Node)
            and n.args[0] in failures)


def _module_layer(gm, n: fx.Node, calls: Counter, layers: dict, failures: dict) -> None:
    module = gm.get_submodule(n.target)
    try:
        spec, params = map_module(module)
    except Unmapped as e:
        failures[n] = str(e)
        return
    if n.kwargs or len(n.args) != 1 or not isinstance(n.args[0], fx.Node):
        failures[n] = f"{module_name(module)} called with {len(n.args) + len(n.kwargs)} arguments"
        return
    has_state = any(True for _ in module.parameters()) or any(True for _ in module.buffers())
    if calls[n.target] > 1 and has_state:
        failures[n] = f"{module_name(module)} called {calls[n.target]} times (shared weights)"
        return
    weights = list(module.parameters())
    trainable = not weights or any(p.requires_grad for p in weights)
    if spec.type in TUPLE_OUTPUT:
        n.meta["tuple_output"] = True
    layers[n] = _Layer(n, spec.type, params, [n.args[0]], module_path=n.target, trainable=trainable)


def _merge_chains(live: list[fx.Node], layers: dict) -> list[fx.Node]:
    """``a + b + c`` traces to add(add(a, b), c): one variadic Add, as the graph (and the
    exported code) has it. Merged only within one source line, so separate statements stay apart."""
    users = Counter(i for n in live for i in layers[n].inputs)
    dropped = set()
    for n in live:
        layer = layers[n]
        if layer.type not in ("Add", "Multiply"):
            continue
        first = layer.inputs[0]
        inner = layers.get(first)
        if (inner is not None and inner.type == layer.type and users[first] == 1
                and first.meta.get("origin") and first.meta.get("origin") == n.meta.get("origin")):
            layer.inputs = inner.inputs + layer.inputs[1:]
            dropped.add(first)
    return [n for n in live if n not in dropped]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _ids(live: list[fx.Node], layers: dict, input_id: str | None) -> dict[fx.Node, str]:
    origins = Counter(n.meta.get("origin") for n in live if layers[n].module_path is None)
    ids: dict[fx.Node, str] = {}
    taken: set[str] = set()
    # a variable named like a layer (`a = F.relu(self.a(x))`) would only rename one of them
    layer_names = {n.name for n in live if layers[n].module_path is not None} | {input_id}
    for n in live:
        layer = layers[n]
        if layer.type == "Input":
            name = input_id or n.name
        elif layer.module_path is not None:
            name = n.name
        else:
            origin = n.meta.get("origin")
            name = _assigned_name(origin) if origin and origins[origin] == 1 else None
            if name is None or name in layer_names or name in taken:
                name = n.name
        name = name[:MAX_ID_LEN]
        base, i = name, 1
        while name in taken:
            suffix = f"_{i}"
            name = base[: MAX_ID_LEN - len(suffix)] + suffix
            i += 1
        taken.add(name)
        ids[n] = name
    return ids


def _assigned_name(origin: tuple[str, int]) -> str | None:
    """``name`` of a ``name = <call>`` line that binds a new name (not ``x = f(x)``)."""
    line = linecache.getline(*origin).strip()
    try:
        tree = ast.parse(line)
    except SyntaxError:  # one line of a multi-line statement
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    stmt = tree.body[0]
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return None
    name = stmt.targets[0].id
    read = {x.id for x in ast.walk(stmt.value) if isinstance(x, ast.Name)}
    if name in read or not _IDENT.match(name):
        return None
    return name
