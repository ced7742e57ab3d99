"""Settings of the ``dataset`` and ``training`` sections: typed, documented, validated.

One ``Setting`` per dotted key (``optimizer.lr``). The app generates its settings forms from
these lists, ``docs/project-format.md`` is generated from them, and the engine validates a
section with ``resolve`` before any work. A setting may apply only ``when`` another key has
certain values (``optimizer.momentum`` only for SGD and RMSprop); given otherwise it is an
error naming the key. Keys the schema does not know are kept in the file and reported as
warnings, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from engine.catalog.spec import Param
from engine.errors import ConfigError, ParamError

_MISSING = object()


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path inside the section
    param: Param  # type, default, range, doc (param.name is the last path component)
    group: str = "General"  # heading in the settings form
    when: Mapping[str, tuple] = field(default_factory=dict)  # other key -> allowed values
    advanced: bool = False  # folded away in the app

    @property
    def doc(self) -> str:
        return self.param.doc


def setting(key: str, kind: str, default: Any, doc: str, *, group: str = "General",
            when: Mapping[str, tuple] | None = None, advanced: bool = False, **kw) -> Setting:
    return Setting(key, Param(key.rsplit(".", 1)[-1], kind, default, doc, **kw), group, dict(when or {}),
                   advanced)


def get_path(section: Mapping, key: str, default: Any = _MISSING) -> Any:
    cur: Any = section
    for part in key.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return default
        cur = cur[part]
    return cur


def set_path(section: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    cur = section
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    cur[parts[-1]] = value


def del_path(section: dict, key: str) -> None:
    parts = key.split(".")
    cur = section
    for part in parts[:-1]:
        cur = cur.get(part)
        if not isinstance(cur, dict):
            return
    cur.pop(parts[-1], None)


def _leaves(section: Mapping, prefix: str = "") -> list[str]:
    out = []
    for k, v in section.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.extend(_leaves(v, path + "."))
        else:
            out.append(path)
    return out


def active(s: Setting, values: Mapping[str, Any]) -> bool:
    return all(values.get(k) in allowed for k, allowed in s.when.items())


def resolve(section_name: str, section: Any, settings: Sequence[Setting]) -> tuple[dict[str, Any], list[str]]:
    """Validate a section. Returns (flat dict key -> value with defaults filled, warnings).

    Raises ``ConfigError`` with ``key`` = "training.optimizer.lr" for the first bad value.
    """
    if not isinstance(section, Mapping):
        raise ConfigError(f"{section_name} must be an object", key=section_name)
    values: dict[str, Any] = {}
    # A group of settings (``optimizer``) given as something other than an object would
    # otherwise be silently ignored: refuse it, naming the key.
    for prefix in sorted({s.key.rsplit(".", 1)[0] for s in settings if "." in s.key}):
        given = get_path(section, prefix)
        if given is not _MISSING and not isinstance(given, Mapping):
            full = f"{section_name}.{prefix}"
            raise ConfigError(f"{full}: must be an object, got {given!r:.40}", key=full)
    # two passes: settings without conditions first, so conditions can read them
    for s in sorted(settings, key=lambda s: bool(s.when)):
        given = get_path(section, s.key)
        full = f"{section_name}.{s.key}"
        if given is not _MISSING and not active(s, values):
            cond = " or ".join(f"{k} is {', '.join(map(str, v))}" for k, v in s.when.items())
            other = ", ".join(f"{k}={values.get(k)!r}" for k in s.when)
            raise ConfigError(f"{full}: only applies when {cond} (here {other})", key=full)
        if given is _MISSING:
            if not active(s, values):
                continue
            given = s.param.default
        try:
            values[s.key] = s.param.validate(given) if given is not None or not s.param.nullable else None
        except ParamError as e:
            # Param messages start with "name: "; prefix the full dotted path instead.
            raise ConfigError(f"{full}{e.message[len(s.param.name):]}", key=full) from None
    known = {s.key for s in settings}
    prefixes = {s.key.rsplit(".", 1)[0] for s in settings if "." in s.key}
    warnings = [f"{section_name}.{k}: unknown setting (kept in the file, not used)"
                for k in _leaves(section) if k not in known and k not in prefixes]
    return values, warnings


def to_nested(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in values.items():
        set_path(out, k, list(v) if isinstance(v, tuple) else v)
    return out
