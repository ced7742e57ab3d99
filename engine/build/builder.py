"""Compile a ``Graph`` into a ``torch.fx.GraphModule``.

Layers become submodules named by ``safe_names`` (so state-dict keys derive from node ids:
``conv1.weight``), graph ops become ``call_function`` nodes, LSTM/GRU are followed by a
``getitem`` so the node's value is the sequence output. The graph must be free of errors
(``Inference.errors()``); the shape rules have then vouched for every module's input.

Attributes set on the returned module (kept by ``copy.deepcopy``):
  ``layer_names``  node id → submodule name, for nodes that own a module (probes, fine-tuning)
  ``node_names``   node id → fx node holding the node's value (every built node)
  ``inputs``       [(node id, shape, dtype)] of the placeholders, in forward's argument order
  ``output_id``    the id of the output node
"""
from __future__ import annotations

import operator

import torch
import torch.fx as fx

from engine.build.modules import make_module, returns_tuple
from engine.build.ops import GRAPH_OPS
from engine.errors import BuildError
from engine.graph.inference import Inference
from engine.graph.inplace import inplace_allowed
from engine.graph.model import Graph
from engine.graph.naming import RESERVED, safe_names

# GraphModule restores the attributes named here on deepcopy (it rebuilds the module).
_PRESERVED = getattr(fx.graph_module, "_USER_PRESERVED_ATTRIBUTES_KEY", "_user_preserved_attributes")


def build_module(graph: Graph) -> fx.GraphModule:
    """Build the network; raises ``BuildError`` naming the first node with an error."""
    inference = Inference(graph, batch_size=1)
    try:
        _check(inference)
        infos = inference.all()
    finally:
        inference.close()
    outputs = [n for n in graph.output_nodes() if graph.nodes[n].type != "Input" or len(graph.nodes) == 1]
    output_id = outputs[0]

    names = safe_names(graph.nodes)
    root = torch.nn.Module()
    g = fx.Graph()
    values: dict[str, fx.Node] = {}
    layer_names: dict[str, str] = {}
    inputs: list[tuple[str, tuple[int, ...], str]] = []
    for n in graph.topological_order():
        node = graph.nodes[n]
        name = names[n]
        if node.type == "Input":
            if not graph.outputs(n) and n != output_id:
                continue  # an unconnected Input (a warning): not an argument of forward
            values[n] = g.create_node("placeholder", name, type_expr=torch.Tensor, name=name)
            inputs.append((n, tuple(node.params["shape"]), node.params["dtype"]))
            continue
        srcs = graph.input_nodes(n)
        args = [values[s] for s in srcs]
        spec = node.spec
        if spec.type in GRAPH_OPS:
            values[n] = GRAPH_OPS[spec.type](g, name, node.params, args)
            continue
        params = dict(node.params)
        if params.get("inplace") and not inplace_allowed(graph, n):
            params["inplace"] = False  # same values, without corrupting a tensor used elsewhere
        try:
            module = make_module(spec, params, [infos[s].out for s in srcs])
        except (ValueError, TypeError, AssertionError, RuntimeError) as e:
            # the shape rules should have caught it; never let torch's message escape raw
            raise BuildError(f"{n}: {spec.type} cannot be built: {e}", node=n) from e
        if not node.trainable:
            module.requires_grad_(False)
        root.add_module(name, module)
        layer_names[n] = name
        if returns_tuple(spec):
            call = g.create_node("call_module", name, tuple(args), name=f"{name}_all")
            values[n] = g.create_node("call_function", operator.getitem, (call, 0), name=name)
        else:
            values[n] = g.create_node("call_module", name, tuple(args), name=name)
    g.output(values[output_id])

    gm = fx.GraphModule(root, g, class_name="LayerStudioNet")
    extra = {"layer_names": layer_names, "node_names": {n: v.name for n, v in values.items()},
             "inputs": inputs, "output_id": output_id}
    for k, v in extra.items():
        assert k in RESERVED, k  # no submodule can have this name
        setattr(gm, k, v)
    gm.meta[_PRESERVED] = extra
    return gm


def _check(inference: Inference) -> None:
    errors = inference.errors()
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise BuildError(f"the graph cannot be built: {first.message}{more}", node=first.node, key=first.key)
