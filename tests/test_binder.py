"""Replay what Binder does with binder/ in a fresh virtual environment, then run the notebooks.

repo2docker (notebook-tooling.md section 4) starts from an image that already has JupyterLab,
installs binder/requirements.txt from the repository root, then runs binder/postBuild. We do
the same in a new venv (with JupyterLab, nbval and pytest standing in for the base image) and
run the notebook suite there: a missing pin or a broken postBuild fails here, not in front of
a class.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_files_are_the_simple_kind() -> None:
    names = {p.name for p in BINDER.iterdir()}
    assert {"requirements.txt", "runtime.txt", "postBuild"} <= names
    # environment.yml would silently bypass requirements.txt and runtime.txt.
    assert "environment.yml" not in names
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "." in lines
    pins = [line for line in lines if line != "."]
    assert pins
    assert all("==" in line for line in pins), pins
    post_build = (BINDER / "postBuild").read_text()
    assert "set -euo pipefail" in post_build
    assert os.access(BINDER / "postBuild", os.X_OK)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> None:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    tail = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"{cmd} failed:\n{tail}"


@pytest.mark.slow
def test_binder_install_runs_the_notebooks(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "__pycache__", "*.egg-info", ".pytest_cache", ".mypy_cache",
        ".ruff_cache", ".hypothesis", "test-artifacts", "build", "dist"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_dir = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet"]
    # The base image's share: JupyterLab and a kernel; nbval and pytest to run the check.
    _run([*pip, "jupyterlab>=4.4,<5", "ipykernel", "nbval==0.11.*", "pytest>=8"], repo, env,
         600)
    _run([*pip, "-r", "binder/requirements.txt"], repo, env, 600)
    _run(["bash", "binder/postBuild"], repo, env, 120)
    _run([str(bin_dir / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
          "--nbval-lax", "--nbval-current-env", "notebooks", "-q"], repo, env, 600)
