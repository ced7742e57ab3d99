"""The message codec, the typed events and the failure classification (no torch)."""
import signal
import struct

import numpy as np
import pytest

from engine.runs import events as ev
from engine.runs import failures
from engine.service.wire import FrameBuffer, ProtocolError, encode


def test_frames_round_trip_arrays_and_survive_any_split():
    msgs = [{"event": ev.Metrics(epoch=1, step=np.arange(3, dtype=np.int64), loss=np.float32([1, np.nan, 2]),
                                 accuracy=np.float32([0.5, 0, 1]), lr=np.float64([0.1] * 3),
                                 time=np.float64([1, 2, 3]), images_per_s=10.0).to_dict()},
            {"x": [np.zeros((2, 3), np.uint8), {"y": np.int64(7)}], "s": "é"}, {}]
    data = b"".join(encode(m) for m in msgs)
    for cut in (1, 7, 64, len(data)):
        buf, out = FrameBuffer(), []
        for i in range(0, len(data), cut):
            out += buf.feed(data[i:i + cut])
        assert len(out) == 3 and buf.pending == 0
        e = ev.event_from_dict(out[0]["event"])
        assert isinstance(e, ev.Metrics) and e.step.dtype == np.int64 and np.isnan(e.loss[1])
        assert out[1]["x"][0].shape == (2, 3) and out[1]["x"][1]["y"] == 7 and out[1]["s"] == "é"


def test_garbage_is_a_protocol_error_not_a_crash():
    with pytest.raises(ProtocolError):
        FrameBuffer().feed(struct.pack("!II", 2**31, 0))
    body = b'{"a":{"__nd__":[0,"<f4",[4]]}}'
    with pytest.raises(ProtocolError, match="do not match"):
        FrameBuffer().feed(struct.pack("!II", 4 + len(body) + 3, len(body)) + body + b"abc")
    body = b"[1]"
    with pytest.raises(ProtocolError, match="not an object"):
        FrameBuffer().feed(struct.pack("!II", 4 + len(body), len(body)) + body)
    with pytest.raises(TypeError):
        encode({"a": np.array(["text"])})


def test_every_event_type_round_trips():
    samples = [ev.Started("r", 2, 3, 10, 2, ["a", "b"], "cpu", 100, 1, 0, 42), ev.StateChanged("paused"),
               ev.EpochEnd(1, 2, 3, 0.5, 0.9, 100.0, 1.0, 0.1),
               ev.Validation(1, 3, 0.4, 0.8, np.eye(2, dtype=np.int64), ["a", "b"]),
               ev.CheckpointSaved("p", 1, 3, True), ev.Log("warning", "w"), ev.Error({"kind": "oom"}),
               ev.Finished("finished", 2, 6)]
    # the live probes' events (their contents are tested in tests/engine/probes)
    gallery = {"images": np.zeros((1, 2, 2, 3), np.uint8), "true": np.zeros(1, np.int64),
               "pred": np.zeros(1, np.int64), "prob": np.ones(1, np.float32)}
    samples += [ev.Filters(1, 3, "conv1", np.ones((2, 3, 3, 3), np.float32), False, 0.0, 1.0,
                           np.zeros(32, np.int64), np.arange(33, dtype=np.float32)),
                ev.FeatureMaps(1, 3, "conv1", 0, np.zeros((4, 4, 3), np.uint8), np.ones((2, 4, 4), np.float32),
                               [2, 4, 4]),
                ev.LayerHealth(1, 3, ["a"], *(np.ones(1, np.float32) for _ in range(4)), {"a": "vanishing"}),
                ev.Evaluation(1, 3, ["a", "b"], np.eye(2, dtype=np.int64), np.ones(2, np.float32), gallery, gallery),
                ev.Saliency(1, 3, np.ones((1, 4, 4), np.float32), None, np.zeros(1, np.int64),
                            np.ones(1, np.float32), np.zeros(1, np.int64)),
                ev.ProbeImages(np.zeros((1, 4, 4, 3), np.uint8), np.zeros(1, np.int64), ["a"])]
    assert {type(s) for s in samples} | {ev.Metrics} == set(ev.EVENT_TYPES.values())
    for s in samples:
        back = ev.event_from_dict(FrameBuffer().feed(encode(s.to_dict()))[0])
        assert type(back) is type(s)
        assert back.to_dict().keys() == s.to_dict().keys()
    with pytest.raises(ValueError):
        ev.event_from_dict({"type": "nope"})


def test_failures_are_classified_with_advice():
    class OutOfMemoryError(RuntimeError):
        pass
    f = failures.classify_exception(OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"), step=5)
    assert f["kind"] == "oom" and "batch_size" in f["advice"] and f["step"] == 5 and "GPU" in f["message"]
    try:
        raise ValueError("bad thing")
    except ValueError as e:
        f = failures.classify_exception(e, checkpoint="c.pt")
    assert f["kind"] == "exception" and f["message"] == "ValueError: bad thing"
    assert "Traceback" in f["details"] and f["checkpoint"] == "c.pt"
    k = failures.classify_exit(-signal.SIGKILL, step=3)
    assert k["kind"] == "signal" and "SIGKILL" in k["message"] and "memory" in k["advice"]
    assert failures.classify_exit(2)["kind"] == "exit" and failures.classify_exit(None)["kind"] == "lost"
    n = failures.nonfinite(12, "loss", "checkpoints/x.pt")
    assert "step 12" in n["message"] and "checkpoints/x.pt" in n["message"] and "lr" in n["advice"]
    assert "no checkpoint" in failures.nonfinite(1, "loss", None)["message"]
