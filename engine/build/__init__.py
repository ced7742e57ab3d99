"""Graph → ``torch.fx.GraphModule``. Imports torch: only ever imported in child processes.

    from engine.build import build_module, example_inputs
    gm = build_module(graph)            # raises BuildError on a graph with errors
    gm(*example_inputs(gm, batch_size=2))
    gm.layer_names["conv1"]             # → "conv1", the submodule (and state-dict prefix)
"""
from engine.build.builder import build_module
from engine.build.inputs import example_inputs
from engine.build.modules import make_module

__all__ = ["build_module", "example_inputs", "make_module"]
