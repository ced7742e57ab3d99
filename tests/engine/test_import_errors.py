"""``layerstudio import`` on bad input: each a clear one-message error, its exit code, nothing written."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.cli.main import main as cli

ROOT = Path(__file__).resolve().parents[2]

MODELS = {
    "untraceable.py": """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                if x.sum() > 0:  # data-dependent control flow
                    x = -x
                return self.fc(x)
    """,
    "unmappable.py": """
        import torch.nn.functional as F
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
                self.act = nn.PReLU()

            def forward(self, x):
                return F.interpolate(self.act(self.conv(x)), scale_factor=2.0)
    """,
    "broken.py": """
        import torch
        raise RuntimeError("no GPU driver here")
    """,
    "syntax.py": """
        class Net(:
    """,
    "plain.py": """
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                return x

        class Helper:
            pass

        def make():
            return Net()
    """,
    "needs_args.py": """
        from torch import nn

        class Net(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.fc = nn.Linear(4, width)
    """,
    "good.py": """
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)
    """,
}

# (model argument, extra arguments, exit code, words the message must contain)
CASES = {
    "untraceable": ("untraceable.py:Net", ["--input-shape", "4"], 1,
                    ["cannot be traced", "untraceable.py, line", "no `if`"]),
    "unmappable": ("unmappable.py:Net", ["--input-shape", "3,8,8"], 1,
                   ["nothing was imported", "nn.PReLU (module) × 1", "F.interpolate (function) × 1"]),
    "unknown torchvision name": ("torchvision:resnet19", [], 2, ["torchvision has no classification model",
                                                               "did you mean"]),
    "no such class": ("plain.py:Model", ["--input-shape", "4"], 2, ["plain.py does not define 'Model'",
                                                                    "it defines Net"]),
    "not a module class": ("plain.py:Helper", ["--input-shape", "4"], 1, ["not a torch.nn.Module class"]),
    "not a class at all": ("plain.py:make", ["--input-shape", "4"], 1, ["not a torch.nn.Module class"]),
    "import fails": ("broken.py:Net", [], 1, ["importing broken.py failed (line 3)", "no GPU driver here"]),
    "syntax error": ("syntax.py:Net", [], 1, ["syntax.py: syntax error at line 2"]),
    "constructor needs arguments": ("needs_args.py:Net", [], 1, ["Net() failed", "width"]),
    "missing file": ("missing.py:Net", [], 2, ["missing.py: no such file"]),
    "not a python file": ("good.txt:Net", [], 2, ["expected a Python file"]),
    "no model named": ("resnet18", [], 2, ["torchvision:NAME or FILE.py:ClassName"]),
    "wrong input shape": ("good.py:Net", ["--input-shape", "3,8,8"], 1,
                          ["does not run on an input of shape [3, 8, 8] (at fc)", "--input-shape"]),
    "bad input shape": ("good.py:Net", ["--input-shape", "3,x"], 2, ["--input-shape"]),
    "zero input size": ("good.py:Net", ["--input-shape", "0,4"], 2, ["--input-shape"]),
}


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    for name, code in MODELS.items():
        (tmp_path / name).write_text(textwrap.dedent(code), encoding="utf-8")
    (tmp_path / "good.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", CASES)
def test_bad_import(case, folder, capsys):
    source, extra, code, words = CASES[case]
    before = sorted(p.name for p in folder.iterdir())
    result = cli(["import", source, "-o", "out.json", *extra])
    captured = capsys.readouterr()
    assert result == code, captured.err
    assert "Traceback" not in captured.err + captured.out
    for word in words:
        assert word in captured.err, captured.err
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written


def test_output_folder_must_exist(folder, capsys):
    assert cli(["import", "good.py:Net", "--input-shape", "4", "-o", "no/such/dir/out.json"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_good_model_imports(folder, capsys):
    assert cli(["import", "good.py:Net", "--input-shape", "4", "-o", "out.json"]) == 0
    assert (folder / "out.json").is_file()
    assert "2 nodes, 10 parameters" in capsys.readouterr().out


def test_real_command_line_prints_one_message_and_no_traceback(folder):
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "import", "unmappable.py:Net",
                           "--input-shape", "3,8,8", "-o", "out.json"], cwd=folder, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1
    assert done.stderr.startswith("layerstudio import: unmappable.py:Net cannot be imported")
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (folder / "out.json").exists()
