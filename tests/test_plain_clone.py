"""The README's command 2 on a plain clone: no ``../shared`` beside the repository.

The repository's files (what git tracks, plus new files not ignored) are copied to a temporary
directory with nothing beside it, and pytest runs there in a subprocess: the whole suite
collects, the tests built on ``../shared`` skip with a reason that names what they need, and
under ``CI=true`` the same tests fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
COLLECT_TIMEOUT = 240.0  # s; the whole suite collects in about 15 s on an idle 2-core machine
RUN_TIMEOUT = 180.0  # s; the shared-data tests alone skip in a few seconds

# One test of each kind that needs ../shared: samples by manifest entry (one placeholder
# without it), the samples directory, and the two seed pages: four tests.
SHARED_TESTS = [
    "tests/protocol/test_representation.py::test_sample",
    "tests/protocol/test_representation.py::test_manifest_lists_every_sample",
    "tests/sim/test_flow.py::test_seed_bodies_match_the_seed_pages",
]


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPOSITORY, capture_output=True, check=True, timeout=30).stdout
    return [name for name in listed.decode().split("\0")
            if name and (REPOSITORY / name).is_file()]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (REPOSITORY / ".git").exists():
        pytest.skip("needs git and a git checkout to know the repository's files")
    base = tmp_path_factory.mktemp("plain-clone")
    target = base / "ucwa-nb"
    for name in _repository_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPOSITORY / name, target / name)
    assert not (base / "shared").exists()
    return target


def _pytest(clone: Path, *args: str, ci: bool, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_", "CI"))}
    env["PYTHONPATH"] = str(clone)  # the copy's ucwa_nb and tests, not the checkout's
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=clone, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_whole_suite_collects_without_shared(clone: Path) -> None:
    result = _pytest(clone, "--collect-only", "-q", ci=False, timeout=COLLECT_TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.lower().splitlines()[-1]
    assert "tests/protocol/test_representation.py::test_sample[missing-" in result.stdout


def test_shared_tests_skip_with_a_reason(clone: Path) -> None:
    result = _pytest(clone, "-q", "-rs", "-o", "addopts=", *SHARED_TESTS, ci=False,
                     timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "4 skipped" in output
    assert "needs shared/ucwa-samples beside the repository" in output
    assert "needs shared/seeds/" in output


def test_a_plain_clone_says_which_tests_skipped_and_why_without_being_asked(
        clone: Path) -> None:
    # No -r option: the last lines alone say which tests skipped and why, one line per
    # cause (a plain clone used to end with "4 skipped" and nothing else).
    result = _pytest(clone, "-q", "-o", "addopts=", *SHARED_TESTS, ci=False,
                     timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    summary = output.split("skipped on this machine, and why", 1)[1]
    assert "2 skipped: needs shared/ucwa-samples beside the repository" in summary
    assert "e.g. tests/protocol/test_representation.py::test_sample[missing-" in summary
    assert "1 skipped: needs shared/seeds/" in summary
    assert summary.rstrip().splitlines()[-1].startswith("4 skipped in ")


def test_shared_tests_fail_under_ci(clone: Path) -> None:
    result = _pytest(clone, "-q", "-o", "addopts=", *SHARED_TESTS, ci=True,
                     timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    # The samples fixture fails in set-up (an error), the seed test in its body (a failure).
    assert "2 failed, 2 errors" in output
    assert "CI=true and a test cannot run" in output
