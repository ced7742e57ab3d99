"""Long attributions: the cost is known before, progress is reported, cancel stops them."""
import pytest
import torch

from engine.errors import Cancelled, ExplainError
from engine.explain import attribute, estimate_cost
from engine.explain.cost import plan

from .nets import small

LONG = {
    "integrated_gradients": {"steps": 20, "batch_size": 6},
    "smoothgrad": {"samples": 10, "batch_size": 4, "noise": 0.2},
    "occlusion": {"window": 3, "stride": 2, "batch_size": 5},
}


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return small()


@pytest.mark.parametrize("method", LONG)
def test_estimate_matches_the_passes_made(net, method):
    image = torch.randn(3, 8, 8)
    cost = estimate_cost(net, image, method, **LONG[method])
    seen = []
    attribute(net, image, method, progress=seen.append, **LONG[method])
    assert len(seen) == cost.passes > 1
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert cost.rows == sum(plan(method, 1, (3, 8, 8), **LONG[method]))
    assert 0 < cost.seconds < 5


def test_plan_counts():
    assert plan("integrated_gradients", 1, (3, 8, 8), steps=20, batch_size=6) == [6, 6, 6, 2]
    assert plan("integrated_gradients", 2, (3, 8, 8), steps=5, batch_size=4) == [4, 4, 2]
    assert plan("smoothgrad", 1, (3, 8, 8), samples=10, batch_size=4) == [4, 4, 2]
    # 3×3 windows, stride 2 on 8×8: rows 0, 2, 4 and 5 (flush with the edge) → 4 × 4 positions,
    # after one unperturbed pass
    assert plan("occlusion", 1, (3, 8, 8), window=3, stride=2, batch_size=5) == [1, 5, 5, 5, 1]
    assert plan("occlusion", 2, (3, 8, 8), window=3, stride=2, batch_size=4) == [2, 8, 8, 8, 8]
    assert plan("saliency", 4, (3, 8, 8)) == [4]


@pytest.mark.parametrize("method", LONG)
def test_cancel_stops_between_passes(net, method):
    image = torch.randn(3, 8, 8)
    seen = []
    with pytest.raises(Cancelled):
        attribute(net, image, method, progress=seen.append, cancel=lambda: len(seen) >= 2, **LONG[method])
    assert len(seen) == 2 and seen[-1] < 1.0


def test_cancel_before_anything_runs(net):
    with pytest.raises(Cancelled):
        attribute(net, torch.randn(3, 8, 8), "occlusion", cancel=lambda: True)


def test_smoothgrad_is_seeded_and_keeps_the_callers_random_state(net):
    image = torch.randn(3, 8, 8)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = attribute(net, image, "smoothgrad", samples=4)
    assert torch.equal(torch.get_rng_state(), state)
    b = attribute(net, image, "smoothgrad", samples=4)
    c = attribute(net, image, "smoothgrad", samples=4, seed=1)
    assert (a.raw == b.raw).all() and not (a.raw == c.raw).all()


@pytest.mark.parametrize("call,match,key", [
    (lambda n: attribute(n, torch.randn(3, 8, 8), "lime"), "unknown attribution method", "method"),
    (lambda n: attribute(n, torch.randn(3, 8, 8), "saliency", steps=3), "no option 'steps'", "steps"),
    (lambda n: attribute(n, torch.randn(3, 8, 8), "integrated_gradients", steps=0), "at least 1", "steps"),
    (lambda n: attribute(n, torch.randn(3, 8, 8), "occlusion", window=9), "larger than the image", "window"),
    (lambda n: attribute(n, torch.randn(3, 8, 8), "occlusion", window=2, stride=3), "skips pixels", "stride"),
    (lambda n: attribute(n, torch.randn(3, 8, 8), "saliency", 7), "class 7 does not exist", "target"),
    (lambda n: attribute(n, torch.randn(8, 8), "saliency"), "got shape", "image"),
    (lambda n: attribute(n, torch.zeros(3, 8, 8, dtype=torch.uint8), "saliency"), "float tensor", "image"),
    (lambda n: attribute(n, torch.randn(1, 8, 8), "saliency"), "cannot take images", "image"),
    (lambda n: estimate_cost(n, torch.randn(3, 8, 8), "lime"), "unknown attribution method", "method"),
])
def test_mistakes_get_one_clear_typed_error(net, call, match, key):
    with pytest.raises(ExplainError, match=match) as e:
        call(net)
    assert e.value.key == key
