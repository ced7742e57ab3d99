"""Classify files and folders with the training preprocessing; bad input gets clear errors."""
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from engine.errors import ExplainError
from engine.explain import classify_folder, classify_image, load_weights
from engine.explain.preprocess import Preprocess

from .nets import small

CLASSES = ("circle", "square", "star")
PRE = Preprocess((3, 8, 8), mean=(0.4, 0.5, 0.6), std=(0.2, 0.25, 0.3))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return small(classes=3).eval()


def save_png(path, seed, size=(13, 11), mode="RGB"):
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
    return path


def test_preprocessing_equals_torchvisions_training_pipeline(tmp_path):
    path = save_png(tmp_path / "a.png", 0)
    tv = transforms.Compose([transforms.Resize((8, 8)), transforms.ToTensor(),
                             transforms.Normalize(PRE.mean, PRE.std)])
    with Image.open(path) as img:
        want = tv(img.convert("RGB")).numpy()
    np.testing.assert_allclose(PRE.load(path), want, atol=1e-5)
    gray = Preprocess((1, 8, 8), mean=(0.5,), std=(0.5,))
    with Image.open(path) as img:
        want = transforms.Compose([transforms.Resize((8, 8)), transforms.ToTensor(),
                                   transforms.Normalize((0.5,), (0.5,))])(img.convert("L")).numpy()
    np.testing.assert_allclose(gray.load(path), want, atol=1e-5)
    # display round trip: what the network sees, as pixels
    pixels = PRE.to_display(PRE.load(path))
    assert pixels.shape == (8, 8, 3) and pixels.dtype == np.uint8
    np.testing.assert_allclose(PRE.from_pixels(pixels), PRE.load(path), atol=0.51 / 255 / 0.2)


def test_classify_image_top5_equals_the_model(tmp_path, net):
    path = save_png(tmp_path / "x.png", 1)
    c = classify_image(net, path, PRE, CLASSES)
    with torch.no_grad():
        probs = net(torch.from_numpy(PRE.load(path))[None]).softmax(dim=1)[0].numpy()
    order = np.argsort(-probs)
    assert [t[0] for t in c.top] == list(order)          # 3 classes: top-5 = all 3
    assert [t[1] for t in c.top] == [CLASSES[i] for i in order]
    np.testing.assert_allclose([t[2] for t in c.top], probs[order], rtol=1e-6)
    assert c.probabilities.sum() == pytest.approx(1.0)
    assert c.saliency.raw.shape == (1, 8, 8) and c.saliency.targets[0] == order[0]
    # the same image as pixels (picked from a dataset) gives the same answer
    pixels = np.asarray(Image.open(path).convert("RGB").resize((8, 8), Image.Resampling.BILINEAR))
    np.testing.assert_allclose(classify_image(net, pixels, PRE, CLASSES).probabilities, c.probabilities,
                               rtol=1e-5)


def test_bad_images_get_clear_errors(tmp_path, net):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "text.jpg").write_text("hello")
    for name in ("broken.png", "text.jpg"):
        with pytest.raises(ExplainError, match="cannot be decoded") as e:
            classify_image(net, tmp_path / name, PRE, CLASSES)
        assert e.value.key == "image"
    with pytest.raises(ExplainError, match="no such file"):
        classify_image(net, tmp_path / "missing.png", PRE, CLASSES)
    with pytest.raises(ExplainError, match="1 channels, the network takes 3"):
        classify_image(net, np.zeros((8, 8, 1), np.uint8), PRE, CLASSES)
    with pytest.raises(ExplainError, match="network takes 8×8"):
        classify_image(net, np.zeros((9, 8, 3), np.uint8), PRE, CLASSES)
    with pytest.raises(ExplainError, match="5 channels"):
        Preprocess((5, 8, 8)).load(save_png(tmp_path / "ok.png", 2))
    with pytest.raises(ExplainError, match="2 class names for a network with 3"):
        classify_image(net, np.zeros((8, 8, 3), np.uint8), PRE, CLASSES[:2])


