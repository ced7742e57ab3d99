"""The three floors of DESIGN.md: import-linter contracts (pyproject.toml) and no torch in
what the GUI imports while editing."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def lint_imports() -> str:
    """The ``lint-imports`` script of the environment running the tests."""
    here = Path(sys.executable).parent / "lint-imports"
    found = str(here) if here.exists() else shutil.which("lint-imports")
    if not found:
        pytest.fail("import-linter is not installed (pip install import-linter): the contracts cannot be checked")
    return found


def run_linter(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([lint_imports(), "--no-cache", *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=300)


def test_import_contracts_are_kept():
    p = run_linter()
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "broken" in p.stdout and " 0 broken" in p.stdout


def test_the_linter_would_catch_a_violation(tmp_path):
    # a contract that the tree certainly breaks: the graph model uses the catalog
    config = tmp_path / "contracts.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_packages = ["engine"]

        [[tool.importlinter.contracts]]
        name = "deliberately broken"
        type = "forbidden"
        source_modules = ["engine.graph"]
        forbidden_modules = ["engine.catalog"]
    """))
    p = run_linter("--config", str(config))
    assert p.returncode != 0 and "BROKEN" in p.stdout.upper()


EDITING_MODULES = ["engine.catalog", "engine.graph", "engine.graph.inference", "engine.project", "engine.schema",
                   "engine.schema.docs", "engine.layout", "engine.cli", "engine.cli.main", "engine.cli.check",
                   "studio.cli"]


def test_what_the_gui_uses_while_editing_imports_no_torch_and_no_qt():
    code = ("import importlib, sys\n"
            f"for m in {EDITING_MODULES!r}:\n"
            "    importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'torchvision', 'captum', 'PySide6', 'shiboken6', 'pyqtgraph', 'superqt')))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]", p.stdout
