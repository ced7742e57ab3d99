"""Internal exceptions of a run, classified into failures by the trainer (never shown raw)."""
from __future__ import annotations


class NonFiniteError(Exception):
    """The loss or the weights became NaN/Inf; ``step`` is the first bad optimizer step."""

    def __init__(self, step: int, what: str = "loss") -> None:
        super().__init__(f"the {what} became NaN or infinite at step {step}")
        self.step, self.what = step, what


class CheckpointWriteError(Exception):
    """Writing a checkpoint failed (disk full, I/O error); the previous checkpoints are intact."""

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"could not write {path}: {cause}")
        self.path, self.cause = path, cause
