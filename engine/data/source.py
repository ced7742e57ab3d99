"""The ``dataset.source`` string: ``builtin:NAME``, ``torchvision:NAME`` or ``folder:PATH``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import ConfigError

BUILTINS = ("shapes", "waves")
TORCHVISION = ("MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "SVHN")
KEY = "dataset.source"


@dataclass(frozen=True)
class Source:
    kind: str  # "builtin" | "torchvision" | "folder"
    name: str  # builtin or torchvision name, or the folder path as written
    path: Path | None = None  # folder: the absolute path

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.name}"


def parse_source(text: object, base_dir: Path | None = None, *, key: str = KEY) -> Source:
    """Parse and check the syntax; a relative folder path is taken relative to ``base_dir``.

    Raises ``ConfigError`` (a setting that can never work): the data itself is not looked at.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ConfigError(f"{key}: expected builtin:NAME, torchvision:NAME or folder:PATH, got {text!r:.60}",
                          key=key)
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind == "builtin":
        name = rest.strip().lower()
        if name not in BUILTINS:
            raise ConfigError(f"{key}: unknown built-in dataset {rest!r:.40} (known: {', '.join(BUILTINS)})",
                              key=key)
        return Source("builtin", name)
    if kind == "torchvision":
        by_lower = {n.lower(): n for n in TORCHVISION}
        name = by_lower.get(rest.strip().lower())
        if name is None:
            raise ConfigError(f"{key}: torchvision dataset {rest!r:.40} is not supported "
                              f"(supported: {', '.join(TORCHVISION)}); for other images use folder:PATH",
                              key=key)
        return Source("torchvision", name)
    if kind == "folder":
        if not rest.strip():
            raise ConfigError(f"{key}: folder: needs a path, e.g. folder:images", key=key)
        return Source("folder", rest, folder_path(rest, base_dir))
    raise ConfigError(f"{key}: unknown kind {kind!r:.20}; expected builtin:NAME, torchvision:NAME or "
                      f"folder:PATH", key=key)


def folder_path(text: str, base_dir: Path | None) -> Path:
    p = Path(text).expanduser()
    if not p.is_absolute():
        p = Path(base_dir or Path.cwd()) / p
    return Path(p.absolute())
