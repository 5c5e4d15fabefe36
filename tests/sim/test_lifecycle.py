"""Conversation lifecycle events, the derived conversation and DELETE conversation, from the
reference pages (each test quotes the lines it checks)."""

from __future__ import annotations

from functools import partial

import pytest
from support import Lab
from support.ucwa_http import Format, Session, operation_id_of

from ucwa_nb import Simulator
from ucwa_nb.protocol import Event, Sender

JOHN = "sip:john@contoso.com"


def _summary(events: list[tuple[Sender, Event]], since: int = 0) -> list[tuple[str, str, str]]:
    return [(s.rel, e.type, e.link.rel) for s, e in events[since:]]


def _deleted(href: str | None, got: list[tuple[Sender, Event]]) -> bool:
    return any(e.type == "deleted" and e.link.href == href for _, e in got)


def _start_href(session: Session) -> str:
    return session.href(session.communication(), "startPhoneAudio")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_new_call_adds_the_conversation_and_its_participants_in_the_traces_order(
        lab: Lab, sim: Simulator, fmt: Format) -> None:
    # localParticipant_ref: added, "This event is raised when the user is first added."
    # participant_ref: added, "The application will receive this event when the participant
    # is first added to the conversation." Order as the real trace (SendAnIM): conversation
    # added, localParticipant added, the modality updated; then conversation updated,
    # participant added, the modality updated, and only then the invitation's completed.
    session = lab.sign_in(sim, fmt=fmt)
    collector = session.collector
    assert collector is not None
    before = len(collector.snapshot())
    response = session.post(_start_href(session), {"operationId": "new", "to": JOHN})
    assert response.status_code == 201, response.text
    collector.wait_completed("new")
    assert _summary(collector.snapshot(), before) == [
        ("communication", "started", "phoneAudioInvitation"),
        ("communication", "added", "conversation"),
        ("conversation", "added", "localParticipant"),
        ("conversation", "updated", "phoneAudio"),
        ("communication", "updated", "phoneAudioInvitation"),
        ("communication", "updated", "phoneAudioInvitation"),
        ("communication", "updated", "conversation"),
        ("conversation", "added", "participant"),
        ("conversation", "updated", "phoneAudio"),
        ("communication", "completed", "phoneAudioInvitation"),
    ]
    events = collector.snapshot()[before:]
    added = next(e for _, e in events if e.link.rel == "localParticipant")
    # SendAnIM: the link's rel is localParticipant, with the user's name as title; the
    # embedded copy's rel is participant.
    assert added.link.title == "Alice Smith"
    local = added.embedded["localParticipant"][0]
    assert local.rel == "participant"
    assert local.get("uri") == "sip:alice@contoso.com"
    joined = next(e for _, e in events if e.link.rel == "participant")
    assert joined.embedded["participant"][0].get("uri") == JOHN
    assert session.resource(joined.link.href).get("uri") == JOHN


def test_add_phone_audio_within_the_conversation_adds_nobody(lab: Lab, sim: Simulator) -> None:
    # John is already Project sync's participant: no participant or localParticipant added.
    session = lab.sign_in(sim)
    collector = session.collector
    assert collector is not None
    before = len(collector.snapshot())
    response = session.add_phone_audio("Project sync", {"operationId": "in", "to": JOHN})
    assert response.status_code == 201
    collector.wait_completed("in")
    assert not [k for k in _summary(collector.snapshot(), before) if k[1] == "added"]


def _derived_call(session: Session, fmt: Format) -> tuple[str, Event]:
    response = session.add_phone_audio("Budget review", {"operationId": f"d-{fmt}",
                                                         "to": JOHN})
    assert response.status_code == 201, response.text
    assert session.collector is not None
    return response.headers["location"], session.collector.wait_completed(f"d-{fmt}")


