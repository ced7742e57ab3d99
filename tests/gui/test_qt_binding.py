"""The Qt binding must not leak references to None/True (PySide6 6.12.0 on Python 3.11 does,
and the interpreter aborts after a few thousand void calls or signal emits)."""
import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QObject, Signal
class Probe(QObject):
    ping = Signal()
p = Probe()
before = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(200):
    p.setObjectName("x")
    p.ping.emit()
after = sys.getrefcount(None), sys.getrefcount(True)
print(before[0] - after[0], before[1] - after[1])
"""


def test_void_calls_and_emits_keep_references_to_none_and_true():
    # In a subprocess: a leaking binding would corrupt this test process.
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lost_none, lost_true = map(int, out.stdout.split())
    assert lost_none < 50 and lost_true < 50, out.stdout
