"""Fixtures for the real-browser tests: a JupyterLab server, Chromium through Playwright,
helpers to open a notebook, run its cells and find a form in the page, and the checks the
test modules share (a form's status pills, request preview and timeline).

The recipe and its pitfalls are in notebook-tooling.md section 3: Playwright from PyPI drives
the system's Chromium (``executable_path``; never ``playwright install``, which needs a CDN),
JupyterLab serves a temporary copy of ``notebooks/`` (running cells dirties a notebook and
JupyterLab autosaves it), and every wait is on page state with a bounded timeout (a bare
``page.evaluate`` has none and once hung for ten minutes; these tests use none).

Chromium: ``$UCWA_NB_CHROMIUM``, else ``/usr/bin/chromium`` (Debian's ``apt-get install -y
chromium``). Without it the tests skip, except under CI (``CI=true``), where that is a failure.
Set ``UCWA_NB_UPDATE_DOCS=1`` to also rewrite ``docs/form.png`` (the README's picture of the
form) from the quick-start scenario; ordinary runs leave it alone, because it shows the
simulator's random port and every run would change a tracked file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
TOKEN = "ucwa-nb-browser-tests"

# Timeouts: generous, because two cores are shared with other test runs, but bounded.
SERVER_START_TIMEOUT = 60.0  # s until /api/status answers 200 (4 s idle, 9 s busy, measured)
SERVER_STOP_TIMEOUT = 15.0  # s for a graceful stop (kernels included) before a kill
KERNEL_TIMEOUT_MS = 60_000  # JupyterLab's start in the page + a kernel's (5-14 s measured)
UI_TIMEOUT_MS = 20_000  # a round trip page -> kernel -> page (tens of ms when idle)
CALL_TIMEOUT_MS = 30_000  # 201 -> completed in the default scenario takes about 1 s

# Playwright itself adds --headless, --no-sandbox (needed as root) and --disable-dev-shm-usage.
CHROMIUM_ARGS = [
    "--disable-gpu",  # containers have none; avoids GPU-process start-up and its log noise
    "--disable-background-networking",  # no internet here: no update, safe-browsing, ... calls
    "--disable-component-update",
    "--no-first-run",
]

# The notebook that only these tests use, written into the served copy (never into the
# repository). One notebook, so that its scenarios share one kernel start; each scenario
# still runs it from the top, so that the tests pass alone and in any order. A connected
# call stays connected in the kernel's simulator (a second addPhoneAudio to that
# conversation is refused), so the one scenario that connects a call here
# (test_accessibility.py) makes it on a simulator of its own, in the last cell.
SCRATCH_NOTEBOOK = "browser-forms.ipynb"
SCRATCH_CELLS = [
    "# Written by tests/browser/conftest.py for the browser tests.\n"
    "import ucwa_nb\n"
    "from ucwa_nb.widgets import AddPhoneAudioForm, ContinuePhoneAudioForm\n"
    "\n"
    "session = ucwa_nb.connect()",
    "continue_form = ContinuePhoneAudioForm(session)\n"
    "continue_form",
    "add_form = AddPhoneAudioForm(session)\n"
    "add_form",
    "own_sim = ucwa_nb.Simulator()  # a new one on every run: John's conversation is free\n"
    "alice = own_sim.scenario.demo_user\n"
    "own_session = ucwa_nb.connect(own_sim.url, username=alice.username,\n"
    "                              password=alice.password)\n"
    "own_form = AddPhoneAudioForm(own_session)\n"
    "own_form",
]

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# ---------------------------------------------------------------------- Chromium: skip or fail


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; skips the browser tests without one, fails under CI."""
    wanted = os.environ.get("UCWA_NB_CHROMIUM") or DEFAULT_CHROMIUM
    found = shutil.which(wanted)  # an absolute path or a name on PATH, if executable
    if found is not None:
        return found
    reason = (f"Chromium not found at {wanted!r}: install it (apt-get install -y chromium) or "
              "set UCWA_NB_CHROMIUM to its path")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------- JupyterLab server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(log: Path, lines: int = 60) -> str:
    try:
        text = log.read_text("utf-8", errors="replace")
    except OSError as exc:
        return f"(cannot read {log}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _notebook(sources: list[str]) -> dict[str, Any]:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [{"cell_type": "code", "id": f"cell-{i}", "metadata": {},
                   "execution_count": None, "outputs": [], "source": source}
                  for i, source in enumerate(sources)],
    }


