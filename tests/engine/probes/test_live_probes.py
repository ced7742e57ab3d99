"""What the live probes send, checked against independent computations on the same run."""
import numpy as np
import torch

from engine.runs import events as ev
from engine.runs.checkpoints import list_checkpoints

from .conftest import of


def final_model(trainer, run_dir):
    """The model built from the run's graph with the weights of its last checkpoint."""
    from engine.build import build_module
    last = list_checkpoints(run_dir / "checkpoints")[-1]
    model = build_module(trainer.project.graph)
    model.load_state_dict(torch.load(last.path, weights_only=True)["model"])
    return model.eval(), last


def test_the_stream_starts_with_started_then_the_probe_images(lenet_run):
    trainer, events, finished, _ = lenet_run
    types = [e.type for e in events]
    assert types[0] == "started" and types[-1] == "finished"
    first_probe = min(types.index(t) for t in ("filters", "feature_maps", "saliency", "health"))
    assert types.index("probe_images") < first_probe and types.count("probe_images") == 1
    (images,) = of(events, "probe_images")
    assert images.images.shape == (8, 32, 32, 3) and images.images.dtype == np.uint8
    assert sorted(images.labels[:6].tolist()) == list(range(6))  # the classes in turn
    x, y = trainer.dataset.arrays("val")
    assert (images.images[3] == np.asarray(x[images.indices[3]]).transpose(1, 2, 0)).all()
    assert images.labels[3] == y[images.indices[3]] and images.classes == trainer.classes


def test_filters_equal_the_checkpoint_weights_and_their_statistics(lenet_run):
    trainer, events, finished, run_dir = lenet_run
    model, last = final_model(trainer, run_dir)
    rounds = of(events, "filters")
    assert {e.layer for e in rounds} == {"conv1", "conv2"}
    final = {e.layer: e for e in rounds if e.step == finished.step}
    assert last.step == finished.step and set(final) == {"conv1", "conv2"}
    for layer, e in final.items():
        w = model.get_submodule(layer).weight.detach().numpy()
        assert e.weights.dtype == np.float32 and e.weights.shape == w.shape and not e.truncated
        assert np.array_equal(e.weights, w)
        assert np.isclose(e.mean, w.mean(), atol=1e-7) and np.isclose(e.std, w.std(), rtol=1e-5)
        counts, edges = np.histogram(w, bins=32)
        assert e.hist_counts.dtype == np.int64 and e.hist_counts.sum() == w.size
        assert np.allclose(e.hist_edges, edges, atol=1e-6) and np.abs(e.hist_counts - counts).sum() <= 2
    assert len({e.step for e in rounds}) == finished.step  # a round at every step here


