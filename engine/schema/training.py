"""The ``training`` section. Adding a Setting here adds it to the app's Training dock and the docs."""
from engine.schema.base import setting

OPTIMIZERS = ("SGD", "Adam")  # engine.train.optim.OPTIMIZERS builds each (a test checks both agree)
MONITORS = ("val_accuracy", "val_loss")

TRAINING_SETTINGS = [
    setting("epochs", "int", 10, "Number of passes over the training data", min=1, max=100_000),
    setting("batch_size", "int", 64, "Samples per optimizer step", min=1, max=1_000_000),
    setting("seed", "int", 0, "Seed of every random number generator (weights, data order, augmentation)",
            min=0, max=2**31 - 1),
    setting("device", "str", "auto", "auto, cpu, cuda or cuda:N"),
    setting("loss", "choice", "cross_entropy", "Loss function", choices=("cross_entropy",)),
    setting("optimizer.type", "choice", "SGD", "Optimizer", group="Optimizer", choices=OPTIMIZERS),
    setting("optimizer.lr", "float", 0.01, "Learning rate", group="Optimizer", min=0.0, min_exclusive=True,
            max=100.0),
    setting("optimizer.momentum", "float", 0.0, "Momentum", group="Optimizer", min=0.0, max=1.0,
            when={"optimizer.type": ("SGD",)}),
    setting("optimizer.weight_decay", "float", 0.0, "L2 penalty on the weights", group="Optimizer",
            min=0.0, max=10.0),
    setting("optimizer.betas", "floats", [0.9, 0.999], "Adam's coefficients for the running averages",
            group="Optimizer", min=0.0, max=1.0, length=2, when={"optimizer.type": ("Adam",)}),
    setting("val_every", "int", 1, "Validate every N epochs", group="Validation", min=1, max=100_000),
    setting("monitor", "choice", "val_accuracy",
            "Validation metric that picks the best checkpoint and drives early stopping", group="Validation",
            choices=MONITORS),
    setting("early_stopping.patience", "int", 0,
            "Stop when the monitored metric has not improved for this many validations (0: never stop early)",
            group="Validation", min=0, max=100_000),
    setting("early_stopping.min_delta", "float", 0.0,
            "Smallest change of the monitored metric that counts as an improvement", group="Validation",
            min=0.0, max=1e6, advanced=True),
    setting("checkpoint.every", "int", 1,
            "Save a checkpoint every N epochs (and always at the last epoch, on a new best and on stop)",
            group="Checkpoints", min=1, max=100_000),
    setting("checkpoint.keep_last", "int", 2, "How many of the latest checkpoints to keep (besides the best)",
            group="Checkpoints", min=1, max=1000),
    setting("threads", "int", None, "CPU threads of the training process (empty: PyTorch's default)",
            group="Device", min=1, max=1024, nullable=True, advanced=True),
]
