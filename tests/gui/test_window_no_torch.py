"""The GUI process never imports torch: the real main window driven in a process of its own
(this test process may have torch already, from the engine tests)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from test_window_fixtures import ROOT

DRIVE = r"""
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio.app import Studio
from studio.document import Document
from widgets import background

studio = Studio(engine_factory=lambda parent: None)  # no engine process: only this process matters
w = studio.new_window(Document.open(Path("assets/sample.json")))
steps = []

def wait(cond, then, tries=400):
    if cond():
        then()
    elif tries:
        QTimer.singleShot(25, lambda: wait(cond, then, tries - 1))
    else:
        steps.append("timeout"); finish()

def drive():
    doc = w.document
    doc.set_setting("dataset", "size", 120)
    for name in ("properties", "summary", "problems", "training", "dataset"):
        w.show_dock(name)
    w.focus_node("conv1")
    panel = w.panel("properties")
    panel.form.editor("out_channels").spin.setValue(8)  # a real edit through the form
    w.add_layer("BatchNorm2d")
    w.panel("training").settings_form.form.committed.emit("epochs", 3)
    steps.append("edited")
    wait(lambda: w.panel("dataset").look is not None and w.panel("summary").roofline is not None, saved)

def saved():
    path = Path(tempfile.mkdtemp()) / "p.json"
    w._save_to(path)
    w.open_file(path)
    wait(lambda: w.document.path == path, done)

def done():
    steps.append("opened")
    finish()

def finish():
    w.close()
    studio.shutdown()
    print(json.dumps({"torch": "torch" in sys.modules, "steps": steps,
                      "channels": w.document.graph.node("conv1").params["out_channels"]}), flush=True)
    app.quit()

QTimer.singleShot(0, lambda: wait(lambda: w.painted, drive))
app.exec()
"""


def test_driving_the_main_window_never_imports_torch(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), LAYERSTUDIO_HOME=str(tmp_path / "home"),
               QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", DRIVE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    assert lines, out.stderr[-3000:]
    result = json.loads(lines[-1])
    assert result["steps"] == ["edited", "opened"], out.stderr[-3000:]
    assert result["channels"] == 8
    assert result["torch"] is False
