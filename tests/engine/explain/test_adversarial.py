"""FGSM raises the loss and stays a valid image."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.errors import ExplainError
from engine.explain import fgsm

from .nets import small


@pytest.fixture(scope="module")
def trained():
    """A tiny net trained to tell bright-left from bright-right images (loss well below chance)."""
    torch.manual_seed(0)
    net = small(classes=2)
    x = torch.rand(64, 3, 8, 8)
    y = torch.arange(64) % 2
    x[y == 0, :, :, :4] += 0.5
    x[y == 1, :, :, 4:] += 0.5
    x = (x.clamp(0, 1) - 0.5) / 0.25
    for _ in range(60):  # plain SGD by hand: torch.optim's first step imports torch._dynamo (slow)
        net.zero_grad()
        F.cross_entropy(net(x), y).backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= 0.5 * p.grad
    return net, x, y


def test_fgsm_raises_the_loss(trained):
    net, x, y = trained
    adv = fgsm(net, x[:16], y[:16], 0.02, mean=(0.5,), std=(0.25,))
    assert adv.original_loss.mean() < 0.5   # the model really learned the task
    assert np.all(adv.adversarial_loss > adv.original_loss)
    big = fgsm(net, x[:16], y[:16], 0.3, mean=(0.5,), std=(0.25,))
    assert big.adversarial_loss.mean() > adv.adversarial_loss.mean()
    assert (big.adversarial_class != big.labels).sum() > (big.original_class != big.labels).sum()


def test_fgsm_perturbation_is_bounded_and_the_image_valid(trained):
    net, x, y = trained
    eps, mean, std = 0.1, (0.5,), (0.25,)
    adv = fgsm(net, x[:8], y[:8], eps, mean=mean, std=std)
    assert np.abs(adv.perturbation).max() <= eps / std[0] + 1e-5
    pixels = adv.adversarial * std[0] + mean[0]
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6
    np.testing.assert_allclose(adv.adversarial - adv.original, adv.perturbation, atol=1e-6)
    with torch.no_grad():
        p = net(torch.from_numpy(adv.adversarial)).softmax(dim=1)
    np.testing.assert_array_equal(adv.adversarial_class, p.argmax(dim=1).numpy())
    np.testing.assert_allclose(adv.adversarial_confidence, p.max(dim=1).values.numpy(), rtol=1e-5)


def test_fgsm_zero_epsilon_changes_nothing_and_bad_epsilon_is_refused(trained):
    net, x, y = trained
    adv = fgsm(net, x[0], int(y[0]), 0.0, mean=(0.5,), std=(0.25,))
    assert adv.original.shape == (1, 3, 8, 8)
    np.testing.assert_array_equal(adv.adversarial, adv.original)
    with pytest.raises(ExplainError) as e:
        fgsm(net, x[0], 0, 2.0)
    assert e.value.key == "epsilon"
