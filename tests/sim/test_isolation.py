"""Isolation between users: one user's token never reaches another user's application, and
no event channel carries anybody else's events."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx
import pytest
from support import Lab, fast_scenario_dict
from support.ucwa_http import Session, is_parked, operation_id_of, reason_of, with_params

from ucwa_nb import Simulator
from ucwa_nb.sim.scenario_loader import scenario_from_dict

JOHN = "sip:john@contoso.com"


def _as(other: Session, method: str, href: str, **kwargs: Any) -> httpx.Response:
    """A request to ``href`` carrying ``other``'s token."""
    return other.client.request(method, href, **kwargs)


def _application_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == ("NotFound", "ApplicationNotFound")


def test_another_users_token_gets_404_application_not_found(lab: Lab, sim: Simulator) -> None:
    alice = lab.sign_in(sim)
    bob = lab.sign_in(sim, "bob@contoso.com")
    assert alice.collector is not None
    conversation = alice.conversation("Project sync")
    add_href = alice.href(alice.follow(conversation, "phoneAudio"), "addPhoneAudio")
    log_href = alice.href(alice.conversation_log("Weekly one-to-one"), "continuePhoneAudio")
    response = alice.post(add_href, {"operationId": "alice-1", "to": JOHN})
    assert response.status_code == 201
    location = response.headers["location"]
    alice.collector.wait_completed("alice-1")

    for method, href, body in [
        ("GET", alice.app_href, None),
        ("GET", alice.communication().href or "", None),
        ("GET", conversation.href or "", None),
        ("GET", location, None),
        ("POST", add_href, {"to": JOHN}),
        ("POST", log_href, {}),
        ("POST", location + "/cancel", None),
        ("DELETE", alice.app_href, None),
        ("GET", with_params(alice.events_href, timeout=0.2), None),
    ]:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"json": body}
        _application_not_found(_as(bob, method, href, **kwargs))

    # Nothing bob did reached alice: her application, her parked poll and her call are intact.
    assert alice.get(alice.app_href).status_code == 200
    assert is_parked(sim, alice)
    assert alice.collector.ended_with is None
    assert alice.resource(location).get("state") == "Connected"
    assert [e.type for e in alice.collector.for_operation("alice-1")][-1] == "completed"


def test_the_same_conversation_ids_are_separate_worlds(lab: Lab, sim: Simulator) -> None:
    alice = lab.sign_in(sim)
    bob = lab.sign_in(sim, "bob@contoso.com")
    assert alice.collector is not None
    alice_conversation = alice.conversation("Project sync")
    bob_conversation = bob.conversation("Hand-over")
    # Both are conversation 1 of their own user, under different applications.
    assert alice_conversation.href != bob_conversation.href
    assert alice.add_phone_audio("Project sync", {"operationId": "a",
                                                  "to": JOHN}).status_code == 201
    assert alice.collector.wait_completed("a").status == "Success"
    assert bob.phone_audio("Hand-over").get("state") == "Disconnected"
    assert [c.get("subject") for c in bob.conversations()] == ["Hand-over"]
    assert "Hand-over" not in [c.get("subject") for c in alice.conversations()]


def test_event_channels_carry_only_their_own_users_events(lab: Lab, sim: Simulator) -> None:
    alice = lab.sign_in(sim)
    bob = lab.sign_in(sim, "bob@contoso.com")
    assert alice.collector is not None
    assert bob.collector is not None
    assert alice.add_phone_audio("Project sync", {"operationId": "alice-op",
                                                  "to": JOHN}).status_code == 201
    assert alice.continue_phone_audio("Supplier call",
                                      {"operationId": "alice-log"}).status_code == 201
    assert bob.add_phone_audio("Hand-over", {"operationId": "bob-op",
                                             "to": "sip:maria@contoso.com"}).status_code == 201
    alice.collector.wait_completed("alice-op")
    alice.collector.wait_completed("alice-log")
    bob.collector.wait_completed("bob-op")

    for session, own in ((alice, {"alice-op", "alice-log"}), (bob, {"bob-op"})):
        assert session.collector is not None
        events = session.collector.snapshot()
        assert events
        for sender, event in events:
            assert sender.href.startswith(session.app_href + "/")
            assert event.link.href.startswith(session.app_href + "/")
            operation = operation_id_of(event) if event.link.rel == "phoneAudioInvitation" \
                else None
            assert operation is None or operation in own
        seen = {operation_id_of(e) for _, e in events if e.link.rel == "phoneAudioInvitation"}
        assert seen == own


