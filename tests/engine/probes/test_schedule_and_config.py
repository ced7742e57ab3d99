"""When probe rounds happen, and live settings changes (no torch)."""
import threading

from engine.train.probe_config import ProbeConfig
from engine.train.probe_schedule import ProbeSchedule


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_a_round_is_due_every_period_and_shared_by_all_probes_of_its_step():
    clock = Clock()
    s = ProbeSchedule(2.0, clock=clock)
    assert s.is_round(1) and s.is_round(1)  # the first step, for every probe asking
    clock.t += 1.0
    assert not s.is_round(2)
    clock.t += 1.0
    assert s.is_round(3) and s.is_round(3) and not s.is_round(4)


def test_slow_probes_are_spaced_out_to_stay_within_the_budget():
    clock = Clock()
    s = ProbeSchedule(2.0, budget=0.02, clock=clock)
    assert s.is_round(1)
    s.spent(30.0)  # the first round warms up (imports, first allocations): not counted
    clock.t += 2.0
    assert s.is_round(2)
    s.spent(0.05)
    s.spent(0.05)  # 0.1 s of probes: the next round may start 5 s later, not 2 s
    clock.t += 4.9
    assert not s.is_round(3)
    clock.t += 0.2
    assert s.is_round(3)
    s.set_period(0.5)
    clock.t += 0.5
    assert s.is_round(4)
    s.due_now()
    assert s.is_round(5)


def test_live_changes_are_validated_applied_once_and_errors_reported_once():
    cfg = ProbeConfig({"probes.period_s": 1.0, "probes.feature_layer": None, "epochs": 3})
    assert cfg["period_s"] == 1.0 and cfg["feature_layer"] is None and cfg["enabled"] is True
    t = threading.Thread(target=cfg.request, args=({"feature_layer": "conv2", "period_s": "fast",
                                                     "saliency_images": 4, "bogus": 1},))
    t.start()
    t.join()
    changed, errors = cfg.apply(step=7)
    assert changed == {"feature_layer"} and cfg["feature_layer"] == "conv2" and cfg.version == 1
    assert len(errors) == 3
    assert any("training.probes.period_s" in e for e in errors)
    assert any("saliency_images" in e and "next run" in e for e in errors)
    assert any("bogus" in e and "unknown" in e for e in errors)
    assert cfg.apply(step=7) == (set(), [])  # the other probes of the step get nothing
    cfg.request({"feature_layer": None, "feature_image": 3})
    changed, errors = cfg.apply(step=8)
    assert changed == {"feature_layer", "feature_image"} and not errors and cfg["feature_layer"] is None
    cfg.request({"feature_image": 3})
    assert cfg.apply(step=9) == (set(), []) and cfg.version == 2  # no change, no new version
