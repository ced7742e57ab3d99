"""Engine descriptions → the plain ``Field``s the widgets floor understands.

Catalog ``Param``s (layer parameters) and schema ``Setting``s (dataset/training keys) both
become ``widgets.editors.Field``; validation stays the engine's (``Param.validate``), so the
message shown under a field is exactly the one ``layerstudio check`` would print.
"""
from __future__ import annotations

import re
from typing import Any

from engine.catalog.spec import Param
from engine.errors import ParamError
from engine.schema import Setting
from widgets.editors import Field

# abbreviations of keys spelled out in labels
_WORDS = {"val": "validation", "lr": "learning rate", "hflip": "horizontal flip", "num": "number of",
          "pct": "percent", "div": "divide", "idx": "index", "min": "min.", "max": "max."}

# keys whose generated label reads badly (anything else gets a generated one)
_LABELS = {"val_every": "Validate every", "checkpoint.every": "Save every", "keep_last": "Keep last"}


def humanize(name: str, group: str = "") -> str:
    """``out_channels`` → "Out channels"; ``optimizer.lr`` → "Learning rate" (the group names
    the optimizer); ``val_source`` → "Validation source"; ``early_stopping.patience`` in the
    group "Validation" → "Early stopping patience" (the group does not say it)."""
    if name in _LABELS:
        return _LABELS[name]
    parts = name.split(".")
    last = parts[-1].split("_")
    if len(parts) > 1 and parts[-2].split("_")[0] not in group.lower().replace("-", " "):
        last = parts[-2].split("_") + last
    text = " ".join(_WORDS.get(w, w) for w in last)
    return text[:1].upper() + text[1:]


# what a doc says an empty (None) value means: "(empty: none)", "(default: kernel_size)",
# "empty = False", "leave empty to use scale_factor"
_EMPTY = re.compile(r"\((empty|default)[:=]?\s*([^)]*)\)|empty\s*=\s*([^);]+)|leave empty to ([^;.)]+)", re.I)


def _null_text(doc: str) -> str:
    m = _EMPTY.search(doc)
    if not m:
        return "default"
    word, paren, equals, leave = m.groups()
    if paren is not None:
        text = paren.strip().rstrip(".")
        return f"default: {text}" if word.lower() == "default" and text else (text or "default")
    return (equals or leave).strip().rstrip(".")


def param_field(p: Param, label: str | None = None, suggestions: tuple = ()) -> Field:
    return Field(name=p.name, kind=p.kind, label=label or humanize(p.name), doc=p.doc, min=p.min, max=p.max,
                 choices=tuple(p.choices), length=p.length, nullable=p.nullable, min_exclusive=p.min_exclusive,
                 suggestions=suggestions, null_text=_null_text(p.doc))


def setting_field(s: Setting, suggestions: tuple = ()) -> Field:
    f = param_field(s.param, label=humanize(s.key, s.group), suggestions=suggestions)
    return Field(**{**f.__dict__, "name": s.key})


def check(p: Param, value: Any) -> str | None:
    """The engine's message for a bad value, without the leading "name: " (the form shows the name)."""
    try:
        p.validate(value)
    except ParamError as e:
        return strip_name(e.message, p.name)
    return None


def strip_name(message: str, name: str) -> str:
    for prefix in (f"{name}: ",):
        i = message.find(prefix)
        if i >= 0:
            return message[i + len(prefix):]
    return message


def to_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
