"""The quick start as it first opens (Binder's first screen, a notebook fresh from git), before
anything runs: its stored outputs read as text, and opening it leaves the file as it was.

- the form's stored output is the form's summary, not ``AddPhoneAudioForm()``;
- the call's stored output is its timeline, with the number dialled;
- the notebook is not marked modified once its kernel is up, and saving it unchanged writes
  the same bytes (JupyterLab rewrote the kernelspec when it differed from ipykernel's, and
  autosave then dirtied git).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect
from support import wait_until

from .conftest import KERNEL_TIMEOUT_MS, JupyterLabPage

QUICKSTART = "01-quickstart.ipynb"


def _whole(path: Path) -> bool:
    """Whether the file is written to its end (the server truncates it, then writes)."""
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return False
    return True


def test_the_quickstart_reads_before_run_all_and_opening_it_changes_nothing(
        jupyterlab: JupyterLabPage) -> None:
    path = jupyterlab.server.root / QUICKSTART
    before, written = path.read_bytes(), path.stat().st_mtime_ns
    notebook = jupyterlab.open(QUICKSTART)
    page = notebook.page
    form = notebook.cell_with("form = AddPhoneAudioForm(session)")
    expect(form.locator(".jp-OutputArea")).to_contain_text(
        "AddPhoneAudioForm: addPhoneAudio as sip:alice@contoso.com")
    expect(form.locator(".jp-OutputArea")).to_contain_text("To (SIP URI):")
    call = notebook.cell_with("call.wait(timeout=10)")
    expect(call.locator(".jp-OutputArea")).to_contain_text("your phone, as dialled")
    # Opened, kernel idle: nothing to save.
    tab = page.locator(".jp-mod-current.lm-TabBar-tab, .lm-TabBar-tab.jp-mod-current").first
    expect(tab).not_to_have_class(re.compile(r"jp-mod-dirty"))
    # Saved as it is (what autosave does), the file is byte for byte the one from git.
    notebook.panel.click()
    page.keyboard.press("Control+s")
    wait_until(lambda: path.stat().st_mtime_ns != written and _whole(path),
               timeout=KERNEL_TIMEOUT_MS / 1000, what="JupyterLab to save the notebook")
    assert path.read_bytes() == before
