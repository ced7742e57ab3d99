"""``layerstudio export FILE --to py|onnx|torchscript|pt2 -o OUT [--weights RUN_DIR] [--checkpoint best|last]``

Writes the project's network as readable PyTorch code (plus a ``.pt`` state dict beside it
when a run's weights are given), an ONNX model, a TorchScript file or a torch.export program.
Each is verified against the engine's own module before it is written. Exit 0 written;
1 the project or the weights do not fit (nothing written); 2 usage, missing file or run.
"""
from __future__ import annotations

import argparse
import sys

from engine.errors import LayerStudioError, RunDirError, UnreadableFileError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
FORMATS = ("py", "onnx", "torchscript", "pt2")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="project file (.json)")
    parser.add_argument("--to", required=True, choices=FORMATS,
                        help="py: a standalone PyTorch module; onnx; torchscript (.pt); pt2 (torch.export)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    parser.add_argument("--weights", metavar="RUN_DIR",
                        help="export a run's trained weights (default: freshly initialized ones)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best",
                        help="which checkpoint of the run (default: best)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.project import load
    folder = Path(args.output).parent
    if not folder.is_dir():
        print(f"layerstudio export: {folder} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        project = load(args.file)
        from engine.export.exporter import export  # imports torch: only once the file is good
        result = export(project, args.to, args.output, run_dir=args.weights, checkpoint=args.checkpoint)
    except (UnreadableFileError, RunDirError) as e:
        print(f"layerstudio export: {e}", file=sys.stderr)
        return EXIT_USAGE
    except LayerStudioError as e:  # ExportError on --to / -o is about the command line
        print(f"layerstudio export: {e}", file=sys.stderr)
        return EXIT_USAGE if e.key in ("to", "output") else EXIT_INVALID
    names = " and ".join(str(p) for p in result.files)
    weights = (f"weights of {args.weights} ({args.checkpoint} checkpoint)" if result.trained
               else "untrained weights")
    print(f"wrote {names}: {project.name}, {weights}; checked against the engine "
          f"(largest difference {result.max_difference:.2g})")
    return EXIT_OK
