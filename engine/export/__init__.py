"""Export a project: readable PyTorch code (``python_code``), ONNX, TorchScript and torch.export.

``python_code`` and ``layer_args`` are pure Python; the other modules import torch and run in
child processes (the CLI, the engine service). Import the submodule you need.
"""

#: ``--to`` choices of ``layerstudio export`` → the file suffix written
FORMATS = {"py": ".py", "onnx": ".onnx", "torchscript": ".pt", "pt2": ".pt2"}
