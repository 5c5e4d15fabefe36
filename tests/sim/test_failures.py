"""The trainer's view shows each attendee's latest failed call with the doctor's
explanation, escaped."""

from __future__ import annotations

import html
import time

import httpx
from support import Lab, fast_scenario_dict

from ucwa_nb.sim import paths
from ucwa_nb.sim.scenario_loader import scenario_from_dict

TRAINER = {"username": "trainer", "password": "trainer-secret-42"}
BROWSER = {"Accept": "text/html"}


def _page(sim_url: str) -> str:
    answer = httpx.get(sim_url + paths.TEMPLATES["activity"], headers=BROWSER,
                       auth=(TRAINER["username"], TRAINER["password"]), timeout=5)
    assert answer.status_code == 200
    return answer.text


def test_latest_failure_is_explained(lab: Lab) -> None:
    data = fast_scenario_dict(None)
    data["trainer"] = TRAINER
    sim = lab.start(scenario_from_dict(data))
    alice = lab.sign_in(sim)
    assert "No failed call yet." in _page(sim.base_url)
    mischief = '<img src=x onerror="alert(1)">'
    assert alice.add_phone_audio("Budget review", {
        "operationId": mischief, "to": "sip:maria@contoso.com"}).status_code == 201
    deadline = time.monotonic() + 5
    while not any(row["status"] == "Failure" for row in sim.activity()):
        assert time.monotonic() < deadline, "the call to Maria never failed"
        time.sleep(0.05)
    page = _page(sim.base_url)
    assert "Latest failure of each attendee" in page
    assert "outcome.busy" in page
    assert "phoneaudioinvitation_ref" in page
    assert "<img" not in page
    assert html.escape(mischief) in page
