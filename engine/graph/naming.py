"""Python identifiers for node ids: submodule names, state-dict keys, exported code.

Node ids are user data (any text up to 128 characters). Whatever reaches generated code or
``getattr`` must be a plain ASCII identifier that cannot shadow anything: not a keyword, not
a builtin, not an attribute of ``torch.nn.Module`` / ``torch.fx.GraphModule``, not a name
the exporter imports, and never starting with an underscore (private attributes, and
``__x`` is name-mangled inside a class body). Pure Python, no torch.

An id that is already such an identifier keeps its exact spelling, so state-dict keys read
like the graph (``conv1.weight``). Others are sanitized ("conv-1" → "conv_1", "class" →
"class_", "1x1" → "n1x1"); collisions get "_2", "_3"... The result depends only on the set
of ids (not their order), and an id that is valid as is never loses its name to another.
"""
from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from typing import Iterable

# Attributes of torch.nn.Module and torch.fx.GraphModule (public ones; ours never start
# with "_"). Kept as data so this module needs no torch; a test compares it with torch.
MODULE_ATTRS = frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children code compile cpu cuda
    delete_all_unused_submodules delete_submodule double dump_patches eval extra_repr float forward
    get_buffer get_extra_state get_parameter get_submodule graph half ipu load_state_dict meta
    modules mtia named_buffers named_children named_modules named_parameters parameters print_readable
    recompile register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook
    register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict
    to to_empty to_folder train training type xpu zero_grad add_submodule graph_copy
""".split())

# Names the generated code and GraphModule itself use, and our own attributes on it.
RESERVED = frozenset({"self", "torch", "nn", "F", "fx", "math", "operator", "typing", "inf", "nan",
                      "device", "dtype", "output", "layer_names", "node_names", "inputs", "output_id"})

_ILLEGAL = (frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
            | MODULE_ATTRS | RESERVED)
_MAX_LEN = 64


def is_safe(name: str) -> bool:
    """True if ``name`` can be used unchanged as an attribute and variable name."""
    return (isinstance(name, str) and name.isascii() and name.isidentifier() and not name.startswith("_")
            and len(name) <= _MAX_LEN and name not in _ILLEGAL)


def sanitize(node_id: str) -> str:
    """One id → a safe identifier (not yet unique)."""
    # "é" → "e": decompose accents, then drop what is not ASCII
    text = unicodedata.normalize("NFKD", str(node_id)).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")[:_MAX_LEN].rstrip("_")
    if not name:
        return "node"
    if not name[0].isalpha():
        name = "n" + name
    while name in _ILLEGAL:
        name += "_"
    return name


def safe_names(node_ids: Iterable[str]) -> dict[str, str]:
    """Map each id to a unique safe identifier; deterministic for a given set of ids."""
    ids = sorted(set(node_ids))
    names: dict[str, str] = {}
    taken: set[str] = set()
    for i in ids:  # ids that are already safe keep their name first
        if is_safe(i):
            names[i] = i
            taken.add(i)
    for i in ids:
        if i in names:
            continue
        base = sanitize(i)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        names[i] = name
        taken.add(name)
    return names