def test_feature_maps_are_the_first_convolution_of_a_probe_image(lenet_run):
    trainer, events, finished, run_dir = lenet_run
    model, _ = final_model(trainer, run_dir)
    e = [e for e in of(events, "feature_maps") if e.step == finished.step][0]
    (images,) = of(events, "probe_images")
    assert e.layer == "conv1" and e.image_index == 0 and e.shape == [6, 28, 28]
    assert (e.image == images.images[0]).all() and e.maps.shape == (6, 28, 28) and e.maps.dtype == np.float32
    ds = trainer.dataset
    x = (torch.from_numpy(images.images[:1]).permute(0, 3, 1, 2).float() / 255
         - torch.tensor(ds.mean).view(1, 3, 1, 1)) / torch.tensor(ds.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = model.conv1(x)[0].numpy()
    assert np.allclose(e.maps, expected, atol=1e-4)


def test_saliency_and_gradcam_of_the_probe_set(lenet_run):
    from engine.explain.probe_store import ProbeTimeline
    trainer, events, finished, run_dir = lenet_run
    rounds = of(events, "saliency")
    e = rounds[-1]
    assert e.layer == "conv2" and e.saliency.shape == (8, 32, 32) and e.gradcam.shape == (8, 32, 32)
    assert e.saliency.dtype == np.float32 and e.pred.dtype == np.int64 and e.confidence.dtype == np.float32
    assert np.allclose(e.saliency.reshape(8, -1).max(axis=1), 1.0)
    assert ((0 < e.confidence) & (e.confidence <= 1)).all() and (e.label == of(events, "probe_images")[0].labels).all()
    timeline = ProbeTimeline(run_dir)
    assert timeline.steps[-1] == e.step and len(timeline) <= len(rounds)
    frame = timeline.frame(-1)
    assert np.abs(frame.result.saliency - e.saliency).max() <= 1 / 255 + 1e-6
    assert (frame.result.predicted == e.pred).all()


def test_evaluation_agrees_with_the_validation_and_a_brute_force_ranking(lenet_run):
    trainer, events, finished, run_dir = lenet_run
    validations, evaluations = of(events, "validation"), of(events, "evaluation")
    assert [v.epoch for v in validations] == [e.epoch for e in evaluations] == [1, 2, 3]
    for v, e in zip(validations, evaluations):
        assert e.confusion.dtype == np.int64 and e.confusion.shape == (6, 6)
        assert e.confusion.sum() == trainer.val_source.num_samples == 48
        assert np.isclose(np.trace(e.confusion) / e.confusion.sum(), v.accuracy)
        rows = e.confusion.sum(axis=1)
        assert np.allclose(e.per_class_accuracy, np.diag(e.confusion) / rows)
    e = evaluations[-1]
    model, _ = final_model(trainer, run_dir)
    x, y = trainer.dataset.arrays("val")
    from engine.train.probe_set import normalize
    with torch.no_grad():
        probs = model(normalize(trainer.dataset, np.asarray(x), torch.device("cpu"))).softmax(1).numpy()
    pred, conf = probs.argmax(1), probs.max(1)
    for gallery, right in ((e.confident_correct, True), (e.confident_wrong, False)):
        mask = (pred == y) == right
        n = min(16, int(mask.sum()))
        assert gallery["images"].shape == (n, 32, 32, 3) and gallery["images"].dtype == np.uint8
        assert np.allclose(gallery["prob"], np.sort(conf[mask])[::-1][:n], atol=1e-5)
        assert (np.diff(gallery["prob"]) <= 0).all()
        assert ((gallery["pred"] == gallery["true"]) == right).all()
        i = int(np.flatnonzero(mask & np.isclose(conf, gallery["prob"][0], atol=1e-6))[0])
        assert (gallery["images"][0] == np.asarray(x[i]).transpose(1, 2, 0)).all()


def test_what_probes_write_reads_back_as_the_live_events(lenet_run):
    from engine.runs.probes import ProbeHistory
    trainer, events, finished, run_dir = lenet_run
    h = ProbeHistory(run_dir)
    live_filters = [e for e in of(events, "filters") if e.step == h.filter_steps[-1]]
    for a, b in zip(h.filters(-1), live_filters):
        assert a.layer == b.layer and np.array_equal(a.weights, b.weights) and a.mean == np.float32(b.mean)
        assert (a.hist_counts == b.hist_counts).all() and a.truncated == b.truncated
    fm = h.feature_maps(-1)
    live = [e for e in of(events, "feature_maps") if e.step == fm.step][0]
    assert fm.layer == live.layer and fm.shape == live.shape and (fm.image == live.image).all()
    assert np.allclose(fm.maps, live.maps, rtol=1e-3, atol=1e-3)
    health, live_health = h.health(), of(events, "health")
    assert list(health.steps) == [e.step for e in live_health] and health.nodes == live_health[0].nodes
    assert np.array_equal(health.grad_norm, np.stack([e.grad_norm for e in live_health]), equal_nan=True)
    assert np.array_equal(health.dead_fraction[-1], live_health[-1].dead_fraction, equal_nan=True)
    assert health.event(0).flags == live_health[0].flags
    assert len(h.evaluation_steps) == 3
    for i, live in enumerate(of(events, "evaluation")):
        back = h.evaluation(i)
        assert isinstance(back, ev.Evaluation) and (back.confusion == live.confusion).all()
        for key in ("images", "true", "pred", "prob"):
            assert np.array_equal(back.confident_wrong[key], live.confident_wrong[key])
    images = h.probe_images()
    assert (images.images == of(events, "probe_images")[0].images).all() and images.indices
