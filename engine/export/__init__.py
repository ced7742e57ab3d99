"""Export a project: readable PyTorch code (``python_code``), ONNX, TorchScript and torch.export.

``text`` is pure Python; the other modules import torch (``python_code``
reads torch's constructor defaults) and run in child processes (the CLI, the engine service).
Import the submodule you need.
"""

#: ``--to`` choices of ``layerstudio export`` → the file suffix written
FORMATS = {"py": ".py", "onnx": ".onnx", "torchscript": ".pt", "pt2": ".pt2"}
