"""What the links beyond add/continuePhoneAudio do: startPhoneAudio, hold/resumePhoneAudio,
the local participant (localParticipant, an invitation's from), makeMeAvailable and the
acceptedByParticipant of a call to someone new to the conversation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support import Lab
from support.ucwa_http import Format, Session, reason_of

from ucwa_nb import Simulator
from ucwa_nb.protocol import Event, Reason, Resource

JOHN = "sip:john@contoso.com"
FORMATS: list[Format] = ["json", "xml"]


def _expect(response: httpx.Response, status: int, code: str, subcode: str | None) -> Reason:
    assert response.status_code == status, response.text
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == (code, subcode)
    return reason


def _start_href(session: Session) -> str:
    return session.href(session.communication(), "startPhoneAudio")


def _connect(session: Session, subject: str = "Project sync") -> Resource:
    """A call to John on this conversation, up to Connected; returns its phoneAudio."""
    assert session.collector is not None
    response = session.add_phone_audio(subject, {"operationId": f"call-{subject}", "to": JOHN})
    assert response.status_code == 201, response.text
    assert session.collector.wait_completed(f"call-{subject}").status == "Success"
    return session.phone_audio(subject)


def _phone_audio_updates(session: Session) -> list[Resource]:
    assert session.collector is not None
    return [e.resource for _, e in session.collector.snapshot()
            if e.link.rel == "phoneAudio" and e.type == "updated" and e.resource is not None]


# ------------------------------------------------------------------------- hold / resume


@pytest.mark.parametrize("fmt", FORMATS)
def test_hold_and_resume_change_the_capabilities(lab: Lab, sim: Simulator, fmt: Format) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    phone_audio = _connect(session)
    assert phone_audio.get("state") == "Connected"
    assert set(phone_audio.links) >= {"holdPhoneAudio", "stopPhoneAudio"}
    assert "resumePhoneAudio" not in phone_audio.links
    hold = session.href(phone_audio, "holdPhoneAudio")

    seen = len(_phone_audio_updates(session))
    assert session.post(hold).status_code == 204
    session.collector.wait_for(lambda _: len(_phone_audio_updates(session)) > seen)
    held = _phone_audio_updates(session)[-1]
    # CallState has no held member: the state stays Connected, the capabilities change.
    assert held.get("state") == "Connected"
    assert "resumePhoneAudio" in held.links
    assert "holdPhoneAudio" not in held.links
    assert "stopPhoneAudio" in held.links
    assert session.phone_audio("Project sync").links.keys() == held.links.keys()
    # Holding twice is a conflict, as is resuming a call that is not held.
    _expect(session.post(hold), 409, "Conflict", None)

    seen = len(_phone_audio_updates(session))
    assert session.post(session.href(held, "resumePhoneAudio")).status_code == 204
    session.collector.wait_for(lambda _: len(_phone_audio_updates(session)) > seen)
    resumed = _phone_audio_updates(session)[-1]
    assert "holdPhoneAudio" in resumed.links
    assert "resumePhoneAudio" not in resumed.links
    _expect(session.post(session.href(held, "resumePhoneAudio")), 409, "Conflict", None)


def test_hold_needs_a_connected_call_and_stop_ends_the_hold(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    # A client that kept the href of a conversation without phone audio gets 409.
    base = session.href(session.conversation("Quick question"), "phoneAudio")
    _expect(session.post(base + "/holdPhoneAudio"), 409, "Conflict", None)
    _expect(session.post(base + "/resumePhoneAudio"), 409, "Conflict", None)

    phone_audio = _connect(session)
    assert session.post(session.href(phone_audio, "holdPhoneAudio")).status_code == 204
    assert session.post(session.href(phone_audio, "stopPhoneAudio")).status_code == 204
    stopped = session.phone_audio("Project sync")
    assert stopped.get("state") == "Disconnected"
    assert set(stopped.links) == {"conversation", "addPhoneAudio"}
    # A new call starts un-held.
    session.collector.events.clear()
    again = session.add_phone_audio("Project sync", {"operationId": "again", "to": JOHN})
    assert again.status_code == 201
    session.collector.wait_completed("again")
    assert "holdPhoneAudio" in session.phone_audio("Project sync").links


def test_hold_fault_injection(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    phone_audio = _connect(session)
    sim.inject_fault("holdPhoneAudio", "CannotRedirect")
    _expect(session.post(session.href(phone_audio, "holdPhoneAudio")), 410, "Gone",
            "CannotRedirect")
    assert session.post(session.href(phone_audio, "holdPhoneAudio")).status_code == 204


# ------------------------------------------------------------------------- startPhoneAudio


def _invitation(events: list[Event], kind: str) -> Resource:
    return next(e.resource for e in events if e.type == kind and e.resource is not None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_start_phone_audio_with_the_reference_body(lab: Lab, sim: Simulator,
                                                   fmt: Format) -> None:
    """The sample body of startPhoneAudio_ref (spaced URIs as in its JSON sample)."""
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    before = {c.href for c in session.conversations()}
    response = session.post(_start_href(session), {
        "operationId": "74cb7404e0a247d5a2d4eb0376a47dbf",
        "phoneNumber": "tel : +14255551234",
        "importance": "Urgent",
        "subject": "SkypeforBusiness",
        "threadId": "292e0aaef36c426a97757f43dda19d06",
        "to": "sip : john@contoso.com",
    })
    assert response.status_code == 201, response.text
    assert response.content == b""
    location = response.headers["location"]
    completed = session.collector.wait_completed("74cb7404e0a247d5a2d4eb0376a47dbf")
    assert completed.status == "Success"
    events = session.collector.for_operation("74cb7404e0a247d5a2d4eb0376a47dbf")
    assert events[0].type == "started"
    started = _invitation(events, "started")
    assert started.href == location
    assert (started.get("to"), started.get("phoneNumber")) == (JOHN, "tel:+14255551234")
    assert (started.get("importance"), started.get("subject")) == ("Urgent", "SkypeforBusiness")
    assert started.get("threadId") == "292e0aaef36c426a97757f43dda19d06"
    # A new peer-to-peer conversation was added, and is now connected with John in it.
    added = [e for _, e in session.collector.snapshot()
             if e.link.rel == "conversation" and e.type == "added"]
    assert len(added) == 1
    new = [c for c in session.conversations() if c.href not in before]
    assert len(new) == 1
    conversation = new[0]
    assert added[0].link.href == conversation.href
    assert conversation.get("state") == "Connected"
    assert conversation.get("subject") == "SkypeforBusiness"
    assert conversation.get("importance") == "Urgent"
    assert conversation.get("threadId") == "292e0aaef36c426a97757f43dda19d06"
    participants = session.follow(conversation, "participants")
    assert [p.get("uri") for p in participants.embedded["participant"]] == [JOHN]
    phone_audio = session.follow(conversation, "phoneAudio")
    assert phone_audio.get("state") == "Connected"
    assert "holdPhoneAudio" in phone_audio.links


def test_start_phone_audio_takes_to_from_the_query(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.post(_start_href(session) + "?to=sip:john@contoso.com",
                            {"operationId": "from-query"})
    assert response.status_code == 201, response.text
    assert session.collector.wait_completed("from-query").status == "Success"


def test_a_failed_start_ends_its_conversation(lab: Lab, sim: Simulator) -> None:
    # conversation_ref, deleted: "Delivered when the conversation resource is deleted."
    # The conversation startPhoneAudio made ends with its call: it is deleted.
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.post(_start_href(session), {"operationId": "busy",
                                                   "to": "sip:maria@contoso.com"})
    assert response.status_code == 201
    completed = session.collector.wait_completed("busy")
    assert completed.status == "Failure"
    assert completed.reason is not None
    assert (completed.reason.code, completed.reason.subcode) == ("RemoteFailure", "Busy")
    href = _invitation(session.collector.for_operation("busy"),
                       "completed").links["conversation"][0].href
    events = session.collector.wait_for(lambda got: any(
        e.type == "deleted" and e.link.href == href for _, e in got))
    deleted = [(s.rel, e.link.rel) for s, e in events if e.type == "deleted"]
    # localParticipant_ref, deleted: "Indicates that the user has left a conversation."
    assert deleted == [("conversation", "localParticipant"), ("communication", "conversation")]
    assert session.get(href).status_code == 404
    assert href not in {c.href for c in session.conversations()}
    # The invitation no longer links to a conversation that does not exist.
    assert session.resource(response.headers["location"]).link("conversation") is None


START_ERRORS: list[tuple[str, dict[str, Any], int, str, str | None, set[str]]] = [
    ("missing-to", {"operationId": "x"}, 400, "BadRequest", "ParameterValidationFailure",
     {"to"}),
    ("to-not-a-uri", {"to": "john"}, 400, "BadRequest",
     "ParameterValidationFailure", {"to"}),
    ("to-number-not-normalisable", {"to": "tel:555"}, 400, "BadRequest",
     "NormalizationFailed", set()),
    ("subject-251", {"to": JOHN, "subject": "s" * 251}, 400, "BadRequest",
     "ParameterValidationFailure", {"subject"}),
    ("importance", {"to": JOHN, "importance": "Whenever"}, 400, "BadRequest",
     "ParameterValidationFailure", {"importance"}),
    ("thread-number", {"to": JOHN, "threadId": 7}, 400, "BadRequest",
     "ParameterValidationFailure", {"threadId"}),
    ("operation-id-51", {"to": JOHN, "operationId": "o" * 51}, 400, "BadRequest",
     "ParameterValidationFailure", {"operationId"}),
    ("normalization", {"to": JOHN, "phoneNumber": "555"}, 400, "BadRequest",
     "NormalizationFailed", set()),
]


@pytest.mark.parametrize(("props", "status", "code", "subcode", "names"),
                         [case[1:] for case in START_ERRORS],
                         ids=[case[0] for case in START_ERRORS])
def test_start_phone_audio_validation(lab: Lab, shared_sim: Simulator, props: dict[str, Any],
                                      status: int, code: str, subcode: str | None,
                                      names: set[str]) -> None:
    session = lab.sign_in(shared_sim)
    reason = _expect(session.post(_start_href(session), props), status, code, subcode)
    assert set(reason.parameters) == names


def test_start_phone_audio_channel_scope_and_faults(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    _expect(session.post(_start_href(session), {"to": JOHN}), 500, "ServiceFailure",
            "CallbackChannelError")
    # The guest has neither call scope: communication offers no startPhoneAudio link, and the
    # request sent anyway (startPhoneAudio_ref: at least one of Conversations.Initiate or
    # Conversations.Receive) is refused.
    guest = lab.sign_in(sim, "guest@contoso.com")
    communication = guest.communication()
    assert communication.link("startPhoneAudio") is None
    _expect(guest.post(f"{communication.href}/startPhoneAudio", {"to": JOHN}), 403,
            "Forbidden", None)
    session.collect(sim)
    sim.inject_fault("startPhoneAudio", "TooManyGroups")
    _expect(session.post(_start_href(session), {"to": JOHN}), 409, "Conflict", "TooManyGroups")
    assert session.post(_start_href(session), {"to": JOHN}).status_code == 201


# ------------------------------------------------------------------------- participants


@pytest.mark.parametrize("fmt", FORMATS)
def test_local_participant_and_invitation_from(lab: Lab, sim: Simulator, fmt: Format) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    conversation = session.conversation("Budget review")
    local = session.follow(conversation, "localParticipant")
    assert local.get("local") is True
    assert (local.get("uri"), local.get("name")) == ("sip:alice@contoso.com", "Alice Smith")
    assert session.follow(local, "me").rel == "me"
    assert session.follow(local, "conversation").href == conversation.href
    # The participants collection holds the remote participants only (participants_ref).
    remote = session.follow(conversation, "participants").embedded["participant"]
    assert local.get("uri") not in {p.get("uri") for p in remote}

    response = session.add_phone_audio("Budget review", {"operationId": "to-john", "to": JOHN})
    assert response.status_code == 201
    completed = session.collector.wait_completed("to-john")
    invitation = session.resource(response.headers["location"])
    assert invitation.links["from"][0].href == local.href
    assert invitation.embedded["from"][0].get("uri") == "sip:alice@contoso.com"
    # John answered a conversation he was not in. phoneAudioInvitation_ref: "In the case of
    # [addPhoneAudio], the corresponding phoneAudioInvitation will cause the creation of a
    # new, related conversation ([derivedConversation]) with the new remote [participant]s."
    assert completed.resource is not None
    accepted = completed.resource.embedded["acceptedByParticipant"][0]
    assert session.resource(accepted.href or "").get("uri") == JOHN
    after = session.follow(session.conversation("Budget review"), "participants")
    assert JOHN not in {p.get("uri") for p in after.embedded["participant"]}


def test_links_to_unknown_people_are_not_shown(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "nobody",
                                                        "to": "sip:nobody@contoso.com"})
    assert response.status_code == 201
    assert session.collector.wait_completed("nobody").status == "Failure"
    invitation = session.resource(response.headers["location"])
    assert "to" not in invitation.links  # people/nobody would be a 404
    john = session.add_phone_audio("Quick question", {"operationId": "known", "to": JOHN})
    assert session.resource(john.headers["location"]).link("to") is not None


# ------------------------------------------------------------------------- makeMeAvailable


def _me(session: Session) -> Resource:
    embedded = session.application.embedded_one("me")
    assert embedded is not None
    assert embedded.href is not None
    return session.resource(embedded.href)


@pytest.mark.parametrize("fmt", FORMATS)
def test_make_me_available(lab: Lab, sim: Simulator, fmt: Format) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    href = session.href(_me(session), "makeMeAvailable")
    response = session.post(href, {"phoneNumber": "4255550100", "signInAs": "Online",
                                   "supportedModalities": ["Messaging", "PhoneAudio"]})
    assert response.status_code == 204, response.text
    communication = session.communication()
    assert communication.get("phoneNumber") == "tel:+14255550100"
    assert communication.get("supportedModalities") == ["Messaging", "PhoneAudio"]
    # Once available, the link is gone; a client that kept it gets 409 AlreadyExists.
    assert "makeMeAvailable" not in _me(session).links
    _expect(session.post(href, {}), 409, "Conflict", "AlreadyExists")
    # The number given is now the default first leg of call-via-work.
    response = session.add_phone_audio("Project sync", {"operationId": "default", "to": JOHN})
    assert session.resource(response.headers["location"]).get("phoneNumber") == \
        "tel:+14255550100"


def test_make_me_available_errors(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    href = session.href(_me(session), "makeMeAvailable")
    reason = _expect(session.post(href, {"signInAs": "Sleepy", "phoneNumber": "555"}), 400,
                     "BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == {"signInAs", "phoneNumber"}
    _expect(session.post(href, {"supportedModalities": ["Messaging", "Video"]}), 403,
            "Forbidden", None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_make_me_available_before_the_first_poll(lab: Lab, sim: Simulator,
                                                 fmt: Format) -> None:
    # GetMyPresenceInformation.md: create the application, then POST makeMeAvailable,
    # "should be 204 No content", with no event poll in between.
    session = lab.sign_in(sim, fmt=fmt, collect=False)
    href = session.href(_me(session), "makeMeAvailable")
    response = session.post(href, {"supportedModalities": ["Messaging"]})
    assert response.status_code == 204, response.text
    assert session.communication().get("supportedModalities") == ["Messaging"]


def test_make_me_available_after_the_channel_was_let_go(lab: Lab) -> None:
    # makeMeAvailable_ref's 500 CallbackChannelError: a channel that was started and then
    # abandoned for longer than callback_grace is not reachable.
    sim = lab.start(callback_grace=0.3)
    session = lab.sign_in(sim, collect=False)
    events = session.get(session.events_href, params={"timeout": 0.2})
    assert events.status_code == 200
    sim.call(lambda: sim.world.clock.advance(0.5))
    _expect(session.post(session.href(_me(session), "makeMeAvailable"), {}), 500,
            "ServiceFailure", "CallbackChannelError")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["fresh", "messaging-only", "put-unchanged", "put-empty"])
def test_start_phone_audio_does_not_depend_on_incoming_modalities(
        lab: Lab, sim: Simulator, fmt: Format, path: str) -> None:
    """supportedModalities are the incoming modalities (communication_ref,
    makeMeAvailable_ref); a call starts without makeMeAvailable (makeMeAvailable_ref). So the
    same representation means the same behaviour: every path answers 201."""
    session = lab.sign_in(sim, fmt=fmt)
    if path == "messaging-only":
        response = session.post(session.href(_me(session), "makeMeAvailable"),
                                {"supportedModalities": ["Messaging"]})
        assert response.status_code == 204, response.text
    elif path.startswith("put"):
        got = session.get(session.communication().href or "")
        body = got.content
        if path == "put-empty":
            before = session.communication()
            assert before.get("supportedModalities") == []
        response = session.client.put(
            session.communication().href or "", content=body,
            headers={"Content-Type": got.headers["content-type"],
                     "If-Match": got.headers.get("etag") or ""})
        assert response.status_code == 200, response.text
        assert session.communication().get("supportedModalities") == []
    response = session.post(_start_href(session), {"to": JOHN, "operationId": path})
    assert response.status_code == 201, response.text


def test_a_user_without_phone_audio_gets_403(lab: Lab) -> None:
    from support import fast_scenario_dict

    from ucwa_nb.sim import scenario_from_dict

    data = fast_scenario_dict()
    data["users"][0]["phone_audio"] = False
    sim = lab.start(scenario_from_dict(data))
    session = lab.sign_in(sim)
    reason = _expect(session.post(_start_href(session), {"to": JOHN}), 403, "Forbidden", None)
    assert "capabilities" in (reason.message or "")
