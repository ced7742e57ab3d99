"""``layerstudio train``: train a project in a run directory, or continue one, without a window.

    layerstudio train FILE [--epochs N] [--batch-size B] [--device D] [--run-dir DIR]
                           [--init-from RUN_DIR] [--nproc N]
    layerstudio train --resume RUN_DIR [--epochs N] [--device D] [--nproc N]
    layerstudio train FILE --overfit-batch [--steps N]      can the model learn one batch?
    layerstudio train FILE --gradcheck                      backward against finite differences

Ctrl-C (or SIGTERM) stops at the next step with a checkpoint and exits 130; a second Ctrl-C
stops at once. Exit codes: 0 finished (or the sanity check passed), 1 invalid project or
settings, 2 usage error or unreadable file / run directory, 3 the run failed (NaN, out of
memory, crash) or the sanity check failed, 130 interrupted.

``--nproc N`` trains with N processes through torchrun (DDP; engine.train.launch). Started by
torchrun directly (WORLD_SIZE set, see docs/distributed.md), this command is one of the
workers: every worker must get the same ``--run-dir``; only rank 0 writes it and prints; when
torchrun restarts the workers, they resume from the run's latest checkpoint.
"""
from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--init-from", metavar="RUN_DIR",
                        help="fine-tune: start from this run's weights (training.init_from.run), matching layers by "
                             "node id")
    parser.add_argument("--nproc", type=_positive, metavar="N",
                        help="train with N processes on this machine (one per GPU; DDP through torchrun)")
    parser.add_argument("--max-restarts", type=int, default=0, metavar="K",
                        help="with --nproc: restart the processes up to K times after a failure, resuming from the "
                             "last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bar; errors only")
    sanity = parser.add_argument_group("sanity checks (no run directory is written)")
    sanity.add_argument("--overfit-batch", action="store_true",
                        help="train on one batch and show whether the loss goes near zero (exit 3 if not)")
    sanity.add_argument("--steps", type=_positive, metavar="N", help="steps of --overfit-batch (default 200)")
    sanity.add_argument("--gradcheck", action="store_true",
                        help="check the model's gradients in float64 against finite differences (exit 3 if wrong)")


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
    sanity = [f for f, on in (("--overfit-batch", args.overfit_batch), ("--gradcheck", args.gradcheck)) if on]
    if len(sanity) > 1:
        raise UsageError("give --overfit-batch or --gradcheck, not both")
    if sanity and args.resume:
        raise UsageError(f"{sanity[0]} checks a project FILE, not a run (--resume)")
    if sanity and (args.nproc or 1) > 1:
        raise UsageError(f"{sanity[0]} runs in one process; leave out --nproc")
    if args.steps and not args.overfit_batch:
        raise UsageError("--steps goes with --overfit-batch")
    if args.resume and args.init_from:
        raise UsageError("--init-from starts a new run; a resumed run has its own weights")
    if args.max_restarts and (args.nproc or 1) < 2:
        raise UsageError("--max-restarts goes with --nproc N (N ≥ 2)")
    if args.max_restarts < 0:
        raise UsageError(f"--max-restarts must be at least 0, got {args.max_restarts}")
    if args.nproc and distributed_worker():
        raise UsageError("--nproc starts torchrun; under torchrun, leave it out")
    if distributed_worker() and not (args.run_dir or args.resume):
        raise UsageError("under torchrun every process needs the same --run-dir DIR")


