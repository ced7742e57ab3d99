"""Speed options: which the device supports (checked before any work, naming the key), and
applying them to the model (channels-last layout, cudnn.benchmark, torch.compile)."""
from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any, Mapping

import torch

from engine.errors import ConfigError

#: torch.compile's backend (tests swap in "eager" to check the plumbing without a compiler run)
COMPILE_BACKEND = "inductor"


def compile_support(device: torch.device) -> str | None:
    """None when torch.compile can compile for ``device``; else why not, in words."""
    try:
        import torch._dynamo as dynamo
        if not dynamo.is_dynamo_supported():
            return "torch.compile does not support this Python version"
    except Exception as e:  # a broken or stripped-down torch
        return f"torch.compile is unavailable ({type(e).__name__})"
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        if major < 7:
            return f"{torch.cuda.get_device_name(device)} (compute capability {major}.{minor}) is older than the 7.0 that torch.compile's GPU code needs"
        if importlib.util.find_spec("triton") is None:
            return "torch.compile needs the triton package for GPUs, which is not installed"
        return None
    if device.type == "cpu":
        compilers = (os.environ.get("CXX"), "g++", "c++", "clang++", "cl")
        if not any(c and shutil.which(c) for c in compilers):
            return "torch.compile needs a C++ compiler for the CPU (g++, clang++ or MSVC), and none was found"
        return None
    return f"torch.compile does not support {device.type} devices"


def check_speed_options(cfg: Mapping[str, Any], device: torch.device) -> list[str]:
    """Refuse what ``device`` cannot do (ConfigError naming the key); return warnings for
    options that do nothing there."""
    warnings: list[str] = []
    precision = cfg.get("mixed_precision", "off")
    if precision == "fp16" and device.type != "cuda":
        key = "training.mixed_precision"
        raise ConfigError(f"{key}: fp16 needs a CUDA GPU (its loss scaling is CUDA-only) but the run is on "
                          f"{device}; use bf16 or off", key=key)
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        key = "training.mixed_precision"
        raise ConfigError(f"{key}: {torch.cuda.get_device_name(device)} has no bfloat16 support; use fp16 or off",
                          key=key)
    if cfg.get("compile"):
        why = compile_support(device)
        if why:
            raise ConfigError(f"training.compile: {why}; turn training.compile off", key="training.compile")
    if cfg.get("cudnn_benchmark") and device.type != "cuda":
        warnings.append(f"training.cudnn_benchmark has no effect on {device} (cuDNN is for CUDA GPUs)")
    return warnings


def apply_layout(model: torch.nn.Module, cfg: Mapping[str, Any], device: torch.device) -> None:
    if cfg.get("channels_last"):
        model.to(memory_format=torch.channels_last)  # 4-D weights only; the step converts the inputs
    if cfg.get("cudnn_benchmark") and device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def compiled(model: torch.nn.Module) -> torch.nn.Module:
    """The model as torch.compile runs it (compiling happens during the first step)."""
    return torch.compile(model, backend=COMPILE_BACKEND)
