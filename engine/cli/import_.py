"""``layerstudio import torchvision:NAME -o FILE`` and
``layerstudio import module.py:ClassName --input-shape C,H,W -o FILE``

Traces the model with torch.fx, maps every op to a catalog layer, checks the graph's shapes
against torch's, lays it out and writes a project file. Importing a .py runs its code.
Exit 0 written; 1 the model cannot be imported (every unmapped op is listed; nothing is
written); 2 usage: an unknown model, a missing file or class, a bad --input-shape.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from engine.errors import LayerStudioError, ModelNotFoundError, UnreadableFileError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="MODEL",
                        help="torchvision:NAME (e.g. torchvision:resnet50) or FILE.py:ClassName "
                             "(built with no arguments; importing it runs the file)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="project file to write (.json)")
    parser.add_argument("--input-shape", metavar="C,H,W", type=_shape,
                        help="shape of one input sample, without the batch (default 3,224,224)")


def _shape(text: str) -> tuple[int, ...]:
    parts = re.split(r"\s*[,x×]\s*|\s+", text.strip().strip("[]()").strip())  # 3,224,224 or 3x224x224
    if not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) > 8:
        raise argparse.ArgumentTypeError(f"expected positive sizes such as 3,224,224, got {text!r}")
    return tuple(int(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if not out.parent.is_dir():
        print(f"layerstudio import: {out.parent} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        from engine.importer.load import import_source  # imports torch
        from engine.graph.inference import Inference
        from engine.project import save
        project, imported = import_source(args.source, input_shape=args.input_shape)
        totals = Inference(project.graph).totals()
        save(project, out)
    except (ModelNotFoundError, UnreadableFileError) as e:
        print(f"layerstudio import: {e}", file=sys.stderr)
        return EXIT_USAGE
    except LayerStudioError as e:
        print(f"layerstudio import: {e}", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {out}: {project.name}, {len(project.graph.nodes)} nodes, {totals.params:,} parameters")
    return EXIT_OK
