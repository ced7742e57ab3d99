"""probes/ on disk: thinning of long runs, following a live run, and resuming."""
import json
import shutil

import numpy as np

from engine.runs import events as ev
from engine.runs.probes import HEALTH, FrameSeries, ProbeHistory, ProbeWriter, scan

from .conftest import lenet, train


def health(step, nodes=("a", "b"), grad=1.0):
    n = len(nodes)
    return ev.LayerHealth(epoch=1, step=step, nodes=list(nodes), grad_norm=np.full(n, grad, np.float32),
                          weight_norm=np.ones(n, np.float32), update_ratio=np.full(n, 0.01, np.float32),
                          dead_fraction=np.full(n, np.nan, np.float32), flags={"a": "vanishing"} if grad < 1 else {})


def test_a_long_series_is_thinned_evenly_and_keeps_the_newest(tmp_path):
    series = FrameSeries(tmp_path, "filters", max_frames=10)
    for step in range(1, 101):
        series.append(step, {"step": np.int64(step)})
        kept = scan(tmp_path, "filters")
        assert step in kept and len(kept) <= 11
    gaps = np.diff(kept[:-1])
    assert len(set(gaps.tolist())) == 1 and kept[0] <= 16  # evenly spaced from the start


def test_the_reader_follows_a_live_run_and_a_resume_drops_what_came_after(tmp_path):
    writer = ProbeWriter(tmp_path)
    history = ProbeHistory(tmp_path)
    assert len(history.health()) == 0 and history.probe_images() is None
    writer.health(health(1))
    writer.health(health(2, grad=0.5))
    with open(tmp_path / "probes" / HEALTH, "a") as f:
        f.write('{"step": 3, "epo')  # a line being written: not read yet
    assert history.refresh()["health"] == [2]
    h = history.health()
    assert list(h.steps) == [1, 2] and h.nodes == ["a", "b"] and h.flags == [{}, {"a": "vanishing"}]
    assert np.isnan(h.dead_fraction).all() and h.grad_norm[1, 0] == np.float32(0.5)
    # a resumed run: rows and frames after the checkpoint go, the reader starts over
    (tmp_path / "probes" / HEALTH).write_text("".join(
        json.dumps(r) + "\n" for r in [json.loads(line) for line in
                                       (tmp_path / "probes" / HEALTH).read_text().splitlines()[:2]]))
    writer.filters([ev.Filters(1, 5, "c", np.ones((1, 1, 1, 1), np.float32), False, 1.0, 0.0,
                               np.zeros(32, np.int64), np.zeros(33, np.float32))])
    writer = ProbeWriter(tmp_path)
    writer.drop_after(1)
    writer.health(health(2, nodes=("a", "b", "c")))
    history.refresh()
    h = history.health()
    assert list(h.steps) == [1, 2] and h.nodes == ["a", "b", "c"] and np.isnan(h.grad_norm[0, 2])
    assert history.filter_steps == []


def test_a_resumed_run_continues_its_history_without_repeats(tmp_path):
    from engine.train.trainer import Trainer

    from .conftest import every_step
    run_dir = tmp_path / "run"
    train(lenet(epochs=1), run_dir)
    before = ProbeHistory(run_dir)
    last = before.filter_steps[-1]
    # what a run that died after its checkpoint had written: must not survive the resume
    shutil.copy(run_dir / "probes" / f"filters-{last:010d}.npz", run_dir / "probes" / "filters-0000000999.npz")
    with open(run_dir / "probes" / HEALTH, "a") as f:
        f.write(json.dumps({"step": 999, "epoch": 9, "time": 0, "grad_norm": []}) + "\n")
    trainer = Trainer.resume(run_dir, epochs=2)
    trainer.setup()
    every_step(trainer)
    assert trainer.fit().state == "finished"
    after = ProbeHistory(run_dir)
    assert 999 not in after.filter_steps and after.filter_steps[-1] == 8
    steps = list(after.health().steps)
    assert steps == sorted(set(steps)) and 999 not in steps and steps[-1] == 8
    assert after.evaluation_steps == [4, 8]
