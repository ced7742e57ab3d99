"""Classified failures of a run: what happened, in words a user can act on.

A failure is a plain dict (it travels in events and is stored in ``status.json``):

    kind       "invalid" (bad input, found before the first step; also has node and key) |
               "exception" | "oom" | "nonfinite" | "checkpoint_write" | "signal" | "exit" | "lost"
    message    one line: what happened
    advice     what to try (may be empty)
    details    traceback text or other diagnostics (may be empty)
    step       the step where it happened, if known
    checkpoint the last good checkpoint to resume from (a path), if any

No torch here: a CUDA out-of-memory error is recognised by its class name and text, and the
app classifies a worker that died (signal or exit status) itself.
"""
from __future__ import annotations

import signal
import traceback
from typing import Any

OOM_ADVICE = ("Lower training.batch_size, use a smaller model, or (when available) mixed precision; "
              "close other programs that use the GPU.")
NONFINITE_ADVICE = "Lower training.optimizer.lr (try 10× smaller) and resume from the last good checkpoint."
SIGKILL_ADVICE = ("A process killed without warning usually means the system ran out of memory: lower "
                  "training.batch_size or use a smaller dataset or model. Resume from the last checkpoint.")


def failure(kind: str, message: str, *, advice: str = "", details: str = "", step: int | None = None,
            checkpoint: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "message": message, "advice": advice, "details": details, "step": step,
            "checkpoint": checkpoint}


def is_oom(exc: BaseException) -> bool:
    name = type(exc).__name__
    text = str(exc)
    return name == "OutOfMemoryError" or "CUDA out of memory" in text or isinstance(exc, MemoryError)


def classify_exception(exc: BaseException, *, step: int | None = None,
                       checkpoint: str | None = None) -> dict[str, Any]:
    """A Python exception raised by the training code."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if is_oom(exc):
        where = "GPU" if type(exc).__name__ == "OutOfMemoryError" or "CUDA" in str(exc) else "host"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return failure("oom", f"out of {where} memory: {first}", advice=OOM_ADVICE, details=details,
                       step=step, checkpoint=checkpoint)
    text = str(exc).strip() or type(exc).__name__
    return failure("exception", f"{type(exc).__name__}: {text.splitlines()[0]}", details=details, step=step,
                   checkpoint=checkpoint)


def invalid(exc: BaseException) -> dict[str, Any]:
    """A user error found before the first step (a LayerStudioError: settings, graph, data)."""
    f = failure("invalid", str(exc))
    f["node"], f["key"] = getattr(exc, "node", None), getattr(exc, "key", None)
    return f


def nonfinite(step: int, what: str, checkpoint: str | None) -> dict[str, Any]:
    where = f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was saved before it"
    return failure("nonfinite", f"the {what} became NaN or infinite at step {step}; training stopped and "
                   f"{where}", advice=NONFINITE_ADVICE, step=step, checkpoint=checkpoint)


def checkpoint_write(exc: BaseException, path: str, *, step: int | None,
                     checkpoint: str | None) -> dict[str, Any]:
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    where = f"the last good checkpoint is {checkpoint}" if checkpoint else "no earlier checkpoint exists"
    return failure("checkpoint_write", f"could not write the checkpoint {path}: {why}; {where}",
                   advice="Free disk space (or choose another --run-dir) and resume.",
                   details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                   step=step, checkpoint=checkpoint)


def classify_exit(returncode: int | None, *, step: int | None = None,
                  checkpoint: str | None = None) -> dict[str, Any]:
    """A worker process that ended without saying why (as ``Popen.returncode``: -N = signal N)."""
    if returncode is None:
        return failure("lost", "the training process stopped responding or its connection was lost",
                       advice="Resume the run from its last checkpoint.", step=step, checkpoint=checkpoint)
    if returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        advice = SIGKILL_ADVICE if sig == signal.SIGKILL else "Resume the run from its last checkpoint."
        return failure("signal", f"the training process was killed by {name}", advice=advice, step=step,
                       checkpoint=checkpoint)
    return failure("exit", f"the training process exited unexpectedly with code {returncode}",
                   advice="See log.txt in the run directory; resume from the last checkpoint.", step=step,
                   checkpoint=checkpoint)
