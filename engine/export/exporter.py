"""``export(project, to, out)``: the project's network as Python code, ONNX, TorchScript or a
torch.export program, optionally with a run's trained weights.

Every format is checked before anything is written in place: the artefact is written to a
temp file, loaded back and run on fresh inputs against ``engine.build.build_module`` (with
the same weights); only then are the files moved to their names. Without a run, the
weights are the freshly initialized ones (seeded by ``training.seed`` for repeatability).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.build import build_module, example_inputs
from engine.errors import ExportError
from engine.export import FORMATS, onnx_format, pt2_format, python_format, torchscript_format
from engine.export.python_code import python_source
from engine.export.staged import Staged
from engine.export.text import class_name
from engine.export.weights import load_matching, run_weights, tensors_only
from engine.project import Project

WRITERS = {"onnx": onnx_format, "torchscript": torchscript_format, "pt2": pt2_format}


@dataclass
class ExportResult:
    files: list[Path]
    max_difference: float  # largest |exported - engine| seen while verifying
    trained: bool  # weights came from a run


def export(project: Project, to: str, out: str | os.PathLike, *, run_dir: str | os.PathLike | None = None,
           checkpoint: str = "best") -> ExportResult:
    if to not in FORMATS:
        raise ExportError(f"unknown export format {to!r} (choose from {', '.join(FORMATS)})", key="to")
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"{out.parent} is not a folder", key="output")
    seed = project.training.get("seed", 0)
    torch.manual_seed(seed if isinstance(seed, int) and not isinstance(seed, bool) else 0)
    gm = build_module(project.graph).eval()
    if run_dir is not None:
        load_matching(gm, run_weights(run_dir, checkpoint), f"{Path(run_dir).name} ({checkpoint} checkpoint)")
    generator = torch.Generator().manual_seed(1)
    example = example_inputs(gm, batch_size=2, generator=generator)
    fresh = example_inputs(gm, batch_size=3, generator=generator)  # another batch size: dynamic batch

    with Staged() as staged:
        if to == "py":
            weights_target = out.with_suffix(".pt") if run_dir is not None else None
            if weights_target is not None and weights_target == out:
                raise ExportError(f"{out.name}: the code file needs a .py name (weights go to a .pt beside it)",
                                  key="output")
            source = python_source(project, weights_file=weights_target.name if weights_target else None)
            src_tmp = staged.path_for(out)
            src_tmp.write_text(source, encoding="utf-8")
            w_tmp = None
            if weights_target is not None:
                w_tmp = staged.path_for(weights_target)
                torch.save(tensors_only(gm.state_dict()), w_tmp)
            diff = python_format.verify(src_tmp, class_name(project.name), gm, fresh, w_tmp)
        else:
            writer = WRITERS[to]
            tmp = staged.path_for(out)
            writer.write(gm, example, tmp)
            diff = writer.verify(tmp, gm, fresh)
        files = staged.commit()
    return ExportResult(files, diff, run_dir is not None)
