"""safe_names: node ids → identifiers that are safe as attributes, state-dict keys and code."""
from __future__ import annotations

import builtins
import keyword
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.graph.naming import MODULE_ATTRS, is_safe, safe_names, sanitize

IDS = st.lists(st.text(min_size=1, max_size=20), max_size=12)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(IDS)
def test_names_are_unique_safe_identifiers(ids):
    names = safe_names(ids)
    assert set(names) == set(ids)
    assert len(set(names.values())) == len(names)
    for name in names.values():
        assert name.isascii() and name.isidentifier() and not name.startswith("_")
        assert not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
        assert name not in dir(builtins) and name not in MODULE_ATTRS
        assert is_safe(name)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(IDS, st.randoms(use_true_random=False))
def test_names_depend_on_the_set_of_ids_not_their_order(ids, rnd):
    shuffled = list(ids)
    rnd.shuffle(shuffled)
    assert safe_names(ids) == safe_names(shuffled)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(IDS, st.text(min_size=1, max_size=20))
def test_a_valid_id_keeps_its_name_whatever_else_is_added(ids, extra):
    before = safe_names(ids)
    after = safe_names(ids + [extra])
    for i, name in before.items():
        if is_safe(i):
            assert name == after[i] == i


def test_examples():
    names = safe_names(["conv1", "conv-1", "conv_1", "class", "1x1", "été", "a b", "", "__init__",
                        "forward", "input", "self", "torch"])
    assert names["conv1"] == "conv1" and names["conv_1"] == "conv_1"
    assert names["conv-1"] == "conv_1_2"
    assert names["class"] == "class_" and names["1x1"] == "n1x1" and names["été"] == "ete"
    assert names["a b"] == "a_b" and names[""] == "node" and names["__init__"] == "init"
    assert names["forward"] == "forward_" and names["input"] == "input_"
    assert names["self"] == "self_" and names["torch"] == "torch_"


def test_no_id_can_inject_code():
    nasty = ["x; import os", "__import__('os').system('true')", "a\nb", "'\"", "x.y", "conv1 #", "\\", "ǅ"]
    names = safe_names(nasty)
    for name in names.values():
        assert all(c.isalnum() or c == "_" for c in name) and name.isascii()
        compile(f"{name} = 1", "<name>", "exec")  # a plain assignment, nothing else


def test_sanitize_is_stable_and_bounded():
    rnd = random.Random(0)
    for _ in range(200):
        s = "".join(rnd.choice("aZ9_-. é\u00a0中") for _ in range(rnd.randint(0, 200)))
        a = sanitize(s)
        assert a == sanitize(s) and len(a) <= 70 and a.isidentifier()