def prepare_dirs(base: Path) -> dict[str, Path]:
    dirs = {name: base / name for name in ("root", "config", "data", "runtime", "settings",
                                            "workspaces", "logs")}
    shutil.copytree(NOTEBOOKS, dirs["root"],
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.har"))
    (dirs["root"] / SCRATCH_NOTEBOOK).write_text(
        json.dumps(_notebook(SCRATCH_CELLS), indent=1) + "\n", "utf-8")
    for name in ("config", "data", "runtime", "settings", "workspaces", "logs"):
        dirs[name].mkdir()
    # JupyterLab 4 asks "Would you like to get notified about official Jupyter news?" in a
    # toast that can cover the notebook; disabling the plugin that asks is the documented way
    # (what `jupyter labextension disable` writes), here in this server's own config dir.
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}\n',
        "utf-8")
    return dirs


def _server_env(dirs: dict[str, Path], extra: dict[str, str] | None = None
                ) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    # Nothing of the user's Jupyter set-up: config (a news setting, a theme), data (a
    # user-level "python3" kernelspec pointing at another Python would win over this
    # environment's) and runtime files all live in the temporary directory.
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.update(JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]))
    return env


class JupyterServer:
    """JupyterLab on 127.0.0.1 with a fixed token, serving a temporary copy of notebooks/.

    Started by the fixture and waited for on first use (``ready()``), so that Chromium starts
    while the server does: both take seconds on a busy machine.
    """

    MAX_ATTEMPTS = 3

    def __init__(self, dirs: dict[str, Path], env: dict[str, str] | None = None) -> None:
        self.dirs = dirs
        self.env = env  # added to the server's (and so its kernels') environment
        self.root = dirs["root"]
        self.token = TOKEN
        self.attempt = 0
        self.failures: list[str] = []
        self.is_ready = False
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self) -> None:
        self.attempt += 1
        self.port = free_port()
        self.log = self.dirs["logs"] / f"jupyterlab-{self.attempt}.log"
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--allow-root",  # CI containers run as root; harmless otherwise
            "--ip=127.0.0.1", f"--port={self.port}",
            "--ServerApp.port_retries=0",  # this port or exit (and we pick another)
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={self.dirs['workspaces']}",
            f"--LabApp.user_settings_dir={self.dirs['settings']}",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL,
                                            env=_server_env(self.dirs, self.env),
                                            cwd=self.root)

    def _wait(self) -> str | None:
        """None once /api/status answers 200, else why not (it exited, or timed out)."""
        status_url = f"{self.url}/api/status"
        headers = {"Authorization": f"token {self.token}"}  # without it: 403
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        # trust_env=False: a proxy from the environment must not be asked for 127.0.0.1.
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                try:
                    if client.get(status_url, headers=headers).status_code == 200:
                        return None
                except httpx.TransportError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    return f"/api/status did not answer 200 within {SERVER_START_TIMEOUT:.0f} s"
                try:
                    # The poll interval doubles as the check that the server is still alive.
                    code = self.process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    continue
                return f"the server exited with code {code} before it was ready"

    def ready(self) -> None:
        """Wait until the server answers; fail the test with the server's log if it won't."""
        while not self.is_ready:
            if self.failures and (self.process.poll() is not None):
                break  # failed for an earlier test already: fail at once, same message
            problem = self._wait()
            if problem is None:
                self.is_ready = True
                return
            self.stop()
            tail = log_tail(self.log)
            self.failures.append(f"attempt {self.attempt} on port {self.port}: {problem}\n"
                                 f"--- {self.log} (last lines):\n{tail}")
            # Only a lost race for the port (something took it between our probe and the
            # server's bind) is worth another try; anything else fails at once.
            if "already in use" not in tail or self.attempt >= self.MAX_ATTEMPTS:
                break
            self._start()
        if not self.is_ready:
            pytest.fail("JupyterLab did not start:\n" + "\n".join(self.failures),
                        pytrace=False)

    def stop(self) -> None:
        """Terminate (JupyterLab then shuts its kernels down), then kill if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=SERVER_STOP_TIMEOUT)

    def notebook_url(self, name: str, workspace: str) -> str:
        # A workspace of its own per test (and ?reset) so that a page does not reopen the
        # notebooks of the tests before it, each of which would connect to its kernel.
        return (f"{self.url}/lab/workspaces/{quote(workspace)}/tree/{quote(name)}"
                f"?reset&token={self.token}")


@pytest.fixture(scope="session")
def jupyter_server(chromium: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[JupyterServer]:
    """The JupyterLab server of the session (call ``ready()`` before use); stopped at the end.

    Depends on ``chromium`` so that no server is started when the tests are skipped.
    """
    server = JupyterServer(prepare_dirs(tmp_path_factory.mktemp("jupyterlab")))
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------- Chromium via Playwright


# Package scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it lives, and the tests after tests/browser (asyncio.run, ast.parse under
# pytest's unraisable-exception hook) must not run inside it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                         timeout=60_000)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="package")
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    # One context for the session and a page per test: the pages share the HTTP cache, so
    # JupyterLab's scripts are downloaded once. Tall enough that a form, its request preview
    # and the call's timeline fit in one view (and in one screenshot).
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    try:
        yield context
    finally:
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report on the item, so that the page fixture can tell a failed test
    # and leave a screenshot of what the page showed when it failed.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def page(browser_context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = browser_context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)  # every action (click, fill, ...) is bounded
    try:
        yield page
    finally:
        report = request.node.stash.get(_REPORTS, {}).get("call")
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-failed.png", timeout=10_000)
        page.close()


# ---------------------------------------------------------------------- notebooks in the page


def button_named(scope: Page | Locator, text: str) -> Locator:
    """The buttons in ``scope`` whose text is exactly ``text``.

    By text rather than by role name: an ipywidgets button's icon is a Font Awesome glyph
    drawn by CSS (``::before``), which goes into the accessible name but not into the text.
    """
    return scope.locator("button").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]  # a string or a list of lines, in the .ipynb format
    return source if isinstance(source, str) else "".join(source)


class Notebook:
    """A notebook open in JupyterLab, its kernel idle."""

    def __init__(self, page: Page, path: Path) -> None:
        self.page = page
        self.path = path
        self.panel = page.locator(".jp-NotebookPanel")

    def run_through(self, marker: str) -> Locator:
        """Run the cells from the top through the first code cell whose source contains
        ``marker``, with the keyboard as a person would (Shift+Enter runs a cell and selects
        the next one); return that cell once the kernel has run it."""
        cells = json.loads(self.path.read_text("utf-8"))["cells"]
        index = next((i for i, cell in enumerate(cells)
                      if cell["cell_type"] == "code" and marker in _source(cell)), None)
        assert index is not None, f"no code cell of {self.path.name} contains {marker!r}"
        # JupyterLab's default windowing ("contentVisibility") keeps every cell in the DOM,
        # so the page's cells line up with the file's; checked, not assumed.
        target = self.panel.locator(".jp-Cell").nth(index)
        expect(target.locator(".jp-InputArea-editor")).to_contain_text(marker)
        # Outputs saved in the notebook go first (Edit > Clear Outputs of All Cells, as a
        # person would): a form saved with its widget state can render as a form that no
        # kernel answers, and a saved "[3]:" would pass for this run's.
        self.page.get_by_role("menuitem", name="Edit", exact=True).click()
        self.page.get_by_role("menuitem", name="Clear Outputs of All Cells").click()
        expect(self.panel.locator(".jp-OutputArea-output")).to_have_count(0)
        expect(target.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\s*\]:"))
        # The prompt area selects a cell without following a link of a markdown cell.
        self.panel.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
        for _ in range(index + 1):
            self.page.keyboard.press("Shift+Enter")
        # "[n]:" replaces "[*]:" when the kernel has run the cell.
        expect(target.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"),
                                                              timeout=KERNEL_TIMEOUT_MS)
        return target

    def run_all(self) -> None:
        """Clear the outputs, then Kernel > Restart Kernel and Run All Cells, as most people
        do first; return when the kernel has run the last code cell. A fresh kernel: the
        kernel of a notebook is shared by the tests that open it, and a call connected by an
        earlier test would otherwise still hold John's conversation in its simulator."""
        cells = json.loads(self.path.read_text("utf-8"))["cells"]
        last = max(i for i, cell in enumerate(cells) if cell["cell_type"] == "code")
        target = self.panel.locator(".jp-Cell").nth(last)
        self.page.get_by_role("menuitem", name="Edit", exact=True).click()
        self.page.get_by_role("menuitem", name="Clear Outputs of All Cells").click()
        expect(self.panel.locator(".jp-OutputArea-output")).to_have_count(0)
        self.page.get_by_role("menuitem", name="Kernel", exact=True).click()
        self.page.get_by_role("menuitem", name=re.compile(
            r"^Restart Kernel and Run All Cells")).click()
        self.page.get_by_role("button", name="Confirm Kernel Restart").click()
        expect(target.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"),
                                                              timeout=KERNEL_TIMEOUT_MS)

    def cell_with(self, marker: str) -> Locator:
        """The code cell whose source contains ``marker``."""
        cells = json.loads(self.path.read_text("utf-8"))["cells"]
        index = next(i for i, cell in enumerate(cells)
                     if cell["cell_type"] == "code" and marker in _source(cell))
        return self.panel.locator(".jp-Cell").nth(index)

    def form(self, cell: Locator, button: str = "Send") -> Locator:
        """The ipywidgets form in ``cell``'s output (the outermost VBox with ``button``)."""
        expect(button_named(cell.locator(".jp-OutputArea"), button)).to_be_visible()
        # A "has" locator is matched inside each candidate, hence one from the page.
        inner = button_named(self.page, button)
        return cell.locator(".jp-OutputArea .widget-vbox").filter(has=inner).first


