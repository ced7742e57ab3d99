"""The ``training`` section. Adding a Setting here adds it to the app's Training dock and the docs.

Optimizer hyperparameters apply only to the optimizers that have them (``when``): momentum on
Adam is an error naming ``training.optimizer.momentum``, never a value silently ignored.
"""
from engine.schema.base import setting

# engine.train.optim.OPTIMIZERS builds each (a test checks both agree)
OPTIMIZERS = ("SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta")
MONITORS = ("val_accuracy", "val_loss")
INITS = ("default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")
PRECISIONS = ("off", "bf16", "fp16")

_OPT = "Optimizer"
_REG = "Regularization"
_SPEED = "Speed"
_TUNE = "Fine-tuning"


def _only(*types: str) -> dict:
    return {"optimizer.type": types}


TRAINING_SETTINGS = [
    setting("epochs", "int", 10, "Number of passes over the training data", min=1, max=100_000),
    setting("batch_size", "int", 64, "Samples per optimizer step (under torchrun: the global batch, split "
            "between the processes)", min=1, max=1_000_000),
    setting("seed", "int", 0, "Seed of every random number generator (weights, data order, augmentation)",
            min=0, max=2**31 - 1),
    setting("device", "str", "auto", "auto, cpu, cuda or cuda:N"),
    setting("loss", "choice", "cross_entropy", "Loss function", choices=("cross_entropy",)),
    # -- optimizer --------------------------------------------------------------------------
    setting("optimizer.type", "choice", "SGD", "Optimizer", group=_OPT, choices=OPTIMIZERS),
    setting("optimizer.lr", "float", 0.01, "Learning rate", group=_OPT, min=0.0, min_exclusive=True,
            max=100.0),
    setting("optimizer.momentum", "float", 0.0, "Momentum (RMSprop: momentum of the update)", group=_OPT,
            min=0.0, max=1.0, when=_only("SGD", "RMSprop")),
    setting("optimizer.nesterov", "bool", False, "Nesterov momentum (needs momentum > 0 and no dampening)",
            group=_OPT, when=_only("SGD")),
    setting("optimizer.dampening", "float", 0.0, "Dampening of the momentum", group=_OPT, min=0.0, max=1.0,
            when=_only("SGD"), advanced=True),
    setting("optimizer.weight_decay", "float", 0.0,
            "Weight decay: an L2 penalty on the weights (AdamW: decoupled from the gradient)", group=_OPT,
            min=0.0, max=10.0),
    setting("optimizer.betas", "floats", [0.9, 0.999], "Adam's coefficients for the running averages",
            group=_OPT, min=0.0, max=1.0, length=2, when=_only("Adam", "AdamW")),
    setting("optimizer.amsgrad", "bool", False, "Use the AMSGrad variant (the maximum of past squared "
            "gradients)", group=_OPT, when=_only("Adam", "AdamW"), advanced=True),
    setting("optimizer.alpha", "float", 0.99, "Smoothing constant of the squared-gradient average",
            group=_OPT, min=0.0, max=1.0, when=_only("RMSprop")),
    setting("optimizer.centered", "bool", False, "Normalize by the gradient's estimated variance",
            group=_OPT, when=_only("RMSprop"), advanced=True),
    setting("optimizer.lr_decay", "float", 0.0, "Learning-rate decay of Adagrad", group=_OPT, min=0.0,
            max=10.0, when=_only("Adagrad")),
    setting("optimizer.initial_accumulator_value", "float", 0.0,
            "Starting value of Adagrad's sum of squared gradients", group=_OPT, min=0.0, max=1e6,
            when=_only("Adagrad"), advanced=True),
    setting("optimizer.rho", "float", 0.9, "Decay of Adadelta's running averages", group=_OPT, min=0.0,
            max=1.0, when=_only("Adadelta")),
    setting("optimizer.eps", "float", None,
            "Term added to the denominator for numerical stability (empty: the optimizer's default)",
            group=_OPT, min=0.0, max=1.0, min_exclusive=True, nullable=True,
            when=_only("Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta"), advanced=True),
    # -- regularization and tricks --------------------------------------------------------
    setting("gradient.clip_norm", "float", 0.0,
            "Rescale the gradients so their total L2 norm is at most this (0: no clipping)", group=_REG,
            min=0.0, max=1e6),
    setting("gradient.accumulation", "int", 1,
            "Split each batch into this many micro-batches and add up their gradients before the step: "
            "the same update with a fraction of the activation memory (batch_size must be a multiple)",
            group=_REG, min=1, max=4096),
    setting("ema.decay", "float", 0.0,
            "Keep an exponential moving average of the weights (e.g. 0.999) and validate, checkpoint and "
            "export it (0: off)", group=_REG, min=0.0, max=0.999999),
    setting("label_smoothing", "float", 0.0,
            "Spread this much of each target's probability over all classes", group=_REG, min=0.0, max=0.9),
    setting("init", "choice", "default",
            "Weight initialization of convolutions and linear layers (biases start at zero for the others)",
            group=_REG, choices=INITS),
    # -- validation -------------------------------------------------------------------------
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
    # -- speed --------------------------------------------------------------------------------
    setting("threads", "int", None, "CPU threads of the training process (empty: PyTorch's default)",
            group="Device", min=1, max=1024, nullable=True, advanced=True),
    setting("mixed_precision", "choice", "off",
            "Run the forward pass in 16-bit floats: bf16 (GPUs since Ampere, and CPUs) or fp16 (CUDA only, "
            "with loss scaling)", group=_SPEED, choices=PRECISIONS),
    setting("channels_last", "bool", False, "Keep images and convolution weights in channels-last memory "
            "layout (faster convolutions on tensor-core GPUs)", group=_SPEED, advanced=True),
    setting("compile", "bool", False, "Compile the model with torch.compile (a slower first epoch, then "
            "faster steps)", group=_SPEED, advanced=True),
    setting("cudnn_benchmark", "bool", False, "Let cuDNN time its convolution algorithms and keep the fastest "
            "(CUDA only)", group=_SPEED, advanced=True),
    # -- fine-tuning and export ---------------------------------------------------------------
    setting("init_from.run", "str", None,
            "Start from the weights of this run directory, matching layers by node id (a relative path is "
            "relative to the project file; empty: fresh weights)", group=_TUNE, nullable=True),
    setting("init_from.checkpoint", "choice", "best", "Which checkpoint of that run: best or last",
            group=_TUNE, choices=("best", "last")),
    setting("tensorboard", "bool", False,
            "Also write TensorBoard logs (scalars and probe images) to the run's tensorboard/ folder "
            "(needs the tensorboard package)", group="Export", advanced=True),
]
