"""Check an imported graph against the model it came from, before anything is written.

The model is run once on an example input (on the meta device, so a big model costs no
arithmetic); every node's shape from the catalog's rules must equal
the shape torch computed, and every inferred constructor argument (``in_channels``...) must
equal the module's own. So a wrong ``--input-shape`` or a catalog rule that disagrees with
torch is an error naming the node, never a silently different network.
"""
from __future__ import annotations

import copy

import torch
from torch import fx, nn

from engine.catalog import TensorMeta
from engine.errors import ImportModelError
from engine.catalog.constructor import inferred_args
from engine.graph.inference import Inference
from engine.importer.fx_to_graph import Imported
from engine.importer.modules import module_name


def example_input(shape: tuple[int, ...], dtype: str, device: str = "cpu") -> torch.Tensor:
    return torch.zeros((1, *shape), dtype=torch.int64 if dtype == "int64" else torch.float32, device=device)


def _on_meta(gm: fx.GraphModule) -> fx.GraphModule:
    """A copy of ``gm`` whose parameters and buffers live on the meta device (no data copied)."""
    memo: dict[int, object] = {}
    for p in gm.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device="meta"), requires_grad=p.requires_grad)
    for b in gm.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(gm, memo)


class _Shapes(fx.Interpreter):
    """Runs the graph, keeping each node's output shape in ``meta["shape"]`` (and remembering the
    node that failed). fx's ShapeProp would print tracebacks to stderr on failure."""

    def __init__(self, gm: fx.GraphModule):
        super().__init__(gm)
        self.current: fx.Node | None = None

    def run_node(self, n: fx.Node):
        self.current = n
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            n.meta["shape"] = tuple(result.shape)
        return result


def _propagate(gm: fx.GraphModule, shape: tuple[int, ...], dtype: str) -> None:
    """Shapes of every fx node, computed on the meta device (no arithmetic); a model using an
    op that has no meta kernel is run on the CPU instead."""
    on_meta = all(t.is_meta for t in [*gm.parameters(), *gm.buffers()])
    meta = gm if on_meta else _on_meta(gm)  # a torchvision import is built on meta already
    runner = _Shapes(meta)
    try:
        with torch.no_grad():
            runner.run(example_input(shape, dtype, "meta"))
    except NotImplementedError:
        runner = _Shapes(gm)
        with torch.no_grad():
            runner.run(example_input(shape, dtype))
        return
    except Exception as e:
        e.node = runner.current  # where it failed, for the message
        raise
    for ours, theirs in zip(gm.graph.nodes, meta.graph.nodes) if meta is not gm else ():
        if "shape" in theirs.meta:
            ours.meta["shape"] = theirs.meta["shape"]


def check_against_model(imported: Imported, gm: fx.GraphModule, what: str, shape: tuple[int, ...],
                        dtype: str) -> Inference:
    shown = "[" + ", ".join(map(str, shape)) + "]"
    try:
        _propagate(gm, shape, dtype)
    except Exception as e:  # the model's own error for this input shape
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        node = getattr(e, "node", None)
        at = f" (at {node.name})" if node is not None else ""
        raise ImportModelError(f"{what} does not run on an input of shape {shown}{at}: {msg}; "
                               f"set the shape with --input-shape", key="input_shape") from None
    inference = Inference(imported.graph, batch_size=1)
    errors = inference.errors()
    if errors:
        raise ImportModelError(f"{what}: the imported graph is not valid: {errors[0].message}",
                               node=errors[0].node)
    for node_id, fx_node in imported.value_nodes.items():
        full = fx_node.meta.get("shape")
        if full is None:
            continue
        torch_shape = tuple(full[1:])
        ours = inference.info(node_id).shape
        if ours != torch_shape:
            raise ImportModelError(f"{node_id}: torch computes shape {list(torch_shape)} where "
                                   f"LayerStudio's {imported.graph.nodes[node_id].type} rule gives "
                                   f"{list(ours) if ours else None}", node=node_id)
    g = imported.graph
    for node_id, module in imported.modules.items():
        node = g.nodes[node_id]
        ins = [inference.info(src).out for src in g.input_nodes(node_id)]
        want = inferred_args(node.spec, ins, node_id)
        for name, value in want.items():
            actual = getattr(module, name, None)
            if isinstance(actual, (tuple, list)) and len(actual) == 1:
                actual = actual[0]
            if actual != value:
                raise ImportModelError(
                    f"{node_id}: {module_name(module)} has {name}={actual!r}, but its input "
                    f"{_fmt(ins[0])} gives {name}={value!r}", node=node_id, key=name)
    return inference


def _fmt(t: TensorMeta | None) -> str:
    return "[" + ", ".join(map(str, t.shape)) + "]" if t else "?"
