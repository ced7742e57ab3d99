"""``torchvision:NAME``: MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100 and SVHN, read with
numpy from torchvision's own file layout under a data root (so files torchvision downloaded are
found, and the GUI never imports torch), downloaded when absent and the network allows.

Validation is the official test split, unless the project sets ``val_fraction`` explicitly:
then validation comes out of the training split and the official test split becomes "test".
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
import numpy as np

from engine.data.builtin import split_in_memory
from engine.data.cache import cache_key
from engine.data.config import DataConfig
from engine.data.download import DownloadFailed, fetch, md5_of
from engine.data.split import limit_classes, remap_labels, stratified_split
from engine.data.store import Progress, open_or_build, write_arrays
from engine.errors import DatasetError

ENV = "LAYERSTUDIO_DATA_ROOT"

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
CIFAR100_CLASSES = tuple("""apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion
lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew
skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television
tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split())


@dataclass(frozen=True)
class Download:
    urls: tuple[str, ...]
    filename: str
    md5: str
    extract: bool = False  # a .tar.gz unpacked into the data root


@dataclass(frozen=True)
class TvSpec:
    name: str
    classes: tuple[str, ...]
    shape: tuple[int, int, int]
    folders: tuple[str, ...]  # where the files may be, relative to the data root (first: downloads)
    files: tuple[str, ...]  # needed files; for the MNIST family each may also be name + ".gz"
    reader: str
    downloads: tuple[Download, ...]


def _mnist(name: str, classes, mirrors, md5s) -> TvSpec:
    gz = tuple(f + ".gz" for f in _MNIST_FILES)
    return TvSpec(name, tuple(classes), (1, 28, 28), (f"{name}/raw",), _MNIST_FILES, "idx",
                  tuple(Download(tuple(m + f for m in mirrors), f, md5) for f, md5 in zip(gz, md5s)))


SPECS: dict[str, TvSpec] = {s.name: s for s in (
    _mnist("MNIST", ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
                     "7 - seven", "8 - eight", "9 - nine"],
           ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
           ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
            "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]),
    _mnist("FashionMNIST", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                            "Bag", "Ankle boot"],
           ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
           ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
            "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]),
    _mnist("KMNIST", ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
           ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
           ["bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
            "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"]),
    TvSpec("CIFAR10", ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
           (3, 32, 32), ("cifar-10-batches-py",),
           tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",), "cifar10",
           (Download(("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",), "cifar-10-python.tar.gz",
                     "c58f30108f718f92721af3b95e74349a", extract=True),)),
    TvSpec("CIFAR100", CIFAR100_CLASSES, (3, 32, 32), ("cifar-100-python",), ("train", "test"), "cifar100",
           (Download(("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",), "cifar-100-python.tar.gz",
                     "eb9058c3a382ffc7106e4002c42a8d85", extract=True),)),
    TvSpec("SVHN", tuple(str(i) for i in range(10)), (3, 32, 32), ("", "SVHN"),
           ("train_32x32.mat", "test_32x32.mat"), "svhn",
           (Download(("http://ufldl.stanford.edu/housenumbers/train_32x32.mat",), "train_32x32.mat",
                     "e26dedcc434d2e4c54c9b2d4a06d8373"),
            Download(("http://ufldl.stanford.edu/housenumbers/test_32x32.mat",), "test_32x32.mat",
                     "eb5a983be6a315427106f1b164d9cef3"))),
)}


def default_data_root() -> Path:
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_data_dir("layerstudio", appauthor=False)) / "datasets"


def resolve_root(dc: DataConfig, data_root: Path | str | None) -> Path:
    """dataset.data_root (the project), else the caller's (the app's preference), else the default."""
    root = dc["data_root"] or data_root
    return Path(root).expanduser() if root else default_data_root()


def _find(spec: TvSpec, root: Path, name: str) -> Path | None:
    for folder in spec.folders:
        for candidate in (name, name + ".gz") if spec.reader == "idx" else (name,):
            p = root / folder / candidate
            try:
                if p.is_file():
                    return p
            except OSError:
                return None
    return None


def present(spec: TvSpec, root: Path) -> bool:
    return all(_find(spec, root, f) is not None for f in spec.files)


