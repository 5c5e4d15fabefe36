"""Calling phone numbers (sim/rules/dialling.py and calls.py): outside numbers with their
behaviours, contacts by their work and mobile numbers, the dial plan's number as dialled in
the invitation, a number nobody answers to, and call forwarding to a mobile or voicemail, in
JSON and XML.

CoreCapabilities.md, "Phone audio": "The other contacts are identified by a URI including
phone number, and standard forwarding rules can be followed to reach them."
"""

from __future__ import annotations

from typing import Any

import pytest
from support import Lab, fast_scenario_dict
from support.ucwa_http import Format, Session

from ucwa_nb import Simulator
from ucwa_nb.protocol import Event, Resource
from ucwa_nb.sim import scenario_from_dict

FORMATS: list[Format] = ["json", "xml"]


def _start(session: Session, to: str, operation_id: str) -> tuple[str, Event]:
    href = session.href(session.communication(), "startPhoneAudio")
    response = session.post(href, {"to": to, "operationId": operation_id})
    assert response.status_code == 201, response.text
    assert session.collector is not None
    return response.headers["location"], session.collector.wait_completed(operation_id)


def _states(session: Session, operation_id: str) -> list[str]:
    assert session.collector is not None
    return [str(e.resource.get("state")) for e in session.collector.for_operation(operation_id)
            if e.resource is not None]


def _accepted(completed: Event) -> Resource:
    assert completed.resource is not None
    return completed.resource.embedded["acceptedByParticipant"][0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("to", ["tel:+14255550100", "tel:4255550100", "tel:(425) 555-0100",
                                "sip:+14255550100@contoso.com;user=phone",
                                "sip:4255550100@contoso.com;user=phone"])
def test_an_outside_number_answers(lab: Lab, shared_sim: Simulator, fmt: Format,
                                   to: str) -> None:
    session = lab.sign_in(shared_sim, fmt=fmt)
    location, completed = _start(session, to, "reception")
    assert completed.status == "Success"
    # The number as dialled: what the dial plan made of what was typed.
    invitation = session.resource(location)
    assert invitation.get("to") == "tel:+14255550100"
    assert completed.resource is not None
    assert completed.resource.get("to") == "tel:+14255550100"
    accepted = _accepted(completed)
    assert (accepted.get("uri"), accepted.get("name")) == ("tel:+14255550100",
                                                           "Contoso Reception")
    # The participant is there, at its own href, and joined with the number as its title.
    assert session.resource(accepted.href or "").get("uri") == "tel:+14255550100"
    assert session.collector is not None
    joined = [e for _, e in session.collector.snapshot()
              if e.link.rel == "participant" and e.type == "added"
              and e.link.href == accepted.href]
    assert joined
    assert joined[0].link.title == "Contoso Reception"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("to", "code", "subcode"), [
    ("tel:+14255550177", "RemoteFailure", "Busy"),
    ("tel:+14255550188", "RemoteFailure", "Declined"),
    ("tel:+14255550199", "Timeout", None),
    # Not in the (closed) world: nobody at that number.
    ("tel:+14255550111", "NotFound", "DestinationNotFound"),
    # Without user=phone the user part is a name, and nobody has it.
    ("sip:+14255550100@contoso.com", "NotFound", "DestinationNotFound"),
])
def test_numbers_that_do_not_connect(lab: Lab, shared_sim: Simulator, fmt: Format, to: str,
                                     code: str, subcode: str | None) -> None:
    session = lab.sign_in(shared_sim, fmt=fmt)
    _, completed = _start(session, to, "failing")
    assert completed.status == "Failure"
    assert completed.reason is not None
    assert (completed.reason.code, completed.reason.subcode) == (code, subcode)


