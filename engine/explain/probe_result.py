"""What one round of live probes produces. numpy only: the app reads it back from probes/."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProbeResult:
    """Per probe i: maps normalized to [0, 1] by their own maximum (``*_scale``, so the raw map
    is ``map * scale``), the predicted class, its softmax probability and the true label."""
    saliency: np.ndarray        # float32 [N, h, w]
    gradcam: np.ndarray         # float32 [N, h, w]
    saliency_scale: np.ndarray  # float32 [N]
    gradcam_scale: np.ndarray   # float32 [N]
    predicted: np.ndarray       # int64 [N]
    confidence: np.ndarray      # float32 [N]
    labels: np.ndarray          # int64 [N]
    targets: np.ndarray         # int64 [N]: the class the maps explain
