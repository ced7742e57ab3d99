"""The ``dataset`` section. Adding a Setting here adds it to the app's Dataset dock and the docs.

``engine.data`` reads exactly these keys (``open_dataset``); their meaning is documented here
once, for the app's forms, ``docs/project-format.md`` and the engine.
"""
from engine.schema.base import setting

RESIZE_MODES = ("squash", "crop", "fill", "half_crop")
RESIDENT_CHOICES = ("auto", True, False)

DATASET_SETTINGS = [
    # -- where the data comes from
    setting("source", "str", "builtin:shapes",
            "builtin:NAME (shapes, waves), torchvision:NAME (MNIST, FashionMNIST, KMNIST, CIFAR10, CIFAR100, "
            "SVHN) or folder:PATH (one sub-folder per class; a relative path is relative to the project file)",
            group="Source"),
    setting("seed", "int", 0, "Seed of the split, of the generated data and of the per-class sampling",
            group="Source", min=0, max=2**31 - 1),
    setting("size", "int", 10_000,
            "Number of samples a built-in dataset generates (train + validation + test)",
            group="Source", min=12, max=1_000_000),
    setting("data_root", "str", None,
            "Folder holding torchvision datasets (default: the app's dataset folder, see Preferences)",
            group="Source", nullable=True, advanced=True),
    setting("download", "bool", True,
            "Download a torchvision dataset that is not in the data root (when the network allows)",
            group="Source", advanced=True),
    # -- split
    setting("val_fraction", "float", 0.2,
            "Fraction of each class held out for validation (stratified, seeded). For torchvision "
            "sources validation is the official test split unless this key is set explicitly; "
            "not used when val_source is set",
            group="Split", min=0.0, max=0.9),
    setting("val_source", "str", None,
            "A separate validation folder (folder:PATH or a path) with the same class sub-folders; "
            "replaces val_fraction",
            group="Split", nullable=True),
    setting("test_fraction", "float", 0.0,
            "Fraction of each class held out as a test split, never used for training or validation",
            group="Split", min=0.0, max=0.5),
    setting("min_per_class", "int", 0,
            "Classes with fewer samples are left out (with a warning); 0 keeps every class",
            group="Split", min=0, max=10_000_000),
    setting("max_per_class", "int", 0,
            "At most this many samples per class (a seeded random choice); 0 means no limit",
            group="Split", min=0, max=10_000_000),
    # -- images
    setting("image_size", "ints", None,
            "Height and width images are resized to, [H, W] or one number (default: the Input's)",
            group="Images", nullable=True, min=1, max=4096, length=2),
    setting("channels", "choice", None, "1 (grayscale) or 3 (RGB) (default: the Input's)",
            group="Images", nullable=True, choices=(1, 3)),
    setting("resize_mode", "choice", "squash",
            "How images of another aspect ratio are fitted, as in DIGITS: squash (stretch), crop "
            "(fill the frame, cut the overflow), fill (fit inside, pad with noise), half_crop (half way "
            "between crop and fill)",
            group="Images", choices=RESIZE_MODES),
    # -- augmentation (training split only; off by default)
    setting("augment.hflip", "bool", False, "Flip training images left-right at random",
            group="Augmentation"),
    setting("augment.crop_padding", "int", 0,
            "Random crop after padding each side with this many black pixels (0: off)",
            group="Augmentation", min=0, max=64),
    setting("augment.rotation", "float", 0.0, "Random rotation of up to ± this many degrees",
            group="Augmentation", min=0.0, max=180.0),
    setting("augment.scale", "float", 0.0, "Random zoom by a factor in [1 − scale, 1 + scale]",
            group="Augmentation", min=0.0, max=0.5),
    setting("augment.color_jitter", "float", 0.0,
            "Random brightness, contrast and saturation change of up to ± this fraction",
            group="Augmentation", min=0.0, max=1.0),
    # -- loading
    setting("resident", "choice", "auto",
            "Keep the whole dataset on the training device (GPU memory, or RAM on CPU) and slice "
            "batches there: auto when it fits a memory budget",
            group="Loading", choices=RESIDENT_CHOICES, advanced=True),
    setting("num_workers", "int", 2,
            "Loader processes when the dataset is not resident (0: load in the training process)",
            group="Loading", min=0, max=64, advanced=True),
]
