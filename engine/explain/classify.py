"""Classify an image file (or a picked dataset image) and a whole folder with a trained model.

Images go through :class:`~engine.explain.preprocess.Preprocess`, the training preprocessing.
A folder with one sub-folder per class (as for training) also gets accuracy and a confusion
matrix; files that cannot be decoded are listed, not fatal."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from engine.errors import ExplainError
from engine.explain.attribution import saliency
from engine.explain.inputs import logits, model_device
from engine.explain.maps import Attribution
from engine.explain.model_state import explaining
from engine.explain.preprocess import IMAGE_EXTENSIONS, Preprocess
from engine.explain.progress import CancelFn, ProgressFn, check_cancel

ImageSource = str | os.PathLike | np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Classification:
    top: list[tuple[int, str, float]]   # (class index, class name, probability), best first
    probabilities: np.ndarray           # float32 [classes]
    image: np.ndarray                   # float32 [C, H, W]: the normalized input the network saw
    saliency: Attribution | None        # for the top class


@dataclass(frozen=True)
class FolderRow:
    path: str
    label: int | None                   # from the class sub-folder; None for loose files
    predicted: int
    confidence: float
    top: list[tuple[int, float]]


@dataclass(frozen=True)
class FolderResult:
    rows: list[FolderRow]               # in file order
    skipped: list[tuple[str, str]]      # (path, why) for files that could not be used
    class_names: tuple[str, ...]
    accuracy: float | None              # over the labelled rows; None when there are none
    confusion: np.ndarray | None        # int64 [classes, classes]: rows true, columns predicted


def _names(class_names: Sequence[str] | None, classes: int) -> tuple[str, ...]:
    names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(classes))
    if len(names) != classes:
        raise ExplainError(f"{len(names)} class names for a network with {classes} outputs",
                           key="class_names")
    return names


def _as_input(image: ImageSource, pre: Preprocess) -> np.ndarray | torch.Tensor:
    if isinstance(image, torch.Tensor):
        if tuple(image.shape) != pre.shape:
            raise ExplainError(f"the image tensor has shape {list(image.shape)}, the network takes "
                               f"{list(pre.shape)}", key="image")
        return image
    if isinstance(image, np.ndarray):
        return pre.from_pixels(image)
    return pre.load(image)


def classify_image(model: nn.Module, image: ImageSource, preprocess: Preprocess,
                   class_names: Sequence[str] | None = None, *, k: int = 5,
                   with_saliency: bool = True, max_side: int | None = None) -> Classification:
    """Top-``k`` classes of one image: a file path, uint8 pixels, or a normalized [C, H, W]
    tensor; with the saliency map of the top class."""
    x = torch.as_tensor(_as_input(image, preprocess), dtype=torch.float32)
    with explaining(model) as module, torch.no_grad():
        probs = logits(module, x[None].to(model_device(module))).softmax(dim=1)[0].cpu()
    names = _names(class_names, len(probs))
    p, idx = probs.topk(min(k, len(probs)))
    top = [(int(i), names[int(i)], float(v)) for v, i in zip(p, idx)]
    sal = saliency(model, x, int(idx[0]), max_side=max_side) if with_saliency else None
    return Classification(top, probs.numpy(), x.numpy(), sal)


def list_folder(folder: str | os.PathLike, class_names: Sequence[str]) -> list[tuple[Path, int | None]]:
    """(file, label) for the images of ``folder``: files at the top have no label; files under
    a sub-folder (at any depth) are labelled by the sub-folder's name, which must be a class."""
    root = Path(folder)
    if not root.is_dir():
        raise ExplainError(f"{root} is not a folder", key="folder")
    index = {name: i for i, name in enumerate(class_names)}
    out: list[tuple[Path, int | None]] = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir():
            if entry.name.startswith("."):
                continue
            if entry.name not in index:
                raise ExplainError(f"the sub-folder {entry.name!r} is not a class of this network "
                                   f"(classes: {', '.join(class_names)})", key="folder")
            out += [(f, index[entry.name]) for f in sorted(entry.rglob("*"))
                    if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS]
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            out.append((entry, None))
    if not out:
        raise ExplainError(f"{root} holds no images ({', '.join(IMAGE_EXTENSIONS)})", key="folder")
    return out


def classify_folder(model: nn.Module, folder: str | os.PathLike, preprocess: Preprocess,
                    class_names: Sequence[str], *, batch_size: int = 64, k: int = 5,
                    progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> FolderResult:
    names = tuple(class_names)
    files = list_folder(folder, names)
    rows: list[FolderRow] = []
    skipped: list[tuple[str, str]] = []
    with explaining(model) as module, torch.no_grad():
        device = model_device(module)
        for start in range(0, len(files), batch_size):
            check_cancel(cancel)
            batch, kept = [], []
            for path, label in files[start:start + batch_size]:
                try:
                    batch.append(preprocess.load(path))
                    kept.append((path, label))
                except ExplainError as e:
                    skipped.append((str(path), e.message))
            if batch:
                probs = logits(module, torch.from_numpy(np.stack(batch)).to(device)).softmax(dim=1).cpu()
                _names(names, probs.shape[1])
                p, idx = probs.topk(min(k, probs.shape[1]), dim=1)
                for (path, label), pi, ii in zip(kept, p.tolist(), idx.tolist()):
                    rows.append(FolderRow(str(path), label, ii[0], pi[0], list(zip(ii, pi))))
            if progress is not None:
                progress(min(1.0, (start + batch_size) / len(files)))
    labelled = [r for r in rows if r.label is not None]
    if not labelled:
        return FolderResult(rows, skipped, names, None, None)
    confusion = np.zeros((len(names), len(names)), np.int64)
    for r in labelled:
        confusion[r.label, r.predicted] += 1
    return FolderResult(rows, skipped, names, float(np.trace(confusion) / len(labelled)), confusion)