class JupyterLabPage:
    """The JupyterLab front end in one browser page (not the ``lab`` of tests/conftest.py,
    which holds a test's simulators and sessions)."""

    def __init__(self, page: Page, server: JupyterServer, workspace: str) -> None:
        self.page = page
        self.server = server
        self.workspace = workspace

    def open(self, name: str) -> Notebook:
        """Open a notebook of the served copy and wait until its kernel is idle."""
        self.server.ready()
        self.page.goto(self.server.notebook_url(name, self.workspace),
                       timeout=KERNEL_TIMEOUT_MS)
        notebook = Notebook(self.page, self.server.root / name)
        expect(notebook.panel).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        # The status bar says "Python 3 (ipykernel) | Idle" once the kernel has started.
        # (The toolbar's execution indicator is no use here: it says "idle" before there is
        # a kernel at all.)
        expect(self.page.locator("#jp-main-statusbar")).to_contain_text(
            re.compile(r"\|\s*Idle"), timeout=KERNEL_TIMEOUT_MS)
        # Every test starts in the default light theme: test_accessibility.py switches to the
        # dark one (a setting of the shared server) and puts the setting back; checked here.
        expect(self.page.locator("body")).to_have_attribute("data-jp-theme-light", "true")
        return notebook


@pytest.fixture
def jupyterlab(jupyter_server: JupyterServer, page: Page, request: pytest.FixtureRequest
               ) -> JupyterLabPage:
    # jupyter_server first: its process starts, then Chromium while it boots.
    return JupyterLabPage(page, jupyter_server, re.sub(r"\W+", "-", request.node.name))