def test_add_phone_audio_to_someone_new_derives_a_conversation(lab: Lab,
                                                               sim: Simulator) -> None:
    # phoneAudioInvitation_ref: "In the case of [addPhoneAudio], the corresponding
    # phoneAudioInvitation will cause the creation of a new, related conversation
    # ([derivedConversation]) with the new remote [participant]s."
    # derivedPhoneAudio_ref: "the [phoneAudio] modality will be served from a different
    # [conversation] because the [acceptedByParticipant] is different from the current
    # remote [participant] of the conversation where [phoneAudio] was added."
    formats: tuple[Format, ...] = ("json", "xml")
    for fmt in formats:
        session = lab.sign_in(sim, fmt=fmt)
        original = session.conversation("Budget review")
        location, completed = _derived_call(session, fmt)
        assert completed.status == "Success"
        invitation = session.resource(location)
        derived = session.follow(invitation, "derivedConversation")
        assert derived.rel == "conversation"
        assert derived.href != original.href
        assert derived.get("subject") == "Budget review"
        derived_audio = session.follow(invitation, "derivedPhoneAudio")
        assert derived_audio.rel == "phoneAudio"
        assert derived_audio.get("state") == "Connected"
        assert session.follow(derived_audio, "conversation").href == derived.href
        # The original conversation is as it was: its participants, its phone audio.
        assert session.follow(invitation, "conversation").href == original.href
        assert session.follow(original, "phoneAudio").get("state") == "Disconnected"
        people = session.follow(original, "participants").embedded["participant"]
        assert JOHN not in {p.get("uri") for p in people}
        # acceptedByParticipant is a participant of the derived conversation.
        accepted = invitation.embedded["acceptedByParticipant"][0]
        assert accepted.get("uri") == JOHN
        assert (accepted.href or "").startswith((derived.href or "") + "/")
        assert session.collector is not None
        kinds = [(s.rel, e.type, e.link.rel, e.link.href)
                 for s, e in session.collector.snapshot()]
        assert ("communication", "added", "conversation", derived.href) in kinds
        # Stopping the derived call ends the derived conversation.
        assert session.post(session.href(derived_audio, "stopPhoneAudio")).status_code == 204
        session.collector.wait_for(partial(_deleted, derived.href))
        assert session.get(derived.href or "").status_code == 404
        assert session.get(session.href(invitation, "derivedConversation")).status_code == 404
        assert session.resource(location).link("derivedConversation") is None


def test_delete_conversation_leaves_it(lab: Lab, sim: Simulator) -> None:
    # conversation_ref, DELETE: "Removes the user from the communication, which ends the
    # conversation. This operation tears down all active modalities." ... "HTTP/1.1 204 No
    # Content"; deleted: "Delivered when the conversation resource is deleted."
    session = lab.sign_in(sim)
    collector = session.collector
    assert collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "talk", "to": JOHN})
    assert response.status_code == 201
    assert collector.wait_completed("talk").status == "Success"
    conversation = session.conversation("Project sync")
    assert conversation.href is not None
    before = len(collector.snapshot())
    deleted = session.client.delete(conversation.href)
    assert deleted.status_code == 204
    assert deleted.content == b""
    collector.wait_for(lambda got: any(e.type == "deleted" and e.link.rel == "conversation"
                                       for _, e in got[before:]))
    assert _summary(collector.snapshot(), before) == [
        ("conversation", "updated", "phoneAudio"),
        ("conversation", "deleted", "localParticipant"),
        ("communication", "deleted", "conversation"),
    ]
    assert session.get(conversation.href).status_code == 404
    assert "Project sync" not in {c.get("subject") for c in session.conversations()}
    assert session.client.delete(conversation.href).status_code == 404


def test_delete_conversation_cancels_a_ringing_call(lab: Lab) -> None:
    sim = lab.start(ring_timeout=30.0)
    session = lab.sign_in(sim)
    collector = session.collector
    assert collector is not None
    response = session.add_phone_audio("Quick question", {"operationId": "ring",
                                                          "to": "sip:nora@contoso.com"})
    assert response.status_code == 201
    href = session.conversation("Quick question").href or ""
    assert session.client.delete(href).status_code == 204
    completed = collector.wait_completed("ring")
    assert completed.reason is not None
    assert (completed.reason.code, completed.reason.subcode) == ("LocalFailure", "Canceled")
    assert operation_id_of(completed) == "ring"
    assert session.get(href).status_code == 404
