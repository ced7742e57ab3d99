"""Layer health flags: vanishing gradients in a deep sigmoid net, exploding ones at a huge
learning rate, none on the LeNet-5 sample trained a little."""
import numpy as np

from .conftest import chain, lenet, of, train


def test_a_deep_sigmoid_net_has_vanishing_gradients_in_its_first_layers():
    layers = [("Flatten", {})]
    for _ in range(8):
        layers += [("Linear", {"out_features": 32}), ("Sigmoid", {})]
    layers += [("Linear", {"out_features": 6})]
    _, events, _ = train(chain(*layers, epochs=1))
    rounds = of(events, "health")
    assert rounds
    h = rounds[-1]
    linears = [n for n in h.nodes if n.startswith("linear")]
    assert h.nodes == linears  # Sigmoid is not a ReLU: no dead units, no parameters
    assert h.flags.get(linears[0]) == "vanishing" and linears[-1] not in h.flags
    assert all(f == "vanishing" for f in h.flags.values())
    g = h.grad_norm
    assert g[0] < 1e-4 * g[-1] and np.isnan(h.dead_fraction).all()


def test_a_huge_learning_rate_is_flagged_exploding():
    _, events, _ = train(lenet(epochs=1, optimizer={"type": "SGD", "lr": 20.0, "momentum": 0.9}))
    rounds = of(events, "health")
    assert rounds and any("exploding" in h.flags.values() for h in rounds)
    first = rounds[0]
    exploding = [n for n, f in first.flags.items() if f == "exploding"]
    i = [first.nodes.index(n) for n in exploding]
    assert exploding and all(first.update_ratio[j] > 1 or first.grad_norm[j] > 1e3 for j in i)


def test_lenet5_trained_a_little_is_healthy(lenet_run):
    _, events, _, _ = lenet_run
    rounds = of(events, "health")
    assert len(rounds) >= 5
    assert all(h.flags == {} for h in rounds), [h.flags for h in rounds if h.flags]
    h = rounds[-1]
    assert h.nodes == ["conv1", "relu1", "conv2", "relu2", "fc1", "relu3", "fc2", "relu4", "fc3"]
    params = [h.nodes.index(n) for n in ("conv1", "conv2", "fc1", "fc2", "fc3")]
    relus = [h.nodes.index(n) for n in ("relu1", "relu2", "relu3", "relu4")]
    assert np.isfinite(h.grad_norm[params]).all() and np.isnan(h.grad_norm[relus]).all()
    assert (0 < h.update_ratio[params]).all() and (h.update_ratio[params] < 0.5).all()
    assert np.isnan(h.dead_fraction[params]).all()
    assert ((0 <= h.dead_fraction[relus]) & (h.dead_fraction[relus] <= 1)).all()
