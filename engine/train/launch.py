"""``layerstudio train FILE --nproc N``: start N training processes on this machine through
torchrun (engine.train.ddp runs torch.distributed.run) and wait for them. No torch here.

The run directory is chosen here, so every process writes (rank 0) or reads the same one.
torchrun runs in a session of its own: Ctrl-C reaches only this process, which asks the
workers to stop through the run's stop file (they agree on a step, rank 0 checkpoints, all
exit); a second Ctrl-C kills them. The exit code is the run's final state.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Sequence, TextIO

from engine.runs.status import effective_state, read_status

#: a file in the run directory that asks a distributed run to stop (rank 0 looks for it)
STOP_FILE = ".stop-request"
STATE_EXIT = {"finished": 0, "failed": 3, "stopped": 130, "interrupted": 130}
ROOT = Path(__file__).resolve().parents[2]


def torchrun_command(nproc: int, worker_args: Sequence[str], max_restarts: int = 0) -> list[str]:
    return [sys.executable, "-m", "engine.train.ddp", "--standalone", "--nnodes=1", f"--nproc-per-node={nproc}",
            f"--max-restarts={max_restarts}", "-m", "engine.cli.main", "train", *worker_args]


def request_stop(run_dir: str | os.PathLike) -> None:
    """Ask a distributed run to stop at its next agreement step (with a checkpoint)."""
    path = Path(run_dir) / STOP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def launch(nproc: int, worker_args: Sequence[str], run_dir: str | os.PathLike, err: TextIO, *,
           max_restarts: int = 0) -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    # torchrun otherwise sets 1 with a warning; training.threads still applies per process
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    proc = subprocess.Popen(torchrun_command(nproc, worker_args, max_restarts), env=env, start_new_session=True)
    asked = []

    def handler(signum, frame):
        if asked:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        asked.append(signum)
        request_stop(run_dir)
        print("layerstudio train: stopping at the next agreed step (Ctrl-C again to end at once)", file=err)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        try:
            (Path(run_dir) / STOP_FILE).unlink()
        except OSError:
            pass
    if code > 0:  # invalid settings (1), usage (2), a failed run (3): the workers said why
        return code
    status = read_status(Path(run_dir) / "status.json")
    state = effective_state(status) if status else None
    return STATE_EXIT.get(state, 130 if asked else 3)
