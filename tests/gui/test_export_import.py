"""File → Export… and File → Import… against the real engine service: an export writes a
checked file, an imported .py class opens as a laid-out document, and bad input is one
inline message (nothing written, nothing opened)."""
from __future__ import annotations

from test_explain_fixtures import needs_requests, no_torch_here, real_studio, real_window  # noqa: F401

pytestmark = needs_requests("export", "import_model")

TINY = '''
import torch
from torch import nn
import torch.nn.functional as F


class Helper(nn.Module):
    pass


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))
'''


def test_export_writes_a_verified_file_and_says_what_is_wrong(real_window, qtbot, tmp_path):
    from studio import export_import
    menu_action = real_window.actions_["export_model"]
    assert menu_action.text() == "&Export…"
    dialog = export_import.show_export(real_window)
    dialog.format.setCurrentIndex(dialog.format.findData("torchscript"))
    assert dialog.output.text().endswith(".pt")
    dialog.format.setCurrentIndex(dialog.format.findData("py"))
    out = tmp_path / "lenet.py"
    dialog.output.setText(str(out))
    dialog.weights.setCurrentIndex(0)  # untrained: fresh initialization
    assert dialog.payload()["to"] == "py" and "weights_run_dir" not in dialog.payload()
    with qtbot.waitSignal(dialog.exported, timeout=120_000) as exported:
        dialog.go.click()
    assert exported.args[0] == [str(out)]
    code = out.read_text()
    assert "nn.Conv2d" in code and "def forward" in code
    assert dialog.message.text().startswith("Wrote lenet.py (untrained weights). Checked against the engine")
    assert dialog.go.isEnabled() and not dialog.bar.isVisible()

    # a folder that does not exist: the service's message inline, nothing written
    dialog.output.setText(str(tmp_path / "missing" / "net.py"))
    dialog.go.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert "is not a folder" in dialog.message.text() and "c62828" in dialog.message.styleSheet()
    assert not (tmp_path / "missing").exists()
    dialog.close()
    assert no_torch_here()


def test_import_a_python_class_opens_it_laid_out(real_window, qtbot, tmp_path):
    from studio import export_import
    source = tmp_path / "tiny.py"
    source.write_text(TINY)
    dialog = export_import.show_import(real_window)
    dialog.from_py.setChecked(True)
    assert dialog.warning.isVisible() and "runs its code" in dialog.warning.text()
    dialog.py_file.setText(str(source))
    dialog._list_classes()  # what editingFinished does
    qtbot.waitUntil(lambda: dialog.py_class.count() == 2)
    assert dialog.py_class.currentText() == "TinyNet"  # the last class: usually the network
    dialog.shape.setText("3, 8, 8")
    assert dialog.payload() == {"source": f"{source}:TinyNet", "input_shape": [3, 8, 8]}
    before = real_window.document
    with qtbot.waitSignal(dialog.imported, timeout=120_000) as imported:
        dialog.go.click()
    window = imported.args[0]
    assert window is real_window and window.document is not before  # the sample was untouched: replaced
    doc = window.document
    types = sorted(n.type for n in doc.graph.nodes.values())
    assert types == ["Conv2d", "Flatten", "Input", "Linear", "MaxPool2d", "ReLU"]
    assert all(n.pos is not None for n in doc.graph.nodes.values())  # laid out by the engine
    assert doc.inference.totals().params == 4 * 3 * 9 + 4 + 64 * 5 + 5
    assert doc.path is None and not dialog.isVisible()

    # an unknown torchvision model: one message, no new document
    dialog = export_import.show_import(real_window)
    dialog.from_tv.setChecked(True)
    dialog.tv_name.setCurrentText("resnet9000")
    dialog.go.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60_000)
    assert "torchvision has no classification model 'resnet9000'" in dialog.message.text().lower()
    assert real_window.document is doc
    dialog.close()
    assert no_torch_here()
