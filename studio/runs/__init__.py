"""The runs of the app, live or on disk: ``RunHandle`` (one run), ``RunManager`` (all of them,
the queue, and the run the live panels show: ``window.runs.current()``)."""
from studio.runs.handle import RunHandle
from studio.runs.manager import RunManager

__all__ = ["RunHandle", "RunManager"]
