"""Create (once) the environment LayerStudio needs, then start the app or the tests.

Stdlib only: it runs with whatever ``python3`` a fresh machine has.

    python3 studio/bootstrap.py app [ARGS...]     start LayerStudio (default: the sample project)
    python3 studio/bootstrap.py test [PYTEST ARGS...]
    python3 studio/bootstrap.py env               only create the environment, print its path

The environment lives outside the checkout, in ``$LAYERSTUDIO_ENV_ROOT`` (default
``~/.cache/layerstudio/envs``), keyed on a hash of the dependency list in pyproject.toml,
so every clone with the same dependencies shares it and a changed list builds a new one.
The checkout itself is never installed: it runs from source with ``PYTHONPATH``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirements() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return list(project["dependencies"]) + list(project["optional-dependencies"]["test"])


def env_dir() -> Path:
    reqs = _requirements()
    key = hashlib.sha256(("\n".join(reqs) + sys.version).encode()).hexdigest()[:12]
    base = Path(os.environ.get("LAYERSTUDIO_ENV_ROOT", Path.home() / ".cache" / "layerstudio" / "envs"))
    return base / f"py{sys.version_info.major}{sys.version_info.minor}-{key}"


def ensure_env() -> Path:
    env = env_dir()
    python = env / "bin" / "python"
    if (env / ".complete").exists() and python.exists():
        return python
    print(f"LayerStudio: creating the environment in {env} (first run only, a few minutes)…", flush=True)
    # A build that was interrupted has no .complete marker: start it again from scratch.
    shutil.rmtree(env, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "--progress-bar", "off", *_requirements()], check=True)
    (env / ".complete").write_text("\n".join(_requirements()))
    return python


def main(argv: list[str]) -> int:
    cmd, rest = (argv[0], argv[1:]) if argv else ("app", [])
    python = ensure_env()
    if cmd == "env":
        print(python.parent.parent)
        return 0
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if cmd == "test":
        args = [str(python), "-m", "pytest", *rest]
    elif cmd == "app":
        args = [str(python), "-m", "studio", *rest]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return subprocess.call(args, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
