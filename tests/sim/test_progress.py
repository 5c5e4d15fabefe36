"""The server's record of each user (sim/rules/progress.py) and the attendee's own progress
resource (sim/routes/progress.py): what is recorded, bounded, and seen only by its user."""

from __future__ import annotations

import httpx
import pytest
from support import ALICE, JOHN, Lab, MakeSession, wait_until
from support.transports import bearer_token

from ucwa_nb import Session, Simulator, UcwaError
from ucwa_nb.protocol.exercises import EXERCISES, PROGRESS_PATH
from ucwa_nb.sim.rules.progress import MAX_STEPS, Progress
from ucwa_nb.sim.scenarios import default
from ucwa_nb.sim.state import UserState

BOB = ("bob@contoso.com", "ucwa-demo-bob")


def get_progress(sim: Simulator, session: Session) -> httpx.Response:
    return httpx.get(sim.base_url + PROGRESS_PATH, timeout=5,
                     headers={"Authorization": f"Bearer {bearer_token(session)}"})


def steps_of(sim: Simulator, session: Session) -> list[dict[str, object]]:
    response = get_progress(sim, session)
    assert response.status_code == 200, response.text
    steps: list[dict[str, object]] = response.json()["steps"]
    return steps


def test_operations_and_outcomes_are_recorded_as_the_server_saw_them(
        sim: Simulator, session: Session) -> None:
    conversation = session.conversations()[0]
    call = session.add_phone_audio(conversation, to=JOHN, format="xml").wait(10)
    wait_until(lambda: any(s["kind"] == "outcome" for s in steps_of(sim, session)),
               what="the outcome in the record")
    steps = steps_of(sim, session)
    placed, done = steps[0], next(s for s in steps if s["kind"] == "outcome")
    assert (placed["rel"], placed["format"], placed["status"], placed["to"]) == \
        ("addPhoneAudio", "xml", 201, JOHN)
    assert done["invitation"] == placed["invitation"] == str(call.location).rsplit("/", 1)[-1]
    assert (done["outcome"], done["to"]) == ("Success", JOHN)
    call.stop()
    wait_until(lambda: steps_of(sim, session)[-1]["rel"] == "stopPhoneAudio")
    body = get_progress(sim, session).json()
    assert body["simulator"] == "ucwa-nb"
    assert body["user"] == "sip:alice@contoso.com"
    assert [e["id"] for e in body["exercises"]] == [spec.id for spec in EXERCISES]


def test_an_error_answer_is_recorded_with_its_subcode(sim: Simulator, session: Session
                                                      ) -> None:
    with pytest.raises(UcwaError, match="NormalizationFailed"):
        session.add_phone_audio(session.conversations()[1], to="sip:maria@contoso.com",
                                phone_number="4411", validate=False)
    last = steps_of(sim, session)[-1]
    assert (last["status"], last["code"], last["subcode"]) == \
        (400, "BadRequest", "NormalizationFailed")


def test_each_attendee_sees_only_their_own_record(sim: Simulator,
                                                  make_session: MakeSession) -> None:
    alice = make_session(sim, user=ALICE)
    bob = make_session(sim, user=BOB)
    alice.add_phone_audio(alice.conversations()[0], to=JOHN).wait(10)
    assert steps_of(sim, alice)
    assert steps_of(sim, bob) == []
    assert get_progress(sim, bob).json()["user"] == "sip:bob@contoso.com"


def test_without_a_token_the_challenge_and_unknown_exercises_are_404(
        sim: Simulator, session: Session) -> None:
    assert httpx.get(sim.base_url + PROGRESS_PATH, timeout=5).status_code == 401
    auth = {"Authorization": f"Bearer {bearer_token(session)}"}
    missing = httpx.post(sim.base_url + PROGRESS_PATH + "/no_such", headers=auth, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["code"] == "NotFound"
    too_long = httpx.post(sim.base_url + PROGRESS_PATH + "/find_failure_cause", headers=auth,
                          json={"answer": "x" * 101}, timeout=5)
    assert too_long.status_code == 400
    assert too_long.json()["subcode"] == "ParameterValidationFailure"
    junk = httpx.post(sim.base_url + PROGRESS_PATH + "/find_failure_cause", headers=auth,
                      content=b"[1, 2", timeout=5)
    assert junk.status_code == 400


def test_a_resync_then_its_follow_are_recorded(lab: Lab) -> None:
    sim = lab.start()
    raw = lab.sign_in(sim, collect=False)
    events = raw.href(raw.application, "events")
    resync = raw.get(events, params={"ack": 99})
    href = resync.json()["_links"]["resync"]["href"]
    raw.get(href, params={"timeout": 1})
    auth = {"Authorization": f"Bearer {raw.token}"}
    steps = httpx.get(sim.base_url + PROGRESS_PATH, headers=auth, timeout=5).json()["steps"]
    assert [s["kind"] for s in steps] == ["resync", "resync_followed"]


def test_the_record_is_bounded_per_user() -> None:
    progress = Progress()
    user = UserState(default().users[0])
    for _ in range(MAX_STEPS + 50):
        progress.operation(user, "holdPhoneAudio", format=None, status=204, to="x" * 10_000)
    steps = progress.of(user).steps
    assert len(steps) == MAX_STEPS
    assert all(len(step.to or "") <= 256 for step in steps)
    assert progress.count_try(user, "json_and_xml") == 1
    assert progress.count_try(user, "json_and_xml") == 2
