"""Probes change nothing in training, follow the app's live settings, and cope with networks
that lack what a probe shows."""
import numpy as np
import torch

from .conftest import chain, lenet, of, train

PROBE_TYPES = {"filters", "feature_maps", "health", "evaluation", "saliency", "probe_images"}


def test_probes_at_every_step_leave_training_bit_for_bit_the_same():
    """Dropout draws from the global generator, BatchNorm keeps running statistics: a probe that
    touched either, or left a gradient or a train/eval flag behind, would change the result."""
    def graph_with_bn_and_dropout(**training):
        return chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("BatchNorm2d", {}), ("ReLU", {}),
                     ("MaxPool2d", {"kernel_size": 4}), ("Flatten", {}), ("Dropout", {"p": 0.3}),
                     ("Linear", {"out_features": 6}), **training)
    probed, events, _ = train(graph_with_bn_and_dropout())
    plain, plain_events, _ = train(graph_with_bn_and_dropout(probes={"enabled": False}), each_step=False)
    assert PROBE_TYPES <= {e.type for e in events}
    assert not PROBE_TYPES & {e.type for e in plain_events}
    a, b = probed.model.state_dict(), plain.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    loss = lambda evs: np.concatenate([e.loss for e in of(evs, "metrics")])  # noqa: E731
    assert np.array_equal(loss(events), loss(plain_events))
    assert probed.model.training and all(p.requires_grad for p in probed.model.parameters())


def test_live_settings_choose_the_layers_and_bad_ones_are_warnings(tmp_path):
    from engine.project.io import from_dict
    from engine.train.callbacks import EventStream
    from engine.train.trainer import Trainer

    from .conftest import every_step
    events = []
    trainer = Trainer(from_dict(lenet(epochs=1)), callbacks=[EventStream(events.append)])
    trainer.probe_config.request({"feature_layer": "pool2", "feature_image": 5, "filter_layer": "conv2",
                                  "gradcam_layer": "conv1", "health": False})
    trainer.probe_config.request({"feature_layer": "nope", "period_s": 0})  # the later request wins
    trainer.setup()
    every_step(trainer)
    assert trainer.fit().state == "finished"
    warnings = [e.message for e in of(events, "log") if e.level == "warning"]
    assert any("feature_layer" in w and "'nope'" in w for w in warnings)
    assert any("period_s" in w for w in warnings)
    assert not of(events, "feature_maps") and not of(events, "health")
    assert {e.layer for e in of(events, "filters")} == {"conv2"}
    assert {e.layer for e in of(events, "saliency")} == {"conv1"}

    events.clear()
    trainer = Trainer(from_dict(lenet(epochs=1)), callbacks=[EventStream(events.append)])
    trainer.probe_config.request({"feature_layer": "pool2", "feature_image": 5})
    trainer.setup()
    every_step(trainer)
    trainer.fit()
    fm = of(events, "feature_maps")[-1]
    assert fm.layer == "pool2" and fm.image_index == 5 and fm.shape == [16, 5, 5]
    assert (fm.image == of(events, "probe_images")[0].images[5]).all()


def test_a_network_without_convolutions_gets_saliency_alone_and_vector_maps():
    doc = chain(("Flatten", {}), ("Linear", {"out_features": 16}), ("ReLU", {}), ("Linear", {"out_features": 6}),
                epochs=1, probes={"feature_layer": "linear1"})
    _, events, _ = train(doc)
    assert not of(events, "filters")
    s = of(events, "saliency")[-1]
    assert s.gradcam is None and s.layer is None and s.saliency.shape == (8, 32, 32)
    assert np.allclose(s.saliency.reshape(8, -1).max(axis=1), 1.0)
    fm = of(events, "feature_maps")[-1]
    assert fm.shape == [16] and fm.maps.shape == (1, 1, 16)
    h = of(events, "health")[-1]
    assert h.nodes == ["linear1", "relu2", "linear3"] and not np.isnan(h.dead_fraction[1])


def test_big_convolutions_are_cut_to_64_channels():
    doc = chain(("Conv2d", {"out_channels": 80, "kernel_size": 1}), ("Conv2d", {"out_channels": 70, "kernel_size": 3}),
                ("AdaptiveAvgPool2d", {"output_size": 1}), ("Flatten", {}), ("Linear", {"out_features": 6}),
                epochs=1, batch_size=64)
    trainer, events, _ = train(doc)
    filters = {e.layer: e for e in of(events, "filters")}
    assert filters["conv2d0"].weights.shape == (64, 3, 1, 1) and filters["conv2d0"].truncated
    assert filters["conv2d1"].weights.shape == (64, 64, 3, 3) and filters["conv2d1"].truncated
    w = trainer.model.get_submodule(trainer.model.layer_names["conv2d1"]).weight.detach().numpy()
    assert filters["conv2d1"].hist_counts.sum() == w.size  # statistics of the whole layer
    fm = of(events, "feature_maps")[-1]
    assert fm.layer == "conv2d0" and fm.maps.shape == (64, 32, 32) and fm.shape == [80, 32, 32]


def test_a_failing_probe_is_turned_off_with_a_warning_and_the_run_goes_on(monkeypatch):
    from engine.train.callbacks import filters
    monkeypatch.setattr(filters, "histogram", lambda w: 1 / 0)
    _, events, finished = train(lenet(epochs=1))
    assert not of(events, "filters") and of(events, "saliency") and of(events, "health")
    (warning,) = [e.message for e in of(events, "log") if "filters probe failed" in e.message]
    assert "ZeroDivisionError" in warning and "off for the rest of this run" in warning


def test_signals_get_filters_health_and_evaluation_without_pictures():
    import json

    from .conftest import ROOT
    doc = json.loads((ROOT / "assets" / "templates" / "signal_1d.json").read_text())
    doc["dataset"]["size"] = 192
    doc["training"].update({"epochs": 1, "device": "cpu", "threads": 1, "batch_size": 32})
    _, events, _ = train(doc)
    conv1 = [e for e in of(events, "filters") if e.layer == "conv1"][-1]
    assert conv1.weights.ndim == 3 and conv1.weights.shape[:2] == (16, 1)
    e = of(events, "evaluation")[-1]
    assert all(len(v) == 0 for v in e.confident_wrong.values()) and e.confusion.sum() > 0
    assert of(events, "health") and not of(events, "saliency") and not of(events, "probe_images")
    notes = [e for e in of(events, "log") if e.message.startswith("probes:")]
    assert len(notes) == 2 and all(e.level == "info" for e in notes)