@pytest.mark.parametrize("fmt", FORMATS)
def test_forwarded_to_a_mobile(lab: Lab, shared_sim: Simulator, fmt: Format) -> None:
    """David does not answer his desk: after his forwarding's delay the invitation is
    Forwarded (InvitationState_ref) and his mobile answers: acceptedByParticipant is not
    the target (phoneAudioInvitation_ref)."""
    session = lab.sign_in(shared_sim, fmt=fmt)
    _, completed = _start(session, "sip:david@contoso.com", "david")
    assert completed.status == "Success"
    assert _states(session, "david") == ["Connecting", "Connecting", "Alerting", "Forwarded",
                                         "Connected"]
    accepted = _accepted(completed)
    assert (accepted.get("uri"), accepted.get("name")) == ("tel:+14255550143", "David Lee")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_contact_by_work_number_and_mobile(lab: Lab, shared_sim: Simulator,
                                             fmt: Format) -> None:
    session = lab.sign_in(shared_sim, fmt=fmt)
    # His work number rings him (and his forwarding applies), his mobile rings the mobile.
    _, by_work = _start(session, "tel:4255550142", "work")
    assert _states(session, "work")[-2:] == ["Forwarded", "Connected"]
    assert _accepted(by_work).get("uri") == "tel:+14255550143"
    _, by_mobile = _start(session, "tel:+14255550143", "mobile")
    assert "Forwarded" not in _states(session, "mobile")
    assert (_accepted(by_mobile).get("uri"), _accepted(by_mobile).get("name")) == (
        "tel:+14255550143", "David Lee")


@pytest.mark.parametrize("fmt", FORMATS)
def test_forwarded_to_voicemail(lab: Lab, shared_sim: Simulator, fmt: Format) -> None:
    session = lab.sign_in(shared_sim, fmt=fmt)
    _, completed = _start(session, "tel:+14255550144", "emma")
    assert completed.status == "Success"
    assert "Forwarded" in _states(session, "emma")
    accepted = _accepted(completed)
    assert accepted.get("uri") == "sip:emma@contoso.com;opaque=app:voicemail"
    assert accepted.get("name") == "Emma Wilson (voicemail)"
    assert session.resource(accepted.href or "").get("uri") == accepted.get("uri")


def test_add_phone_audio_forwarded_makes_a_derived_conversation(lab: Lab,
                                                               shared_sim: Simulator) -> None:
    # phoneAudioInvitation_ref: addPhoneAudio answered by someone new creates a
    # derivedConversation with the new remote participant.
    session = lab.sign_in(shared_sim)
    response = session.add_phone_audio("Project sync", {"operationId": "fwd",
                                                        "to": "sip:david@contoso.com"})
    assert response.status_code == 201
    assert session.collector is not None
    assert session.collector.wait_completed("fwd").status == "Success"
    invitation = session.resource(response.headers["location"])
    derived = session.follow(invitation, "derivedConversation")
    participants = session.follow(derived, "participants").embedded["participant"]
    assert [p.get("uri") for p in participants] == ["tel:+14255550143"]


def _scenario(**contact: Any) -> Any:
    data = fast_scenario_dict()
    data["contacts"].append({"uri": "sip:olivia@contoso.com", "name": "Olivia Brown",
                             "after": 0.05, "phone": "tel:+14255550150", **contact})
    return scenario_from_dict(data)


def test_a_work_number_reaches_the_contact(lab: Lab) -> None:
    sim = lab.start(_scenario())
    session = lab.sign_in(sim)
    _, completed = _start(session, "tel:+14255550150", "olivia")
    accepted = _accepted(completed)
    assert accepted.get("uri") == "sip:olivia@contoso.com"
    assert accepted.get("workPhoneNumber") == "tel:+14255550150"


def test_forwarding_leaves_a_call_answered_in_time_alone(lab: Lab) -> None:
    sim = lab.start(_scenario(forward={"after": 5.0, "to": "voicemail"}))
    session = lab.sign_in(sim)
    _, completed = _start(session, "sip:olivia@contoso.com", "in-time")
    assert "Forwarded" not in _states(session, "in-time")
    assert _accepted(completed).get("uri") == "sip:olivia@contoso.com"


def test_forwarding_does_not_take_a_busy_call(lab: Lab) -> None:
    sim = lab.start(_scenario(behaviour="busy", forward={"after": 5.0, "to": "voicemail"}))
    session = lab.sign_in(sim)
    _, completed = _start(session, "sip:olivia@contoso.com", "busy")
    assert completed.reason is not None
    assert completed.reason.subcode == "Busy"
