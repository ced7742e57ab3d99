# LeNet-5 on shapes
# Exported from LayerStudio: a standalone PyTorch module that needs torch only.
#
# Trained weights (a state dict of tensors):
#     model = LeNet5OnShapes()
#     model.load_state_dict(torch.load('net.pt', weights_only=True))
"""The network of a LayerStudio project, as plain PyTorch code."""
import torch
from torch import nn


class LeNet5OnShapes(nn.Module):
    """Input: [3, 32, 32] float32 per sample (batch first). Output: [6] per sample."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 6)

    def forward(self, x):
        x = self.conv1(x)    # [6, 28, 28]
        x = self.relu1(x)    # [6, 28, 28]
        x = self.pool1(x)    # [6, 14, 14]
        x = self.conv2(x)    # [16, 10, 10]
        x = self.relu2(x)    # [16, 10, 10]
        x = self.pool2(x)    # [16, 5, 5]
        x = self.flatten(x)  # [400]
        x = self.fc1(x)      # [120]
        x = self.relu3(x)    # [120]
        x = self.fc2(x)      # [84]
        x = self.relu4(x)    # [84]
        x = self.fc3(x)      # [6]
        return x
