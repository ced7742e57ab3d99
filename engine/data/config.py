"""The ``dataset`` section resolved for ``engine.data``: validated values, the parsed source and
the sample shape to produce (from the settings, else the graph's Input, else the source's own)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from engine.data.source import Source, parse_source
from engine.schema import resolve_dataset

SIGNAL_SOURCES = {("builtin", "waves")}
DEFAULT_IMAGE = (3, 32, 32)  # a folder opened with no Input and no image_size / channels
SIGNAL_SHAPE = (1, 128)


@dataclass(frozen=True)
class DataConfig:
    source: Source
    values: dict[str, Any]  # flat: "augment.hflip" -> False, with defaults
    given: frozenset[str]  # keys present in the section (val_fraction given explicitly matters)
    channels: int | None  # requested (settings, else Input); None: the source's own
    size: tuple[int, int] | None  # (H, W) requested; None: the source's own
    base_dir: Path | None = None  # the project file's folder (relative folder paths)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_signal(self) -> bool:
        return (self.source.kind, self.source.name) in SIGNAL_SOURCES

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def read_config(cfg: Mapping | None, input_shape: tuple[int, ...] | None = None,
                base_dir: Path | None = None) -> DataConfig:
    """Validate the section (ConfigError) and decide the sample shape to produce.

    Image folders and torchvision images are resized / converted to ``image_size`` and
    ``channels``, by default the Input's. Built-in datasets are generated at their native
    shape (shapes: 3×32×32, waves: 1×128) unless ``image_size`` / ``channels`` say otherwise.
    A sample shape that cannot match the Input is a warning here (the data stays viewable);
    training refuses it with the message.
    """
    values, warnings = resolve_dataset(dict(cfg or {}))
    given = frozenset(_leaves(cfg or {}))
    source = parse_source(values["source"], base_dir)
    shape = tuple(int(v) for v in input_shape) if input_shape is not None else None
    channels, size = values["channels"], values["image_size"]
    size = tuple(size) if size is not None else None
    if (source.kind, source.name) in SIGNAL_SOURCES:
        for k in ("image_size", "channels"):
            if values[k] is not None:
                warnings.append(f"dataset.{k}: does not apply to {source.text} (1-D signals); ignored")
        if shape is not None and shape != SIGNAL_SHAPE:
            warnings.append(f"{source.text} gives 1-D signals of shape {list(SIGNAL_SHAPE)} but the Input's shape is "
                            f"{list(shape)}: set the Input's shape to {list(SIGNAL_SHAPE)}")
        return DataConfig(source, values, given, None, None, base_dir, warnings)
    if source.kind != "builtin" and shape is not None:
        if len(shape) != 3 or shape[0] not in (1, 3):
            warnings.append(f"{source.text} gives images [C, H, W] with 1 or 3 channels but the Input's shape is "
                            f"{list(shape)}: set the Input's shape to [1, H, W] or [3, H, W] (and flatten later in "
                            f"the graph)")
        else:
            channels = channels or shape[0]
            size = size or shape[1:]
    return DataConfig(source, values, given, channels, size, base_dir, warnings)


def fit_warning(source: str, sample_shape: tuple[int, ...], input_shape: tuple[int, ...] | None) -> str | None:
    """The message (and the fix) when samples of ``sample_shape`` cannot feed the Input."""
    if input_shape is None or tuple(input_shape) == tuple(sample_shape):
        return None
    fix = f"set the Input's shape to {list(sample_shape)}"
    if len(sample_shape) == 3 and len(input_shape) == 3 and input_shape[0] in (1, 3):
        fix += (f", or set dataset.channels to {input_shape[0]} and dataset.image_size to "
                f"{list(input_shape[1:])}")
    return f"{source} gives samples of shape {list(sample_shape)} but the Input's shape is {list(input_shape)}: {fix}"


def _leaves(section: Mapping, prefix: str = "") -> list[str]:
    out = []
    for k, v in section.items():
        if isinstance(v, Mapping) and v:
            out.extend(_leaves(v, f"{prefix}{k}."))
        else:
            out.append(f"{prefix}{k}")
    return out
