"""Devices: resolving ``training.device``, listing what the machine has, free memory."""
from __future__ import annotations

import os
import platform
import re

import torch

from engine.errors import ConfigError

_KEY = "training.device"


def resolve_device(name: str) -> torch.device:
    """"auto" → the first GPU if there is one, else the CPU; refuse what the machine lacks."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    m = re.fullmatch(r"cuda(?::(\d+))?", name)
    if not m:
        raise ConfigError(f"{_KEY}: unknown device {name!r}; use auto, cpu, cuda or cuda:N", key=_KEY)
    if not torch.cuda.is_available():
        raise ConfigError(f"{_KEY} is {name!r} but this machine has no usable CUDA GPU; use cpu or auto",
                          key=_KEY)
    index = int(m.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ConfigError(f"{_KEY} is {name!r} but this machine has {count} GPU(s) (cuda:0..cuda:{count - 1})",
                          key=_KEY)
    return torch.device("cuda", index)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"


def host_memory() -> tuple[int | None, int | None]:
    """(total, available) bytes of host memory, None where unknown."""
    try:
        info = {}
        with open("/proc/meminfo", encoding="ascii", errors="replace") as f:
            for line in f:
                k, _, v = line.partition(":")
                info[k] = int(v.split()[0]) * 1024
        return info.get("MemTotal"), info.get("MemAvailable")
    except (OSError, ValueError, IndexError):
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return total, None
    except (ValueError, OSError, AttributeError):
        return None, None


def available_memory(device: torch.device) -> int | None:
    """Bytes free for training on ``device`` (None: unknown, the check is skipped)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return host_memory()[1]


def list_devices() -> list[dict]:
    """[{"id", "name", "memory", "kind"}]: the CPU, then every CUDA GPU (initialises CUDA)."""
    out = [{"id": "cpu", "name": cpu_name(), "memory": host_memory()[0], "kind": "cpu"}]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out.append({"id": f"cuda:{i}", "name": p.name, "memory": int(p.total_memory), "kind": "cuda"})
    return out
