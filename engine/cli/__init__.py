"""Headless commands of ``layerstudio`` (the same engine, no window).

Each command is a module exposing ``add_arguments(parser)`` and ``run(args) -> int`` (the exit
code). It is registered here by name with a one-line help, and imported only when it is the
command being run, so ``layerstudio check`` never pays for (or imports) torch.

To add a command, add one line to ``COMMANDS``::

    "train": ("engine.cli.train", "train a project in a run directory"),
"""
from __future__ import annotations

#: name -> (module, one-line help). Order is the order of ``layerstudio --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("engine.cli.check", "validate a project; per-node type, shape, params, FLOPs; totals"),
    "train": ("engine.cli.train", "train a project in a run directory, or continue one (--resume)"),
    "export": ("engine.cli.export", "write the network as PyTorch code, ONNX, TorchScript or torch.export"),
    "import": ("engine.cli.import_", "turn a torchvision model or your own nn.Module into a project"),
}

__all__ = ["COMMANDS"]
