"""Grad-CAM equals a reference computed by hand (numpy loops, analytic gradient)."""
import numpy as np
import pytest
import torch

from engine.explain import grad_cam

from .nets import CamNet


def reference_cam(net: CamNet, image: np.ndarray, target: int) -> np.ndarray:
    w = net.conv.weight.detach().numpy()      # [2, 1, 3, 3]
    b = net.conv.bias.detach().numpy()
    fc = net.fc.weight.detach().numpy()       # [3, 32]
    padded = np.pad(image[0], 1)
    conv = np.zeros((2, 8, 8))
    for k in range(2):
        for i in range(8):
            for j in range(8):
                conv[k, i, j] = (padded[i:i + 3, j:j + 3] * w[k, 0]).sum() + b[k]
    a = conv.reshape(2, 4, 2, 4, 2).mean(axis=(2, 4))            # the pooled layer output
    # score = fc[target] · relu(a).flatten() + bias → d score / d a = fc[target] where a > 0
    grad = fc[target].reshape(2, 4, 4) * (a > 0)
    alpha = grad.mean(axis=(1, 2))
    cam = np.maximum((alpha[:, None, None] * a).sum(axis=0), 0)
    return np.kron(cam, np.ones((2, 2)))                         # nearest upsampling 4×4 → 8×8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grad_cam_equals_hand_computation(seed):
    torch.manual_seed(seed)
    net = CamNet()
    image = torch.randn(1, 8, 8)
    for target in range(3):
        got = grad_cam(net, image, target, layer="pool", interpolation="nearest").raw[0]
        want = reference_cam(net, image.numpy().astype(np.float64), target)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert np.abs(want).max() > 0 or np.abs(got).max() == 0
