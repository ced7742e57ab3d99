"""``layerstudio train``: train a project in a run directory, or continue one, without a window.

    layerstudio train FILE [--epochs N] [--batch-size B] [--device D] [--run-dir DIR]
    layerstudio train --resume RUN_DIR [--epochs N] [--device D]

Ctrl-C (or SIGTERM) stops at the next step with a checkpoint and exits 130; a second Ctrl-C
stops at once. Exit codes: 0 finished, 1 invalid project or settings, 2 usage error or
unreadable file / run directory, 3 the run failed (NaN, out of memory, crash), 130 interrupted.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Callable, Iterable

from engine.errors import LayerStudioError, RunDirError, UnreadableFileError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
STATE_EXIT = {"finished": EXIT_OK, "failed": EXIT_FAILED, "stopped": EXIT_INTERRUPTED,
              "interrupted": EXIT_INTERRUPTED}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="the project file to train")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue this run in its own directory")
    parser.add_argument("--epochs", type=_positive, metavar="N", help="number of epochs (with --resume: the total)")
    parser.add_argument("--batch-size", type=_positive, metavar="B", help="samples per optimizer step")
    parser.add_argument("--device", metavar="D", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--run-dir", metavar="DIR",
                        help="where to write the run (default: runs/<name>-<YYYYmmdd-HHMMSS> beside FILE)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar; errors only")


class UsageError(Exception):
    pass


def _check_usage(args: argparse.Namespace) -> None:
    if args.resume and args.file:
        raise UsageError("give either FILE or --resume RUN_DIR, not both")
    if not args.resume and not args.file:
        raise UsageError("missing FILE (or --resume RUN_DIR)")
    if args.resume and args.batch_size:
        raise UsageError("--batch-size cannot change when resuming (the data order would no longer match)")
    if args.resume and args.run_dir:
        raise UsageError("--run-dir cannot be used with --resume: a run continues in its own directory")


def make_trainer(args: argparse.Namespace, callbacks: Iterable, control):
    """The trainer the command line asks for (validated, not yet set up)."""
    from engine.project import load
    from engine.runs.layout import default_runs_parent, new_run_path
    from engine.train.trainer import Trainer

    if args.resume:
        return Trainer.resume(args.resume, epochs=args.epochs, device=args.device, callbacks=callbacks,
                              control=control)
    project = load(args.file)
    run_dir = Path(args.run_dir) if args.run_dir else new_run_path(default_runs_parent(args.file), project.name)
    return Trainer(project, project_path=args.file, run_dir=run_dir, callbacks=callbacks, control=control,
                   overrides={"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device})


def _install_signals(control) -> Callable[[], None]:
    """First Ctrl-C/SIGTERM: graceful stop with a checkpoint; a second Ctrl-C: stop at once."""
    def handler(signum, frame):
        if control.stop_reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        control.stop("interrupted", wake=False)  # a signal handler takes no locks

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    return lambda: [signal.signal(s, h) for s, h in old.items()]


def train(args: argparse.Namespace, *, sinks: Iterable[Callable] = (), err=None) -> int:
    """The command, with extra event sinks (the benchmark drains events through one)."""
    from engine.train.callbacks import EventStream
    from engine.train.control import Control
    from engine.train.progress import ProgressBar

    err = err or sys.stderr
    try:
        _check_usage(args)
    except UsageError as e:
        print(f"layerstudio train: {e}", file=err)
        return EXIT_USAGE
    control = Control()
    callbacks = [EventStream(s) for s in sinks]
    if not args.quiet:
        callbacks.append(EventStream(ProgressBar(err)))
    restore = _install_signals(control)
    try:
        try:
            trainer = make_trainer(args, callbacks, control)
            trainer.setup()
        except (UnreadableFileError, RunDirError) as e:
            print(f"layerstudio train: {e}", file=err)
            return EXIT_USAGE
        except LayerStudioError as e:
            print(f"layerstudio train: {e}", file=err)
            return EXIT_INVALID
        except Exception as e:  # not the user's input: a crash while setting up (one line, no traceback)
            from engine.runs.failures import classify_exception
            f = classify_exception(e)
            print(f"layerstudio train: the run could not start: {f['message']}", file=err)
            if f.get("advice"):
                print(f"  {f['advice']}", file=err)
            return EXIT_FAILED
        if control.stop_reason is not None:  # Ctrl-C during set-up: nothing to save yet
            print("layerstudio train: interrupted before training started", file=err)
            return EXIT_INTERRUPTED
        finished = trainer.fit()
    except KeyboardInterrupt:
        print("layerstudio train: interrupted", file=err)
        return EXIT_INTERRUPTED
    finally:
        restore()
    _report(finished, err)
    return STATE_EXIT.get(finished.state, EXIT_FAILED)


def _report(finished, err) -> None:
    where = f" in {finished.run_dir}" if finished.run_dir else ""
    if finished.state == "failed" and finished.error:
        f = finished.error
        print(f"layerstudio train: the run failed: {f['message']}", file=err)
        if f.get("advice"):
            print(f"  {f['advice']}", file=err)
        if f.get("kind") == "exception" and f.get("details"):
            print(f"  (the traceback is in {Path(finished.run_dir or '.') / 'log.txt'})", file=err)
        return
    best = finished.best
    best_text = f"; best {best['metric']} {best['value']:.4g} at epoch {best['epoch']}" if best else ""
    if finished.state == "finished":
        print(f"finished {finished.epoch} epochs ({finished.step} steps, {finished.seconds:.1f} s){where}{best_text}",
              file=err)
    else:
        resume = f"; continue with: layerstudio train --resume {finished.run_dir}" if finished.run_dir else ""
        print(f"{finished.state} at epoch {finished.epoch}, step {finished.step}"
              f"{', checkpoint saved' if finished.checkpoint else ''}{resume}", file=err)


def run(args: argparse.Namespace) -> int:
    return train(args)
