"""A class on a real JupyterHub (docs/classroom.md), through the browser as its people use it.

The hub runs the simulator as its service with docs/jupyterhub_config.py (tests/browser/
jupyterhub.py starts it). Two attendees log in: each opens the quick start, runs all and
sends the form's call, which connects, signed in as their own account with no password
typed; one of them runs it all again and calls again. Neither can read the other's call nor
sign in as the other. The trainer, logged in to the hub, sees both attendees' calls in the
trainer's view; an attendee is refused there.

One test, in the order a class happens: each step needs the one before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import (
    ARTIFACTS,
    KERNEL_TIMEOUT_MS,
    NOTEBOOKS,
    UI_TIMEOUT_MS,
    Notebook,
    badge,
    button_named,
    line_with,
    see_it_connect,
)
from .jupyterhub import SPAWN_TIMEOUT_MS, JupyterHub, configurable_http_proxy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUICKSTART = "01-quickstart.ipynb"
ATTENDEES = ("ada", "ben")
DOMAIN = "contoso.com"  # the fragment's default UCWA_NB_DOMAIN


@pytest.fixture(scope="module")
def hub(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterHub]:
    # chromium first: no hub is started when the browser tests are skipped.
    running = JupyterHub(tmp_path_factory.mktemp("jupyterhub"), configurable_http_proxy())
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@contextmanager
def person(browser: Browser, name: str) -> Iterator[Page]:
    """A browser of one's own (own cookies: own hub login); a screenshot if a step fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield page
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"jupyterhub-{name}-failed.png", timeout=10_000)
        raise
    finally:
        context.close()


def open_the_quickstart(hub: JupyterHub, page: Page, name: str) -> Notebook:
    """Log in and open the quick start on one's own server (the hub gave each a copy)."""
    hub.log_in(page, name)
    expect(page).to_have_url(re.compile(rf"/user/{name}/lab"), timeout=SPAWN_TIMEOUT_MS)
    page.goto(f"{hub.url}/user/{name}/lab/tree/{QUICKSTART}", timeout=KERNEL_TIMEOUT_MS)
    expect(page.locator("#jp-main-statusbar")).to_contain_text(
        re.compile(r"\|\s*Idle"), timeout=KERNEL_TIMEOUT_MS)
    return Notebook(page, NOTEBOOKS / QUICKSTART)


def run_all_and_send(hub: JupyterHub, notebook: Notebook, name: str) -> str:
    """Restart the kernel and run all, send the form's call and see it connect; returns the
    call's URL (the 201's Location)."""
    notebook.run_all()
    form = notebook.form(notebook.cell_with("AddPhoneAudioForm(session)"))
    # Signed in as themself, with no password typed: the hub handed their server the
    # credentials (UCWA_NB_URL, UCWA_NB_USERNAME, UCWA_NB_PASSWORD).
    hub_port = hub.url.rsplit(":", 1)[1]
    expect(form).to_contain_text(f"sip:{name}@{DOMAIN} at 127.0.0.1:{hub_port} "
                                 "(from UCWA_NB_URL)")
    expect(badge(form, "ready to send")).to_be_visible()
    button_named(form, "Send").click()
    see_it_connect(form)
    location = re.search(r"Location: (\S+)", line_with(form, "201 Created").inner_text())
    assert location is not None
    assert location[1].startswith(f"{hub.service_url}/")
    return location[1]


def run_a_new_cell(page: Page, code: str) -> Locator:
    """Add a cell at the end of the open notebook, type ``code`` into it and run it, as an
    attendee trying something would; returns its output area once the kernel has run it."""
    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    count = cells.count()
    cells.last.locator(".jp-InputPrompt").click()
    page.keyboard.press("b")  # command mode: a new cell below
    expect(cells).to_have_count(count + 1)
    new = cells.nth(count)  # by index: running the last cell adds another below it
    new.locator(".jp-InputArea-editor").click()
    page.keyboard.insert_text(code)  # as pasted: no auto-closed brackets
    page.keyboard.press("Shift+Enter")
    expect(new.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]:"),
                                                        timeout=KERNEL_TIMEOUT_MS)
    return new.locator(".jp-OutputArea")


def test_a_class_on_jupyterhub(hub: JupyterHub, browser: Browser) -> None:
    with person(browser, "ada") as ada, person(browser, "ben") as ben:
        ada_notebook = open_the_quickstart(hub, ada, "ada")
        ada_call = run_all_and_send(hub, ada_notebook, "ada")
        ben_call = run_all_and_send(hub, open_the_quickstart(hub, ben, "ben"), "ben")
        # Ada runs it all again, as people do: the form's call of her last kernel is still
        # connected on the shared simulator, yet her new session (a new application, with
        # conversations of its own) calls John again.
        assert run_all_and_send(hub, ada_notebook, "ada") != ada_call

        # Ada, in her notebook, tries to read Ben's call and to sign in as Ben with the
        # password her server was given: the call is not found for her, the sign-in refused.
        output = run_a_new_cell(ada, (
            "import os\n"
            f"print('GET Ben\\'s call:', session.http_client.get({ben_call!r}).status_code)\n"
            "try:\n"
            f"    ucwa_nb.connect(username='ben@{DOMAIN}',\n"
            "                    password=os.environ['UCWA_NB_PASSWORD'])\n"
            "except ucwa_nb.SignInError as error:\n"
            "    print('sign-in as Ben:', error)\n"))
        expect(output).to_contain_text("GET Ben's call: 404")
        expect(output).to_contain_text("sign-in as Ben:")
        expect(output).to_contain_text("invalid_grant")

        # The trainer logs in to the hub and opens the trainer's view (through the hub's
        # OAuth, no password of the simulator's): a table with both attendees' calls, each
        # under its attendee.
        with person(browser, "trainer") as trainer:
            hub.log_in(trainer, "trainer", next_path="/services/ucwa-nb/_simulator/activity")
            rows = hub.activity(trainer)
        connected = {(row["user"], row["application"], row["invitation"]) for row in rows
                     if row["state"] == "Connected"}
        for name, call in (("ada", ada_call), ("ben", ben_call)):
            ids = re.search(r"/applications/([^/]+)/.*/phoneAudioInvitations/([^/]+)$", call)
            assert ids is not None, call
            assert (f"sip:{name}@{DOMAIN}", *ids.groups()) in connected, rows

        # An attendee at the trainer's view: logged in to the hub, yet refused.
        ada.goto(f"{hub.service_url}/_simulator/activity")
        expect(ada.locator("body")).to_contain_text("Only the trainers (hub group "
                                                    "ucwa-nb-trainers) see this page.")