def distributed_worker() -> bool:
    """True in a process that torchrun started as one of several (no torch needed to tell)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def _rank() -> int:
    return int(os.environ.get("RANK", "0") or 0)


def make_trainer(args: argparse.Namespace, callbacks: Iterable, control):
    """The trainer the command line asks for (validated, not yet set up)."""
    from engine.project import load
    from engine.runs.layout import default_runs_parent, new_run_path
    from engine.train.trainer import Trainer

    if args.resume:  # under torchrun, rank 0 alone judges whether the run is still alive
        return Trainer.resume(args.resume, epochs=args.epochs, device=args.device, callbacks=callbacks,
                              control=control, check_running=_rank() == 0)
    if distributed_worker() and _restarted(args.run_dir):  # torchrun restarted the workers: go on
        return Trainer.resume(args.run_dir, epochs=args.epochs, device=args.device, callbacks=callbacks,
                              control=control, check_running=False)
    project = load(args.file)
    run_dir = Path(args.run_dir) if args.run_dir else new_run_path(default_runs_parent(args.file), project.name)
    init_from = str(Path(args.init_from).resolve()) if args.init_from else None  # relative to here, not FILE
    return Trainer(project, project_path=args.file, run_dir=run_dir, callbacks=callbacks, control=control,
                   overrides={"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device,
                              "init_from": init_from})


def _restarted(run_dir: str) -> bool:
    """A restart by torchrun with a checkpoint to resume from. A run that died before its first
    checkpoint starts over (rank 0 clears what it had written)."""
    from engine.runs.checkpoints import latest_checkpoint
    from engine.runs.layout import RunDir
    from engine.train.ddp import restart_count

    run = RunDir(run_dir)
    if restart_count() == 0 or not run.status.exists():
        return False
    if latest_checkpoint(run.checkpoints) is not None:
        return True
    if _rank() == 0:
        import shutil
        shutil.rmtree(run.path, ignore_errors=True)
    return False


def _install_signals(control) -> Callable[[], None]:
    """First Ctrl-C/SIGTERM: graceful stop with a checkpoint; a second Ctrl-C: stop at once."""
    def handler(signum, frame):
        asked = control.stop_reason or getattr(control, "requested", None)  # AgreedControl: noted, not agreed yet
        if asked is not None and signum == signal.SIGINT:
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
    if args.overfit_batch or args.gradcheck:
        from engine.cli.sanity import run_sanity
        return run_sanity(args, err)
    if (args.nproc or 1) > 1:
        return _launch(args, err)
    distributed = distributed_worker()
    if distributed and _rank() != 0:  # rank 0 speaks for every process
        err = open(os.devnull, "w")
    control = Control()
    if distributed:
        from engine.train.ddp import AgreedControl
        control = AgreedControl()
    callbacks = [EventStream(s) for s in sinks]
    if not args.quiet and not (distributed and _rank() != 0):
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
        if distributed:
            from engine.train.ddp import shutdown
            shutdown()
    _report(finished, err)
    code = STATE_EXIT.get(finished.state, EXIT_FAILED)
    # under torchrun a stop with its checkpoint is not a failure to restart from (status.json says stopped)
    return EXIT_OK if distributed and code == EXIT_INTERRUPTED else code


def _launch(args: argparse.Namespace, err) -> int:
    """``--nproc N``: the same command in N processes under torchrun, sharing one run directory."""
    from engine.project import load
    from engine.runs.layout import default_runs_parent, new_run_path
    from engine.train.launch import launch

    if args.resume:
        run_dir = Path(args.resume)
    else:
        try:
            project = load(args.file)
        except UnreadableFileError as e:
            print(f"layerstudio train: {e}", file=err)
            return EXIT_USAGE
        except LayerStudioError as e:
            print(f"layerstudio train: {e}", file=err)
            return EXIT_INVALID
        run_dir = Path(args.run_dir) if args.run_dir else new_run_path(default_runs_parent(args.file), project.name)
    worker = [str(Path(args.file).resolve())] if args.file else []
    for flag, value in (("--resume", args.resume), ("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--device", args.device), ("--init-from", args.init_from)):
        if value is not None:
            worker += [flag, str(Path(value).resolve()) if flag in ("--resume", "--init-from") else str(value)]
    if not args.resume:
        worker += ["--run-dir", str(run_dir.resolve())]
    if args.quiet:
        worker.append("--quiet")
    return launch(args.nproc, worker, run_dir, err, max_restarts=args.max_restarts)


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
