"""The batched live probe equals Captum's Saliency and LayerGradCam, image by image."""
import numpy as np
import pytest
import torch
from captum.attr import LayerAttribution, LayerGradCam, Saliency

from engine.errors import ExplainError
from engine.explain import grad_cam, run_probes, saliency

from .nets import lenet


def captum_maps(net, x, targets, layer):
    net.eval()
    sal = Saliency(net).attribute(x.clone().requires_grad_(True), target=targets, abs=True).amax(dim=1)
    cam = LayerGradCam(net, layer).attribute(x, target=targets, relu_attributions=True)
    cam = LayerAttribution.interpolate(cam, (32, 32), interpolate_mode="bilinear")[:, 0]
    return sal.detach().numpy(), cam.detach().numpy()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("explain", ["predicted", "label"])
def test_probe_maps_equal_captum(inplace, explain):
    torch.manual_seed(0)
    net = lenet(inplace=inplace)
    x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 1, 2, 3, 4, 5, 0, 1])
    r = run_probes(net, x, y, layer="3", explain=explain)
    with torch.no_grad():
        probs = net(x).softmax(dim=1)
    targets = probs.argmax(dim=1) if explain == "predicted" else y
    sal, cam = captum_maps(net, x, targets, net[3])
    np.testing.assert_allclose(r.saliency * r.saliency_scale[:, None, None], sal, rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(r.gradcam * r.gradcam_scale[:, None, None], cam, rtol=1e-4, atol=1e-9)
    assert cam.max() > 0
    np.testing.assert_array_equal(r.predicted, probs.argmax(dim=1).numpy())
    np.testing.assert_allclose(r.confidence, probs.max(dim=1).values.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(r.labels, y.numpy())
    np.testing.assert_array_equal(r.targets, targets.numpy())
    assert r.saliency.dtype == np.float32 and r.saliency.max() == pytest.approx(1.0)


def test_probe_maps_equal_the_library_functions_and_downscale():
    torch.manual_seed(1)
    net = lenet()
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8) % 6
    r = run_probes(net, x, y, max_side=16)
    assert r.saliency.shape == r.gradcam.shape == (8, 16, 16)
    s = saliency(net, x, max_side=16)
    g = grad_cam(net, x, max_side=16)  # default layer: the last Conv2d, as for the probe
    np.testing.assert_allclose(r.saliency, s.display, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(r.gradcam, g.display, rtol=1e-4, atol=1e-6)


def test_probe_rejects_bad_labels_and_layers():
    net = lenet()
    x = torch.randn(8, 3, 32, 32)
    with pytest.raises(ExplainError, match="labels for 8"):
        run_probes(net, x, [0, 1])
    with pytest.raises(ExplainError, match="not a class"):
        run_probes(net, x, [9] * 8, explain="label")
    with pytest.raises(ExplainError, match="must output a feature map") as e:
        run_probes(net, x, [0] * 8, layer="7")
    assert e.value.node == "7" and e.value.key == "layer"
    with pytest.raises(ExplainError, match="no layer 'conv9'"):
        run_probes(net, x, [0] * 8, layer="conv9")
