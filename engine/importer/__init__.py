"""Import a PyTorch model as an editable graph: trace with torch.fx, map to catalog types.

    from engine.importer.load import import_source
    project = import_source("torchvision:resnet18")          # or "net.py:Net"

Every module here imports torch (child processes only: the CLI and the engine service).
"""
