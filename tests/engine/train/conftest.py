"""Fixtures of the training tests (see tiny_projects)."""
import json
from pathlib import Path

import pytest

from .tiny_projects import project_dict


@pytest.fixture
def project_file(tmp_path):
    def write(name="p.json", **kw) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(project_dict(**kw)))
        return path
    return write
