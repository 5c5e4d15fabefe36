"""The trainer's exercises grid (sim/progress_grid.py and its routes in
sim/routes/simulator.py): attendees by exercises, behind the trainer's gate, as the page's
table, JSON and CSV, escaped and with formula cells neutralised."""

from __future__ import annotations

import csv
import io

import httpx
from support import JOHN, Lab, fast_scenario_dict
from support.transports import bearer_token

import ucwa_nb
from ucwa_nb.protocol.exercises import EXERCISES, PROGRESS_PATH
from ucwa_nb.sim import paths
from ucwa_nb.sim.progress_grid import grid_csv, grid_html
from ucwa_nb.sim.scenario_loader import scenario_from_dict

TRAINER = ("trainer", "trainer-secret-42")


def test_the_grid_turns_green_when_an_attendee_passes(lab: Lab) -> None:
    data = fast_scenario_dict()
    data["trainer"] = {"username": TRAINER[0], "password": TRAINER[1]}
    sim = lab.start(scenario_from_dict(data))
    session = lab.connect(sim=sim)
    grid_url = sim.base_url + paths.TEMPLATES["grid"]
    csv_url = sim.base_url + paths.TEMPLATES["gridCsv"]
    page_url = sim.base_url + paths.TEMPLATES["activity"]
    # Only the trainer: not anonymous, not an attendee's token.
    assert httpx.get(grid_url, timeout=5).status_code == 401
    attendee = {"Authorization": f"Bearer {bearer_token(session)}"}
    assert httpx.get(csv_url, headers=attendee, timeout=5).status_code == 401

    before = httpx.get(grid_url, auth=TRAINER, timeout=5).json()
    assert before["exercises"] == [spec.id for spec in EXERCISES]
    [alice] = before["attendees"]
    assert alice["user"] == "sip:alice@contoso.com"
    assert not any(cell["passed"] for cell in alice["exercises"].values())

    call = session.add_phone_audio(session.conversations()[0], to=JOHN).wait(10)
    call.hold()
    call.resume()
    call.stop()
    httpx.post(sim.base_url + PROGRESS_PATH + "/json_and_xml", headers=attendee, timeout=5)

    [alice] = httpx.get(grid_url, auth=TRAINER, timeout=5).json()["attendees"]
    assert alice["exercises"]["hold_resume_hang_up"] == {"passed": True, "tries": 0}
    assert alice["exercises"]["json_and_xml"] == {"passed": False, "tries": 1}
    assert sim.exercises() == [alice]

    page = httpx.get(page_url, auth=TRAINER, headers={"Accept": "text/html"}, timeout=5)
    assert '<td class="passed">passed</td>' in page.text
    assert '<td class="tried">1 try</td>' in page.text
    download = httpx.get(csv_url, auth=TRAINER, timeout=5)
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["attendee", *(spec.id for spec in EXERCISES)]
    assert rows[1][0] == "sip:alice@contoso.com"
    assert rows[1][1 + [s.id for s in EXERCISES].index("hold_resume_hang_up")] == "passed"


def test_cells_are_escaped_and_formulas_neutralised() -> None:
    cells = {spec.id: {"passed": False, "tries": 0} for spec in EXERCISES}
    rows = [{"user": user, "exercises": cells}
            for user in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx",
                         "<script>alert(1)</script>", "sip:ok@contoso.com")]
    written = list(csv.reader(io.StringIO(grid_csv(rows))))
    users = [row[0] for row in written[1:]]
    assert all(user.startswith("'") for user in users[:6])
    assert users[6:] == ["<script>alert(1)</script>", "sip:ok@contoso.com"]
    page = grid_html(rows)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_the_embedded_simulator_has_no_trainer_but_python_sees_the_grid(lab: Lab) -> None:
    sim = lab.start()
    lab.connect(sim=sim)
    assert httpx.get(sim.base_url + paths.TEMPLATES["grid"], auth=TRAINER,
                     timeout=5).status_code == 401
    [row] = sim.exercises()
    assert row["user"] == "sip:alice@contoso.com"
    assert isinstance(ucwa_nb.Simulator, type)
