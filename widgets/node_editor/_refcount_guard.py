"""Work around a PySide6 6.12 defect on Python < 3.12.

Its bindings return ``None``/``True``/``False`` without taking a reference, which is only
correct where those objects are immortal (Python ≥ 3.12). On 3.11 every call of a void Qt
method (``setPos``, ``update``...) or of ``Signal.emit`` takes one reference away, and after a
few thousand calls the interpreter aborts with "deallocating None". When the defect is
detected we do what Python 3.12 does: give the three singletons a reference count that
cannot run out. Harmless where the defect is absent (nothing is changed then).
"""
from __future__ import annotations

import sys

_IMMORTAL = 1 << 40


def _leaks() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")  # a void method
        probe.ping.emit()  # returns True
    after = sys.getrefcount(None), sys.getrefcount(True)
    return after[0] < before[0] - 8 or after[1] < before[1] - 8


def install() -> bool:
    """Returns True when the defect was found and the guard applied."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not _leaks():
        return False
    import ctypes
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object
        ctypes.c_ssize_t.from_address(id(obj)).value += _IMMORTAL
    return True


APPLIED = install()
