"""Tiny networks whose explanations are known in advance."""
from __future__ import annotations

import torch
from torch import nn


def lenet(classes: int = 6, inplace: bool = False) -> nn.Sequential:
    """LeNet-5 for 3×32×32 (conv 6@5, pool, conv 16@5, pool, 120, 84, classes)."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(inplace), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(inplace), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(inplace), nn.Linear(120, 84), nn.ReLU(inplace), nn.Linear(84, classes))


class Mask(nn.Module):
    """Zeroes every position outside rows r0:r1, columns c0:c1."""

    def __init__(self, size: int, r0: int, r1: int, c0: int, c1: int):
        super().__init__()
        m = torch.zeros(1, 1, size, size)
        m[..., r0:r1, c0:c1] = 1
        self.register_buffer("mask", m)

    def forward(self, x):
        return x * self.mask


class RegionNet(nn.Module):
    """3×16×16 → 3 classes; the output depends only on rows 4:8, columns 9:13 of the image:
    the input is masked before a 1×1 convolution, and Grad-CAM's layer (``mask2``) keeps only
    that region too."""
    REGION = (4, 8, 9, 13)

    def __init__(self):
        super().__init__()
        self.mask = Mask(16, *self.REGION)
        self.conv = nn.Conv2d(3, 8, 1)
        self.relu = nn.ReLU()
        self.mask2 = Mask(16, *self.REGION)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.pool(self.mask2(self.relu(self.conv(self.mask(x))))).flatten(1))


class CamNet(nn.Module):
    """1×8×8 → conv 2@3 (pad 1) → avg-pool 2 = the Grad-CAM layer [2, 4, 4] → ReLU → 3 classes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.pool(self.conv(x))).flatten(1))


def small(classes: int = 3, channels: int = 3, size: int = 8) -> nn.Sequential:
    """A fast conv net for repeated-call tests."""
    return nn.Sequential(nn.Conv2d(channels, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(16, classes))
