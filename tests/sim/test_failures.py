"""The trainer's view shows each attendee's latest failure (a failed call or a refused
operation, whichever came last) with the doctor's explanation, escaped."""

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
    assert "No failure yet." in _page(sim.base_url)
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


def test_a_refused_operation_after_a_failed_call_is_the_latest_failure(lab: Lab) -> None:
    data = fast_scenario_dict(None)
    data["trainer"] = TRAINER
    sim = lab.start(scenario_from_dict(data))
    alice = lab.sign_in(sim)
    assert alice.add_phone_audio("Budget review", {
        "operationId": "op-1", "to": "sip:maria@contoso.com"}).status_code == 201
    deadline = time.monotonic() + 5
    while not any(row["status"] == "Failure" for row in sim.activity()):
        assert time.monotonic() < deadline, "the call to Maria never failed"
        time.sleep(0.05)
    assert "outcome.busy" in _page(sim.base_url)
    # Then a callee the attendee wrote badly: the refusal is later than the busy call.
    mischief = "555<script>alert(1)</script>"
    refused = alice.add_phone_audio("Budget review", {"operationId": "op-2", "to": mischief})
    assert refused.status_code == 400
    page = _page(sim.base_url)
    failures = page.split("Latest failure of each attendee", 1)[1]
    assert "sip:alice@contoso.com: addPhoneAudio refused: 400 BadRequest" in failures
    assert "operation.parameters" in failures
    assert "outcome.busy" not in failures
    assert "<script>" not in page
    assert html.escape(mischief) in failures
    # Then a number the dial plan cannot normalise: explained with the number as sent.
    assert alice.add_phone_audio("Budget review", {
        "operationId": "op-3", "to": "tel:555"}).status_code == 400
    failures = _page(sim.base_url).split("Latest failure of each attendee", 1)[1]
    assert "operation.normalization-failed" in failures
    assert html.escape("'tel:555'") in failures
    assert "operation.parameters" not in failures