def how_to_supply(spec: TvSpec, root: Path) -> str:
    where = root / spec.folders[0]
    files = ", ".join(spec.files)
    extra = " (or their .gz files)" if spec.reader == "idx" else ""
    src = spec.downloads[0].urls[0].rsplit("/", 1)[0] + "/"
    return (f"put {files}{extra} in {where} (torchvision's layout, e.g. from torchvision.datasets.{spec.name}"
            f"(root='{root}', download=True) on a machine with network access, or from {src}), or set "
            f"dataset.data_root to the folder that holds them")


# -- opening -----------------------------------------------------------------------------
def open_torchvision(dc: DataConfig, cache_dir: Path, data_root, progress: Progress | None):
    spec = SPECS[dc.source.name]
    root = resolve_root(dc, data_root)
    if not present(spec, root):
        _download(spec, root, dc, progress)
    files = [_find(spec, root, f) for f in spec.files]
    signature = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    c = dc.channels or spec.shape[0]
    h, w = dc.size or spec.shape[1:]
    v = dc.values
    own_val = "val_fraction" in dc.given
    key = cache_key("torchvision", spec.name, signature, [c, h, w], v["resize_mode"], own_val, v["val_fraction"],
                    v["test_fraction"], v["min_per_class"], v["max_per_class"], v["seed"])

    def build(writer) -> dict:
        if progress:
            progress(0, 1, f"Reading {spec.name} from {root}")
        (xtr, ytr), (xte, yte), classes = _read(spec, root)
        warnings = []
        if (c, h, w) != spec.shape:
            if progress:
                progress(0, 1, f"Resizing {spec.name} to {c}×{h}×{w}")
            xtr, xte = (_convert(a, c, (h, w), v["resize_mode"], v["seed"]) for a in (xtr, xte))
            warnings.append(f"{spec.name} images ({'×'.join(map(str, spec.shape))}) are converted to {c}×{h}×{w} "
                            f"to match the Input (set the Input's shape to {list(spec.shape)} to use them as they "
                            f"are)")
        if own_val:  # validation out of train; the official test split is "test"
            parts, kept, w2 = split_in_memory(xtr, ytr, classes, dc, with_test=False)
            test = remap_labels(yte, classes, kept)
            parts.append(("test", xte[test >= 0], test[test >= 0]))
            if v["test_fraction"]:
                w2.append(f"dataset.test_fraction: not used; {spec.name}'s official test split is the test split")
        else:
            parts, kept, w2 = _official_val(xtr, ytr, xte, yte, classes, dc)
        meta = write_arrays(writer, parts, image=True)
        if progress:
            progress(1, 1, "Ready")
        return dict(meta, source=dc.source.text, classes=kept, warnings=warnings + w2, skipped=[])

    return open_or_build(cache_dir, "torchvision", key, build)


def _official_val(xtr, ytr, xte, yte, classes, dc: DataConfig):
    """Train (minus an optional test fraction) / official test split as validation."""
    v = dc.values
    keep, kept, warnings = limit_classes(ytr, list(classes), min_per_class=v["min_per_class"],
                                         max_per_class=v["max_per_class"], seed=v["seed"])
    if len(kept) < 2:
        raise DatasetError(f"dataset.min_per_class: only {len(kept)} class(es) left; a classifier needs two or more",
                           key="dataset.min_per_class")
    xtr, ytr = xtr[keep], remap_labels(ytr[keep], classes, kept)
    yv = remap_labels(yte, classes, kept)
    parts = []
    if v["test_fraction"] > 0:
        tr, te = stratified_split(ytr, [v["test_fraction"]], v["seed"])
        parts = [("train", xtr[tr], ytr[tr]), ("val", xte[yv >= 0], yv[yv >= 0]), ("test", xtr[te], ytr[te])]
    else:
        parts = [("train", xtr, ytr), ("val", xte[yv >= 0], yv[yv >= 0])]
    return parts, kept, warnings


