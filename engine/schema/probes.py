"""The ``training.probes`` settings: what the live probes show while a run trains (filters,
feature maps, layer health, evaluation galleries, saliency / Grad-CAM) and how often.

The same keys, without the ``probes.`` prefix, are what the worker's ``probe_config`` command
changes during a run (engine.train.probe_config)."""
from engine.schema.base import setting

G = "Live probes"

PROBE_SETTINGS = [
    setting("probes.enabled", "bool", True,
            "Show what the network learns while it trains (turn off for the last bit of speed)", group=G),
    setting("probes.period_s", "float", 2.0,
            "Seconds between two probe rounds (probes never take more than a few percent of training time)",
            group=G, min=0.1, max=3600.0),
    setting("probes.filters", "bool", True, "Send the weights of every convolution (at most 16 layers)",
            group=G),
    setting("probes.filter_layer", "str", None,
            "Send only this convolution's filters (a node id; empty: every convolution)", group=G,
            nullable=True, advanced=True),
    setting("probes.feature_maps", "bool", True, "Send one layer's activations for one probe image", group=G),
    setting("probes.feature_layer", "str", None,
            "Node whose activations are shown (empty: the first convolution)", group=G, nullable=True),
    setting("probes.feature_image", "int", 0, "Which probe image the feature maps are computed for",
            group=G, min=0, max=63),
    setting("probes.health", "bool", True,
            "Gradient and weight norms, update ratio and dead ReLU units of every layer", group=G),
    setting("probes.evaluation", "bool", True,
            "Per-class accuracy and the most confident right and wrong images after each validation",
            group=G),
    setting("probes.saliency", "bool", True, "Saliency and Grad-CAM maps of the probe images", group=G),
    setting("probes.saliency_images", "int", 8, "Number of validation images in the probe set", group=G,
            min=1, max=64),
    setting("probes.gradcam_layer", "str", None,
            "Convolution that Grad-CAM explains (a node id; empty: the last 2-D convolution)", group=G,
            nullable=True, advanced=True),
]
