"""The ``dataset`` section. Adding a Setting here adds it to the app's Dataset dock and the docs."""
from engine.schema.base import setting

DATASET_SETTINGS = [
    setting("source", "str", "builtin:shapes",
            "builtin:NAME (shapes, waves), torchvision:NAME (e.g. MNIST) or folder:PATH"),
    setting("val_fraction", "float", 0.2, "Fraction of the training data held out for validation",
            min=0.0, max=0.9),
    setting("seed", "int", 0, "Seed of the split and of the generated data", min=0, max=2**31 - 1),
]