def _download(spec: TvSpec, root: Path, dc: DataConfig, progress: Progress | None) -> None:
    where = root / spec.folders[0]
    if not dc["download"]:
        raise DatasetError(f"{spec.name} is not in {where} and dataset.download is false: "
                           f"{how_to_supply(spec, root)}", key="dataset.data_root")
    try:
        for d in spec.downloads:
            target_dir = root if d.extract or spec.reader == "svhn" else where
            dest = target_dir / d.filename
            if not (dest.is_file() and md5_of(dest) == d.md5):
                fetch(list(d.urls), dest, d.md5, progress)
            if d.extract:
                if progress:
                    progress(0, 1, f"Unpacking {d.filename}")
                with tarfile.open(dest, "r:gz") as tar:
                    tar.extractall(root, filter="data")
    except DownloadFailed as e:
        raise DatasetError(f"{spec.name} is not in {where} and could not be downloaded ({_short(str(e))}): "
                           f"{how_to_supply(spec, root)}", key="dataset.data_root") from None
    except (OSError, tarfile.TarError) as e:
        raise DatasetError(f"{spec.name}: cannot write to {root} ({e}); set dataset.data_root to a writable "
                           f"folder", key="dataset.data_root") from None
    if not present(spec, root):
        raise DatasetError(f"{spec.name}: the download did not contain the expected files: "
                           f"{how_to_supply(spec, root)}", key="dataset.data_root")


def _short(s: str) -> str:
    return s if len(s) <= 300 else s[:297] + "..."


# -- readers (numpy only) ------------------------------------------------------------------
def _read(spec: TvSpec, root: Path):
    """((x_train, y_train), (x_test, y_test), classes) with x uint8 [N, C, H, W]."""
    try:
        if spec.reader == "idx":
            f = [_find(spec, root, n) for n in spec.files]
            train = _idx(f[0])[:, None], _idx(f[1]).astype(np.int64)
            test = _idx(f[2])[:, None], _idx(f[3]).astype(np.int64)
            return train, test, list(spec.classes)
        if spec.reader in ("cifar10", "cifar100"):
            label = "labels" if spec.reader == "cifar10" else "fine_labels"
            batches = [_unpickle(_find(spec, root, n)) for n in spec.files]
            xs = [np.asarray(b["data"], np.uint8).reshape(-1, 3, 32, 32) for b in batches]
            ys = [np.asarray(b[label], np.int64) for b in batches]
            train = np.concatenate(xs[:-1]), np.concatenate(ys[:-1])
            return train, (xs[-1], ys[-1]), list(spec.classes)
        if spec.reader == "svhn":
            from engine.data.matfile import read_mat
            out = []
            for n in spec.files:
                m = read_mat(str(_find(spec, root, n)), ("X", "y"))
                x = np.ascontiguousarray(m["X"].transpose(3, 2, 0, 1))  # as torchvision: [N, C, H, W]
                y = m["y"].astype(np.int64).reshape(-1)
                y[y == 10] = 0  # SVHN labels the digit 0 as 10
                out.append((x, y))
            return out[0], out[1], list(spec.classes)
    except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError, TypeError) as e:
        raise DatasetError(f"{spec.name}: the files in {root / spec.folders[0]} cannot be read ({_short(str(e))}); "
                           f"delete them to download them again, or {how_to_supply(spec, root)}",
                           key="dataset.data_root") from None
    raise AssertionError(spec.reader)


def _idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format), optionally gzipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path.name} is not an IDX file")
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.get(data[2])
    if dtype is None:
        raise ValueError(f"{path.name}: unknown IDX type {data[2]:#x}")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    arr = np.frombuffer(data, dtype, int(np.prod(dims)), 4 + 4 * ndim)
    return arr.reshape(dims).astype(dtype.replace(">", "="), copy=False)


class _SafeUnpickler(pickle.Unpickler):
    """CIFAR's batches are pickles of a dict of lists, bytes and one numpy array: allow only
    the numpy reconstruction functions, nothing else (no arbitrary code)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"),
                ("_codecs", "encode")}  # protocol-2 pickles of bytes (text -> bytes, nothing else)

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        obj = _SafeUnpickler(io.BufferedReader(f), encoding="latin1").load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path.name}: not a CIFAR batch")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _convert(x: np.ndarray, c: int, size: tuple[int, int], mode: str, seed: int) -> np.ndarray:
    """Resize / change the channels of uint8 [N, C0, H0, W0] images with the folder pipeline."""
    from PIL import Image
    from engine.data.decode import fit_image, to_array
    out = np.empty((len(x), c) + tuple(size), np.uint8)
    target = "L" if c == 1 else "RGB"
    for i, a in enumerate(x):
        img = Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))
        out[i] = to_array(fit_image(img.convert(target), size, mode, seed * 2**32 + i), c)
    return out

