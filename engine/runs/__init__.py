"""The run directory: the durable, app-independent record of one training run (no torch, no Qt).

    runs/<name>-<YYYYmmdd-HHMMSS>/
      project.json  config.json  status.json  metrics.jsonl  checkpoints/  probes/  log.txt

Writers live here (the trainer uses them) and so does the torch-free reader the app and the
CLI use to follow a run, live or finished. See docs/run-directory.md.
"""
from engine.runs.layout import RunDir, new_run_path, open_run
from engine.runs.metrics import MetricsReader, MetricsWriter, read_metrics
from engine.runs.reader import RunReader, find_interrupted
from engine.runs.status import STATES, effective_state, mark_ended, read_status

__all__ = ["STATES", "MetricsReader", "MetricsWriter", "RunDir", "RunReader", "effective_state", "find_interrupted",
           "mark_ended", "new_run_path", "open_run", "read_metrics", "read_status"]