def test_classify_folder_with_class_subfolders(tmp_path, net):
    for i, name in enumerate(CLASSES):
        (tmp_path / name / "deeper").mkdir(parents=True)
        for j in range(3):
            save_png(tmp_path / name / f"{j}.png", 10 * i + j)
        save_png(tmp_path / name / "deeper" / "g.png", 100 + i, mode="L")  # grayscale file
    save_png(tmp_path / "loose.png", 99)
    (tmp_path / "square" / "corrupt.png").write_bytes(b"garbage")
    (tmp_path / "notes.txt").write_text("not an image")
    seen = []
    res = classify_folder(net, tmp_path, PRE, CLASSES, batch_size=4, progress=seen.append)
    assert seen[-1] == 1.0
    assert len(res.rows) == 13 and len(res.skipped) == 1 and "corrupt.png" in res.skipped[0][0]
    labelled = [r for r in res.rows if r.label is not None]
    assert len(labelled) == 12
    assert [r.label for r in res.rows if r.path.endswith("loose.png")] == [None]
    for r in res.rows:
        with torch.no_grad():
            p = net(torch.from_numpy(PRE.load(r.path))[None]).softmax(dim=1)[0]
        assert r.predicted == int(p.argmax()) and r.confidence == pytest.approx(float(p.max()), rel=1e-5)
    want = np.zeros((3, 3), np.int64)
    for r in labelled:
        want[r.label, r.predicted] += 1
    np.testing.assert_array_equal(res.confusion, want)
    assert res.accuracy == pytest.approx(np.trace(want) / 12)


def test_classify_folder_mistakes(tmp_path, net):
    save_png(tmp_path / "a.png", 0)
    res = classify_folder(net, tmp_path, PRE, CLASSES)
    assert res.accuracy is None and res.confusion is None and len(res.rows) == 1
    (tmp_path / "dog").mkdir()
    with pytest.raises(ExplainError, match="'dog' is not a class") as e:
        classify_folder(net, tmp_path, PRE, CLASSES)
    assert e.value.key == "folder"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ExplainError, match="holds no images"):
        classify_folder(net, empty, PRE, CLASSES)


def test_checkpoints_load_or_say_why_not(tmp_path, net):
    torch.manual_seed(5)
    trained = small(classes=3)
    trained.layer_names = {"conv-1": "0", "fc": "4"}  # as engine.build's GraphModule has
    torch.save({"model": trained.state_dict(), "epoch": 3}, tmp_path / "last.pt")
    target = small(classes=3)
    target.layer_names = trained.layer_names
    load_weights(target, tmp_path / "last.pt")
    for k, v in trained.state_dict().items():
        assert torch.equal(target.state_dict()[k], v)
    from safetensors.torch import save_file
    save_file(trained.state_dict(), str(tmp_path / "best.safetensors"))
    load_weights(small(classes=3), tmp_path / "best.safetensors")

    other = small(classes=5)
    other.layer_names = trained.layer_names
    with pytest.raises(ExplainError, match="4.weight has shape \\[3, 16\\] in the checkpoint and "
                                           "\\[5, 16\\] in the graph") as e:
        load_weights(other, tmp_path / "last.pt")
    assert e.value.node == "fc" and e.value.key == "checkpoint"
    partial = {k: v for k, v in trained.state_dict().items() if not k.startswith("0.")}
    with pytest.raises(ExplainError, match="2 weight\\(s\\) of the graph are missing from the checkpoint: 0.weight, 0.bias") as e:
        load_weights(target, partial)
    assert e.value.node == "conv-1"
    (tmp_path / "junk.pt").write_bytes(b"this is no checkpoint")
    with pytest.raises(ExplainError, match="not a readable checkpoint"):
        load_weights(target, tmp_path / "junk.pt")
    with pytest.raises(ExplainError, match="does not exist"):
        load_weights(target, tmp_path / "nope.pt")
