"""Every attribution method finds the one image region the network looks at."""
import numpy as np
import pytest
import torch

from engine.explain import attribute

from .nets import RegionNet

R0, R1, C0, C1 = RegionNet.REGION


@pytest.fixture(scope="module")
def net_and_image():
    torch.manual_seed(0)
    return RegionNet(), torch.randn(3, 16, 16)


def _inside(m: np.ndarray) -> np.ndarray:
    inside = np.zeros_like(m, dtype=bool)
    inside[R0:R1, C0:C1] = True
    return inside


@pytest.mark.parametrize("method,options", [
    ("saliency", {}),
    ("smoothgrad", {"samples": 8}),
    ("integrated_gradients", {"steps": 16}),
    ("grad_cam", {"layer": "mask2"}),
])
def test_gradient_methods_are_zero_outside_the_region(net_and_image, method, options):
    net, image = net_and_image
    a = attribute(net, image, method, **options)
    raw = a.raw[0]
    inside = _inside(raw)
    assert np.all(raw[~inside] == 0)
    assert np.abs(raw[inside]).max() > 0
    assert a.display.shape == (1, 16, 16) and a.display.max() == pytest.approx(1.0)
    assert np.unravel_index(np.abs(raw).argmax(), raw.shape) in set(zip(*np.nonzero(inside)))


def test_occlusion_peaks_in_the_region_and_ignores_far_pixels(net_and_image):
    net, image = net_and_image
    raw = attribute(net, image, "occlusion", window=2, stride=1).raw[0]
    inside = _inside(raw)
    near = np.zeros_like(inside)
    near[R0 - 1:R1 + 1, C0 - 1:C1 + 1] = True  # a 2×2 window covering a region pixel
    assert np.all(raw[~near] == 0)
    r, c = np.unravel_index(np.abs(raw).argmax(), raw.shape)
    assert inside[r, c]


def test_integrated_gradients_is_complete(net_and_image):
    """Σ attributions ≈ score(image) − score(baseline 0): the map explains the whole score."""
    net, image = net_and_image
    a = attribute(net, image, "integrated_gradients", steps=64)
    with torch.no_grad():
        t = int(a.targets[0])
        gap = net(image[None])[0, t] - net(torch.zeros(1, 3, 16, 16))[0, t]
    assert a.raw.sum() == pytest.approx(float(gap), rel=1e-3, abs=1e-5)


def test_downscaled_maps_keep_the_block_means(net_and_image):
    net, image = net_and_image
    full = attribute(net, image, "saliency").raw[0]
    small = attribute(net, image, "saliency", max_side=4).raw[0]
    assert small.shape == (4, 4)
    np.testing.assert_allclose(small, full.reshape(4, 4, 4, 4).mean(axis=(1, 3)), rtol=1e-5, atol=1e-7)
