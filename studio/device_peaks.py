"""Peak compute and memory bandwidth of common devices, for the roofline chart.

Figures are vendors' dense FP32 peaks (no tensor cores, no sparsity) and theoretical memory
bandwidth; CPU rows are typical configurations. They only place layers on a roofline, so
round numbers are enough; the user edits the table in Preferences (saved in AppSettings).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable

T, G = 1e12, 1e9


@dataclass(frozen=True)
class DevicePeak:
    name: str
    flops: float  # FLOP/s
    bandwidth: float  # bytes/s
    kind: str = "gpu"  # "gpu" | "cpu"

    @property
    def ridge(self) -> float:
        """Arithmetic intensity (FLOP/byte) where a layer stops being memory-bound."""
        return self.flops / self.bandwidth

    def to_row(self) -> dict:
        return asdict(self)


BUILTIN: tuple[DevicePeak, ...] = (
    DevicePeak("NVIDIA H200", 67 * T, 4800 * G),
    DevicePeak("NVIDIA H100 SXM", 67 * T, 3350 * G),
    DevicePeak("NVIDIA H100 PCIe", 51 * T, 2000 * G),
    DevicePeak("NVIDIA A100 80GB", 19.5 * T, 2039 * G),
    DevicePeak("NVIDIA A100 40GB", 19.5 * T, 1555 * G),
    DevicePeak("NVIDIA L40S", 91.6 * T, 864 * G),
    DevicePeak("NVIDIA A10", 31.2 * T, 600 * G),
    DevicePeak("NVIDIA L4", 30.3 * T, 300 * G),
    DevicePeak("NVIDIA V100", 15.7 * T, 900 * G),
    DevicePeak("NVIDIA T4", 8.1 * T, 320 * G),
    DevicePeak("NVIDIA GeForce RTX 4090", 82.6 * T, 1008 * G),
    DevicePeak("NVIDIA GeForce RTX 4080", 48.7 * T, 717 * G),
    DevicePeak("NVIDIA GeForce RTX 3090", 35.6 * T, 936 * G),
    DevicePeak("NVIDIA GeForce RTX 3060", 12.7 * T, 360 * G),
    DevicePeak("Apple M2 (GPU)", 3.6 * T, 100 * G),
    DevicePeak("Apple M2 Max (GPU)", 13.6 * T, 400 * G),
    DevicePeak("Desktop CPU (8 cores, AVX2)", 0.9 * T, 51 * G, "cpu"),
    DevicePeak("Server CPU (32 cores, AVX-512)", 5.1 * T, 205 * G, "cpu"),
    DevicePeak("Laptop CPU (4 cores, AVX2)", 0.4 * T, 51 * G, "cpu"),
)


def from_rows(rows: Iterable[dict] | None) -> list[DevicePeak]:
    """The user's table (rows that do not parse are dropped), or the built-in one for None."""
    if rows is None:
        return list(BUILTIN)
    out = []
    for r in rows:
        try:
            name, flops, bw = str(r["name"]).strip(), float(r["flops"]), float(r["bandwidth"])
        except (KeyError, TypeError, ValueError):
            continue
        if name and flops > 0 and bw > 0:
            out.append(DevicePeak(name, flops, bw, "cpu" if r.get("kind") == "cpu" else "gpu"))
    return out


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t and t not in ("nvidia", "geforce", "gpu")}


def best_match(table: list[DevicePeak], device_name: str, kind: str = "gpu") -> DevicePeak | None:
    """The table row that names the engine's device best ("NVIDIA H100 80GB HBM3" → H100 SXM)."""
    want = _tokens(device_name)
    best, score = None, 0
    for row in table:
        if row.kind != kind:
            continue
        have = _tokens(row.name)
        # the model number (h100, a100, 4090) must match; other shared words break ties
        models = {t for t in have if any(c.isdigit() for c in t)}
        if not models or not models <= want:
            continue
        s = 10 * len(models) + len(have & want)
        if s > score:
            best, score = row, s
    if best is None and kind == "cpu":
        best = next((r for r in table if r.kind == "cpu"), None)
    return best
