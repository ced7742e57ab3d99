"""torchvision:NAME read with numpy from torchvision's file layout (fake files made here),
the offline messages, and the download path (with the network replaced)."""
import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

import engine.data.tvsets as tv
from engine.data import describe_dataset, open_dataset
from engine.data.download import DownloadFailed
from engine.data.matfile import write_mat
from engine.errors import DatasetError


def idx_bytes(a: np.ndarray) -> bytes:
    code = {np.uint8: 0x08}[a.dtype.type]
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


def fake_mnist(root: Path, name="MNIST", n=(40, 20), gz=True) -> dict:
    rng = np.random.default_rng(0)
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    out = {}
    for prefix, count in zip(("train", "t10k"), n):
        x = rng.integers(0, 255, (count, 28, 28), dtype=np.uint8)
        y = (np.arange(count) % 10).astype(np.uint8)
        out[prefix] = (x, y)
        for kind, arr in (("images-idx3", x), ("labels-idx1", y)):
            data = idx_bytes(arr)
            f = raw / f"{prefix}-{kind}-ubyte"
            if gz:
                f.with_name(f.name + ".gz").write_bytes(gzip.compress(data))
            else:
                f.write_bytes(data)
    return out


def fake_cifar(root: Path, hundred=False, per_batch=12):
    rng = np.random.default_rng(1)
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    names = ["train", "test"] if hundred else [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    classes = 100 if hundred else 10
    for i, n in enumerate(names):
        data = rng.integers(0, 255, (per_batch, 3072), dtype=np.uint8)
        labels = [(i + j) % classes for j in range(per_batch)]
        entry = {"data": data, ("fine_labels" if hundred else "labels"): labels}
        (folder / n).write_bytes(pickle.dumps(entry, protocol=2))
    return folder


def test_mnist_gz_official_test_split_is_validation(tmp_path):
    data = fake_mnist(tmp_path)
    ds = open_dataset({"source": "torchvision:MNIST"}, data_root=tmp_path, input_shape=(1, 28, 28))
    assert ds.num_classes == 10 and ds.classes[3] == "3 - three"
    assert ds.split_names == ("train", "val") and ds.split_size("train") == 40 and ds.split_size("val") == 20
    x, y = ds.arrays("val")
    assert np.array_equal(x[:, 0], data["t10k"][0]) and np.array_equal(y, data["t10k"][1])
    assert describe_dataset({"source": "torchvision:MNIST"}, data_root=tmp_path).warnings == []


def test_explicit_val_fraction_takes_validation_from_train(tmp_path):
    fake_mnist(tmp_path, "FashionMNIST", gz=False)
    ds = open_dataset({"source": "torchvision:FashionMNIST", "val_fraction": 0.25}, data_root=tmp_path,
                      input_shape=(1, 28, 28))
    assert ds.split_names == ("train", "val", "test")
    assert (ds.split_size("train"), ds.split_size("val"), ds.split_size("test")) == (30, 10, 20)
    assert ds.classes[0] == "T-shirt/top"


def test_converted_to_the_input_shape_with_a_warning(tmp_path):
    fake_mnist(tmp_path, "KMNIST")
    ds = open_dataset({"source": "torchvision:kmnist"}, data_root=tmp_path, input_shape=(3, 32, 32))
    assert ds.sample_shape == (3, 32, 32) and any("converted to 3×32×32" in w for w in ds.warnings)
    x, _ = ds.arrays("train")
    assert np.array_equal(x[:, 0], x[:, 1])  # gray copied to the three channels


def test_cifar10_and_cifar100(tmp_path):
    fake_cifar(tmp_path)
    ds = open_dataset({"source": "torchvision:CIFAR10"}, data_root=tmp_path, input_shape=(3, 32, 32))
    assert ds.classes[0] == "airplane" and ds.split_size("train") == 60 and ds.split_size("val") == 12
    fake_cifar(tmp_path, hundred=True)
    ds = open_dataset({"source": "torchvision:CIFAR100", "data_root": str(tmp_path)}, input_shape=(3, 32, 32))
    assert ds.num_classes == 100 == len(set(ds.classes)) and ds.classes[-1] == "worm"


def test_svhn_from_a_matlab_file(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for name, n in (("train_32x32.mat", 20), ("test_32x32.mat", 10)):
        x = rng.integers(0, 255, (32, 32, 3, n), dtype=np.uint8)  # MATLAB's layout: H, W, C, N
        y = (np.arange(n) % 10 + 1).astype(np.float64)[:, None]  # 1..10, 10 meaning the digit 0
        write_mat(str(tmp_path / name), {"X": x, "y": y})
        arrays[name] = x, y
    ds = open_dataset({"source": "torchvision:SVHN"}, data_root=tmp_path, input_shape=(3, 32, 32))
    x, y = ds.arrays("val")
    mx, my = arrays["test_32x32.mat"]
    assert np.array_equal(x[3], mx[..., 3].transpose(2, 0, 1))  # [C, H, W], as torchvision gives it
    assert y.tolist() == [int(v) % 10 for v in my[:, 0]]


def test_offline_and_absent_names_the_path_and_how_to_supply(tmp_path):
    with pytest.raises(DatasetError) as e:
        open_dataset({"source": "torchvision:MNIST", "download": False}, data_root=tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg and "train-images-idx3-ubyte" in msg
    assert e.value.key == "dataset.data_root"
    d = describe_dataset({"source": "torchvision:MNIST"}, data_root=tmp_path)
    assert d.num_classes == 10 and d.sample_shape == (1, 28, 28) and "not in" in d.warnings[0]


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    def no_network(urls, dest, md5, progress=None):
        raise DownloadFailed(f"{urls[0]}: [Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(tv, "fetch", no_network)
    with pytest.raises(DatasetError) as e:
        open_dataset({"source": "torchvision:CIFAR10"}, data_root=tmp_path)
    assert "could not be downloaded" in str(e.value) and "name resolution" in str(e.value)
    assert str(tmp_path / "cifar-10-batches-py") in str(e.value)


def test_download_then_read(tmp_path, monkeypatch):
    """The download path with the network replaced by a local tarball: fetched, unpacked, read."""
    src = tmp_path / "src"
    fake_cifar(src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    fetched, reports = [], []

    def fake_fetch(urls, dest, md5, progress=None):
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(buf.getvalue())
        fetched.append(urls[0])
        progress(len(buf.getvalue()), len(buf.getvalue()), "Downloading")
        return dest
    monkeypatch.setattr(tv, "fetch", fake_fetch)
    monkeypatch.setattr(tv, "md5_of", lambda p: "")
    root = tmp_path / "root"
    ds = open_dataset({"source": "torchvision:CIFAR10"}, data_root=root,
                      progress=lambda done, total, msg: reports.append(msg))
    assert fetched == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert ds.split_size("train") == 60 and "Downloading" in reports


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    folder = fake_cifar(tmp_path)

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": Evil(), "labels": []}, protocol=2))
    with pytest.raises(DatasetError) as e:
        open_dataset({"source": "torchvision:CIFAR10"}, data_root=tmp_path)
    assert "cannot be read" in str(e.value) and not (tmp_path / "pwned").exists()


def test_unknown_torchvision_name_is_a_config_error():
    from engine.errors import ConfigError
    with pytest.raises(ConfigError) as e:
        describe_dataset({"source": "torchvision:ImageNet"})
    assert e.value.key == "dataset.source" and "folder:PATH" in str(e.value)
