"""Exercises checked by the server, in a real JupyterLab (issue 24): an attendee of a class
opens the quick start, does Run All, solves its two "Your turn" exercises by editing their
cells (one after a wrong attempt, which gets a hint), and the trainer's grid, fetched as the
trainer, turns green for them.

The class is a simulator of its own with a ``[trainer]``; JupyterLab's kernels get
``UCWA_NB_URL`` and the attendee's credentials, as a class on JupyterHub gives them, so the
notebook's ``connect()`` signs in to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect
from support import default_scenario_dict, wait_until

from ucwa_nb import Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.scenario_loader import scenario_from_dict

from .conftest import (
    CALL_TIMEOUT_MS,
    KERNEL_TIMEOUT_MS,
    JupyterLabPage,
    JupyterServer,
    prepare_dirs,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRAINER = ("trainer", "trainer-secret-24")
ATTENDEE = "sip:alice@contoso.com"

SOLVE_XML = ('from ucwa_nb import exercises\n'
             'call = session.add_phone_audio(session.conversations()[0],\n'
             '                               to="sip:john@contoso.com", format="xml").wait(10)\n'
             'call.stop()\n'
             'exercises.json_and_xml.check(session)\n')
HOLD_ONLY = ('call = session.add_phone_audio(session.conversations()[0],\n'
             '                               to="sip:john@contoso.com").wait(10)\n'
             'call.hold()\n'
             'exercises.hold_resume_hang_up.check(session)\n')
SOLVE_HOLD = ('call.resume()\n'
              'call.stop()\n'
              'exercises.hold_resume_hang_up.check(session)\n')


@pytest.fixture
def class_sim() -> Iterator[Simulator]:
    data = default_scenario_dict()
    data["trainer"] = {"username": TRAINER[0], "password": TRAINER[1]}
    sim = Simulator(scenario_from_dict(data))  # 127.0.0.1, a free port
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def class_lab(chromium: str, class_sim: Simulator, page: Page,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLabPage]:
    # A JupyterLab of its own: its kernels sign in to the class, as on JupyterHub.
    server = JupyterServer(prepare_dirs(tmp_path_factory.mktemp("class-lab")), env={
        "UCWA_NB_URL": class_sim.url, "UCWA_NB_USERNAME": "alice@contoso.com",
        "UCWA_NB_PASSWORD": "ucwa-demo"})
    try:
        yield JupyterLabPage(page, server, "exercises")
    finally:
        server.stop()


def grid(sim: Simulator) -> dict[str, Any]:
    """The trainer's grid, as the trainer fetches it (HTTP Basic)."""
    answer = httpx.get(sim.base_url + paths.TEMPLATES["grid"], auth=TRAINER, timeout=5)
    assert answer.status_code == 200, answer.text
    [row] = [row for row in answer.json()["attendees"] if row["user"] == ATTENDEE]
    cells: dict[str, Any] = row["exercises"]
    return cells


def edit_and_run(page: Page, cell: Locator, source: str) -> None:
    """Replace the cell's code as a person would (select all, type), then Shift+Enter."""
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)  # no auto-closed brackets or auto-indent
    expect(cell.locator(".jp-InputArea-editor")).to_contain_text(source.splitlines()[-1])
    page.keyboard.press("Shift+Enter")


def test_an_attendee_solves_two_exercises_and_the_grid_turns_green(
        class_lab: JupyterLabPage, class_sim: Simulator) -> None:
    notebook = class_lab.open("01-quickstart.ipynb")
    notebook.run_all()
    xml_cell = notebook.cell_with("exercises.json_and_xml.check(session)")
    hold_cell = notebook.cell_with("exercises.hold_resume_hang_up.check(session)")
    # Run All: the notebook's own JSON call is seen; the exercises are not done yet.
    expect(xml_cell.locator(".jp-OutputArea")).to_contain_text(
        "in JSON; now the same call in XML", timeout=KERNEL_TIMEOUT_MS)
    expect(hold_cell.locator(".jp-OutputArea")).to_contain_text("not yet")
    before = grid(class_sim)
    assert before["json_and_xml"] == {"passed": False, "tries": 1}
    assert not before["hold_resume_hang_up"]["passed"]

    edit_and_run(class_lab.page, xml_cell, SOLVE_XML)
    expect(xml_cell.locator(".jp-OutputArea")).to_contain_text(
        re.compile(r"✓ Call John in JSON, then in XML: passed"), timeout=CALL_TIMEOUT_MS)

    # A wrong attempt (hold only) gets a hint that says what the server saw.
    edit_and_run(class_lab.page, hold_cell, HOLD_ONLY)
    expect(hold_cell.locator(".jp-OutputArea")).to_contain_text(
        "The server saw holdPhoneAudio; next it expects resumePhoneAudio",
        timeout=CALL_TIMEOUT_MS)
    expect(hold_cell.locator(".jp-OutputArea")).to_contain_text("Hint:")
    edit_and_run(class_lab.page, hold_cell, SOLVE_HOLD)
    expect(hold_cell.locator(".jp-OutputArea")).to_contain_text(
        "✓ Hold, resume, hang up: passed", timeout=CALL_TIMEOUT_MS)

    wait_until(lambda: grid(class_sim)["hold_resume_hang_up"]["passed"], timeout=10,
               what="the trainer's grid shows the exercise passed")
    after = grid(class_sim)
    assert after["json_and_xml"]["passed"]
    assert after["hold_resume_hang_up"] == {"passed": True, "tries": 3}
    # On the trainer's page, the attendee's two cells are green.
    page = httpx.get(class_sim.base_url + paths.TEMPLATES["activity"], auth=TRAINER,
                     headers={"Accept": "text/html"}, timeout=5).text
    row = page[page.index(f"<th>{ATTENDEE}</th>"):]
    row = row[:row.index("</tr>")]
    assert row.count('<td class="passed">passed</td>') == 2
