"""Human-readable numbers for tables and status bars: 61.7 K, 1.3 GFLOP, 4.0 MiB."""
from __future__ import annotations

_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """``si(61706) == "61.7 K"``; ``si(None) == "—"`` (unknown)."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for scale, prefix in _SI:
        if v >= scale * 0.9995:
            return f"{sign}{_digits(v / scale, digits)} {prefix}{unit}".rstrip()
    text = f"{int(v)}" if float(v).is_integer() else _digits(v, digits)
    return f"{sign}{text} {unit}".rstrip()


def _digits(v: float, digits: int) -> str:
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.{max(0, digits - 2)}f}"
    return f"{v:.{max(0, digits - 1)}f}"


def binary_bytes(n: float | None) -> str:
    """``binary_bytes(4 * 2**20) == "4.0 MiB"``."""
    if n is None:
        return "—"
    v = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            return f"{int(v)} B" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return f"{v:.1f} TiB"


def shape(dims) -> str:
    """``shape((16, 32, 32)) == "16 × 32 × 32"``; None → "—"."""
    if dims is None:
        return "—"
    return " × ".join(str(d) for d in dims) if len(dims) else "scalar"