# ---------------------------------------------------------------------- what a form shows

MY_PHONE = "tel:+14255550123"  # not the demo user's default number, to see it in the body
LOCATION = re.compile(r"Location: http://127\.0\.0\.1:\d+/\S+/phoneAudioInvitations/\d+")


def badge(form: Locator, text: str | re.Pattern[str]) -> Locator:
    """A status pill of the form (ready to send, 201 Created, connected, error, ...)."""
    return form.get_by_role("status").filter(has_text=text)


def line_with(form: Locator, pill: str) -> Locator:
    """The HTML widget of the form that holds the status pill ``pill`` (and what follows)."""
    inner = form.page.get_by_role("status").filter(has_text=pill)
    return form.locator(".widget-html-content").filter(has=inner)


def preview(form: Locator) -> Locator:
    """The request preview (the curl and Python snippets say $UCWA_TOKEN instead)."""
    return form.locator("pre", has_text="Authorization: Bearer [REDACTED]")


def timeline(form: Locator) -> Locator:
    return form.get_by_role("img", name=re.compile(r"^Timeline of call "))


def see_it_connect(form: Locator) -> None:
    """After Send: see the 201 with its Location, then the event channel's news: ringing,
    then connected (the completed event), in the status badge and the timeline."""
    expect(badge(form, "201 Created")).to_be_visible()
    expect(line_with(form, "201 Created")).to_contain_text(LOCATION)
    expect(badge(form, re.compile(r"^connected$"))).to_be_visible(timeout=CALL_TIMEOUT_MS)
    expect(timeline(form)).to_contain_text("completed Success")


def save_end_state(page: Page, form: Locator, name: str) -> None:
    """The page with the form in view, and the form alone, in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    form.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / f"{name}.png")
    form.screenshot(path=ARTIFACTS / f"{name}-form.png")
