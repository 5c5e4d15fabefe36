"""The README's command 1: the URL it prints opens the quick start, with no news pop-up.

JupyterLab starts the way command 1 starts it (its environment assignment and its flags, read
from the README), in a copy of the repository's ``notebooks/`` and ``jupyter-config/``, with
only what a test needs added: a free loopback port, no browser of its own, and temporary
user directories so that the machine's own Jupyter settings play no part. Chromium then
opens the URL the server printed, as a person would copy it from the terminal.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    KERNEL_TIMEOUT_MS,
    ROOT,
    SERVER_START_TIMEOUT,
    SERVER_STOP_TIMEOUT,
    free_port,
    log_tail,
)

pytestmark = pytest.mark.browser

README = ROOT / "README.md"
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
# The pop-up appears once JupyterLab has restored its layout, before a kernel is ready; a
# kernel that is idle means the page has long passed that point. Then a little longer still.
AFTER_IDLE_S = 2.0


def command_one() -> list[str]:
    """Command 1's JupyterLab part, split as the shell would: ``VAR=value ... jupyter lab
    flags``."""
    text = README.read_text("utf-8")
    line = next(line for line in text.splitlines() if line.startswith("python3 -m venv .venv"))
    lab = line.rsplit("&&", 1)[1]
    words = shlex.split(lab)
    assert ".venv/bin/jupyter" in words, lab
    return words


@pytest.fixture
def printed_url(chromium: str, tmp_path: Path) -> Iterator[str]:
    words = command_one()
    at = words.index(".venv/bin/jupyter")
    assignments, flags = words[:at], words[at + 2:]
    assert words[at + 1] == "lab"
    env_changes = dict(word.split("=", 1) for word in assignments)
    assert "JUPYTER_CONFIG_PATH" in env_changes, "command 1 no longer sets JUPYTER_CONFIG_PATH"
    root = tmp_path / "repository"
    for name in ("notebooks", "jupyter-config"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.har"))
    home = tmp_path / "home"
    dirs = {name: home / name for name in ("config", "data", "runtime")}
    for path in dirs.values():
        path.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("JUPYTER")}
    env.update(env_changes, JUPYTER_CONFIG_DIR=str(dirs["config"]),
               JUPYTER_DATA_DIR=str(dirs["data"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]))
    port = free_port()
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", *flags, "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0",
               f"--LabApp.workspaces_dir={home / 'workspaces'}",
               f"--LabApp.user_settings_dir={home / 'settings'}"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        pattern = re.compile(rf"(http://127\.0\.0\.1:{port}/\S*\?token=\w+)")
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while (found := pattern.search(log.read_text("utf-8", errors="replace"))) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab printed no URL:\n{log_tail(log)}", pytrace=False)
            time.sleep(0.2)
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_TIMEOUT)


def test_the_printed_url_opens_the_quick_start_without_the_news_pop_up(
        printed_url: str, page: Page) -> None:
    assert "/lab/tree/notebooks/01-quickstart.ipynb?token=" in printed_url
    page.goto(printed_url, timeout=KERNEL_TIMEOUT_MS)
    tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").filter(
        has_text="01-quickstart.ipynb")
    expect(tab).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
    expect(page.locator(".jp-NotebookPanel:visible")).to_have_count(1)
    expect(page.locator("#jp-main-statusbar")).to_contain_text(
        re.compile(r"\|\s*Idle"), timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_timeout(AFTER_IDLE_S * 1000)
    expect(page.get_by_text(NEWS_QUESTION)).to_have_count(0)
    expect(page.locator(".jp-Launcher:visible")).to_have_count(0)
