"""``describe_dataset``: what a dataset will give, cheaply (no decoding, no generation), for
``layerstudio check`` and the editor. Data that is absent is a warning, never an error."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from engine.data.builtin import builtin_classes, builtin_shape
from engine.data.config import DEFAULT_IMAGE, fit_warning, read_config


@dataclass
class DatasetDescription:
    num_classes: int | None
    sample_shape: tuple[int, ...] | None
    warnings: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    source: str = ""

    def __iter__(self):  # (num_classes, sample_shape, warnings), as older callers unpack it
        return iter((self.num_classes, self.sample_shape, self.warnings))


def describe_dataset(cfg: Mapping, *, input_shape: tuple[int, ...] | None = None, base_dir: Path | None = None,
                     data_root: Path | str | None = None) -> DatasetDescription:
    """Raises ConfigError for an invalid setting and DatasetError when the data cannot fit the
    Input (e.g. signals for an image Input); a folder or download that is not here is a warning."""
    dc = read_config(cfg, input_shape, Path(base_dir) if base_dir else None)
    src = dc.source
    warnings = list(dc.warnings)
    if src.kind == "builtin":
        classes = list(builtin_classes(src.name))
        shape = builtin_shape(dc)
        misfit = fit_warning(src.text, shape, input_shape)
        if misfit and misfit not in warnings:
            warnings.append(misfit)
        return DatasetDescription(len(classes), shape, warnings, classes, src.text)
    if src.kind == "torchvision":
        from engine.data import tvsets
        spec = tvsets.SPECS[src.name]
        root = tvsets.resolve_root(dc, data_root)
        if not tvsets.present(spec, root):
            how = "it will be downloaded when the data is opened" if dc["download"] else \
                "dataset.download is false"
            warnings.append(f"{src.name} is not in {root} ({how}); {tvsets.how_to_supply(spec, root)}")
        shape = (dc.channels or spec.shape[0], *(dc.size or spec.shape[1:]))
        return DatasetDescription(len(spec.classes), shape, warnings, list(spec.classes), src.text)
    # folder: the class folders are the sub-folders of the top level only (a cheap listing)
    shape = (dc.channels or DEFAULT_IMAGE[0], *(dc.size or DEFAULT_IMAGE[1:]))
    path = src.path
    shown = str(path) if len(str(path)) <= 200 else str(path)[:197] + "..."
    try:
        if not path.is_dir():
            what = "a file" if path.exists() else "not on this machine"
            warnings.append(f"dataset.source: {shown} is {what}; folder: needs a folder with one sub-folder "
                            f"per class (the class count is not checked)")
            return DatasetDescription(None, shape, warnings, None, src.text)
        classes = sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    except (OSError, ValueError) as e:  # a name too long, a NUL byte, no permission...
        warnings.append(f"dataset.source: cannot read the folder {shown} ({getattr(e, 'strerror', None) or e})")
        return DatasetDescription(None, shape, warnings, None, src.text)
    if len(classes) < 2:
        warnings.append(f"dataset.source: {path} has {len(classes)} class sub-folder(s); a classifier needs two "
                        f"or more (one sub-folder per class)")
    return DatasetDescription(len(classes) or None, shape, warnings, classes, src.text)
