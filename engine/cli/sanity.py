"""``layerstudio train FILE --overfit-batch [--steps N]`` and ``--gradcheck``: the sanity tools
of engine.train.sanity on the command line. Nothing is written. Exit codes: 0 the check
passed, 1 invalid project or settings, 2 unreadable file, 3 the check failed (or crashed)."""
from __future__ import annotations

import argparse
from typing import TextIO

import numpy as np

from engine.errors import LayerStudioError, RunDirError, UnreadableFileError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
DEFAULT_STEPS = 200
ROWS = 10  # loss lines printed for the curve


def curve_rows(losses: np.ndarray, rows: int = ROWS) -> list[int]:
    """0-based steps to print: about ``rows`` of them, always the first and the last."""
    n = len(losses)
    return sorted({0, n - 1, *(int(round(i * (n - 1) / (rows - 1))) for i in range(rows))}) if n else []


def run_sanity(args: argparse.Namespace, err: TextIO) -> int:
    from engine.project import load
    from engine.train import sanity

    try:
        project = load(args.file)
        overrides = {"device": args.device}
        if args.overfit_batch:
            result = sanity.overfit_batch(project, args.steps or DEFAULT_STEPS, project_path=args.file, **overrides)
        else:
            result = sanity.gradient_check(project)
    except (UnreadableFileError, RunDirError) as e:
        print(f"layerstudio train: {e}", file=err)
        return EXIT_USAGE
    except LayerStudioError as e:
        print(f"layerstudio train: {e}", file=err)
        return EXIT_INVALID
    except Exception as e:  # not the user's input: one line, no traceback
        from engine.runs.failures import classify_exception
        print(f"layerstudio train: the check could not run: {classify_exception(e)['message']}", file=err)
        return EXIT_FAILED
    if args.overfit_batch:
        print(f"overfit one batch of {result.batch_size}, {len(result.losses)} steps:", file=err)
        for i in curve_rows(result.losses):
            print(f"  step {i + 1:>6}  loss {result.losses[i]:.4g}", file=err)
        print(f"  final (evaluation mode): loss {result.final_loss:.4g}, accuracy {result.final_accuracy:.0%}", file=err)
        print(result.message, file=err)
        return EXIT_OK if result.learned else EXIT_FAILED
    print(result.message, file=err)
    for line in result.details:
        print(f"  {line}", file=err)
    return EXIT_OK if result.ok else EXIT_FAILED