def test_a_second_application_of_the_same_user_has_conversations_of_its_own(
        lab: Lab, sim: Simulator) -> None:
    first = lab.sign_in(sim)
    second = lab.sign_in(sim)
    assert first.collector is not None
    assert second.collector is not None
    assert first.app_href != second.app_href
    assert first.add_phone_audio("Project sync", {"operationId": "mine",
                                                  "to": JOHN}).status_code == 201
    first.collector.wait_completed("mine")

    # Each application is one of her devices, with conversations of its own
    # (ApplicationDashboard: "a single application on one of a user's devices"): the second
    # hears nothing of the first's call, and its own "Project sync" is free to call from.
    assert second.collector.snapshot() == []
    phone_audio = second.phone_audio("Project sync")
    assert phone_audio.get("state") == "Disconnected"
    assert "addPhoneAudio" in phone_audio.links
    # The invitation's Location is not reachable through the second application either.
    location_id = first.collector.for_operation("mine")[0].link.href.rsplit("/", 1)[1]
    assert second.get(f"{second.app_href}/communication/phoneAudioInvitations/{location_id}"
                      ).status_code == 404


def test_applications_of_other_users_cannot_be_found_by_guessing(lab: Lab,
                                                                 sim: Simulator) -> None:
    alice = lab.sign_in(sim, collect=False)
    bob = lab.sign_in(sim, "bob@contoso.com", collect=False)
    # Application ids are small integers; bob tries his neighbour's number.
    alice_id = alice.app_href.rsplit("/", 1)[1]
    guessed = bob.app_href.rsplit("/", 1)[0] + "/" + alice_id
    assert guessed == alice.app_href
    _application_not_found(bob.get(guessed))
    _application_not_found(bob.get(guessed + "/communication/conversations"))


@pytest.mark.parametrize("attendees", [6])
def test_many_users_at_once_each_see_only_their_own_call(lab: Lab, attendees: int) -> None:
    data = fast_scenario_dict()
    data["classroom"] = {"attendees": attendees}
    sim = lab.start(scenario_from_dict(data))
    users = [f"attendee{n:02d}@contoso.com" for n in range(1, attendees + 1)]
    sessions = [lab.sign_in(sim, user, fmt="xml" if n % 2 else "json",
                            password=_password(sim, user))
                for n, user in enumerate(users, start=1)]

    def call(session: Session) -> str:
        operation_id = "op-" + session.app_href.rsplit("/", 1)[1]
        response = session.add_phone_audio("Class exercise",
                                           {"operationId": operation_id, "to": JOHN})
        assert response.status_code == 201, response.text
        assert session.collector is not None
        assert session.collector.wait_completed(operation_id).status == "Success"
        return operation_id

    with concurrent.futures.ThreadPoolExecutor(max_workers=attendees) as pool:
        operation_ids = list(pool.map(call, sessions, timeout=30))
    assert len(set(operation_ids)) == attendees
    for session, operation_id in zip(sessions, operation_ids, strict=True):
        assert session.collector is not None
        seen = {operation_id_of(e) for _, e in session.collector.snapshot()
                if e.link.rel == "phoneAudioInvitation"}
        assert seen == {operation_id}


def _password(sim: Simulator, user: str) -> str:
    spec = sim.scenario.user(user)
    assert spec is not None
    return spec.password
