"""A ``dataset`` section for an imported model, chosen from its input and output shapes.

An imported project should pass ``layerstudio check`` as it is: a dataset whose samples and
class count fit the network, or else a folder to fill in (a warning, not an error).
"""
from __future__ import annotations

#: (input shape, number of outputs) → dataset source; the first match wins
KNOWN = [
    ((3, 32, 32), 6, "builtin:shapes"),
    ((1, 128), 4, "builtin:waves"),
    ((1, 28, 28), 10, "torchvision:MNIST"),
    ((3, 32, 32), 10, "torchvision:CIFAR10"),
    ((3, 32, 32), 100, "torchvision:CIFAR100"),
]
# ImageNet-sized models (1000 classes) get the folder fallback: torchvision cannot download
# ImageNet, so a folder of the user's own images (one sub-folder per class) is the way in.
FALLBACK = "folder:data/train"


def guess_dataset(input_shape: tuple[int, ...], output_shape: tuple[int, ...] | None) -> dict:
    outputs = output_shape[0] if output_shape and len(output_shape) == 1 else None
    for shape, classes, source in KNOWN:
        if (shape is None or tuple(input_shape) == shape) and outputs == classes:
            return {"source": source}
    return {"source": FALLBACK}
