"""startPhoneAudio, then hold, resume and stop on the connected call, against the simulator.

The links of phoneAudio come and go with its state: hold while connected, resume while held,
stop while connecting or connected. A call acts through the link offered at that moment and
says so when there is none.
"""

from __future__ import annotations

import pytest
from support import (
    JOHN,
    NORA,
    SUCCESS_TYPES,
    WAIT,
    MakeSession,
    MakeSim,
    fast_scenario_dict,
)

import ucwa_nb
from ucwa_nb import PhoneAudioCall, Session, ValidationError
from ucwa_nb.client.operations import HOLD_PHONE_AUDIO, START_PHONE_AUDIO
from ucwa_nb.sim import scenario_from_dict


def _phone_audio_links(session: Session, call: PhoneAudioCall) -> set[str]:
    """The capability links phoneAudio offers now, read with raw calls of our own."""
    assert call.location is not None
    accept = {"Accept": "application/json"}
    invitation = ucwa_nb.parse(session.http_client.get(call.location, headers=accept).content,
                               "application/json")
    assert isinstance(invitation, ucwa_nb.protocol.Resource)
    link = invitation.link("phoneAudio")
    assert link is not None
    url = session.http_client.build_request("GET", call.location).url.join(link.href)
    phone_audio = ucwa_nb.parse(session.http_client.get(url, headers=accept).content,
                                "application/json")
    assert isinstance(phone_audio, ucwa_nb.protocol.Resource)
    return set(phone_audio.links) - {"self", "conversation"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_start_hold_resume_stop(make_session: MakeSession, fmt: str) -> None:
    session = make_session(format=fmt)
    call = session.start_phone_audio(JOHN, phone_number="tel:+14255551234",
                                     subject="From the notebook")
    assert (call.kind, call.target, call.http_status) == ("startPhoneAudio", JOHN, 201)
    assert call.wait(WAIT).status == "Success"
    assert [e.type for e in call.events] == SUCCESS_TYPES
    # a new conversation, with the subject we gave
    assert "From the notebook" in [c.subject for c in session.conversations()]
    post = session.log.filter(rel="startPhoneAudio", kind="http").iloc[0]
    assert (post.status, post.format, post.operation_id) == (201, fmt, call.operation_id)
    assert post.url.endswith("/communication/startPhoneAudio")
    body = ucwa_nb.parse_input(post.request_body.encode(), f"application/{fmt}")
    assert body == {"operationId": call.operation_id, "phoneNumber": "tel:+14255551234",
                    "subject": "From the notebook", "to": JOHN}

    assert _phone_audio_links(session, call) == {"holdPhoneAudio", "stopPhoneAudio"}
    call.hold()
    assert _phone_audio_links(session, call) == {"resumePhoneAudio", "stopPhoneAudio"}
    with pytest.raises(ValidationError, match="holdPhoneAudio is not offered now"):
        call.hold()
    call.resume()
    assert _phone_audio_links(session, call) == {"holdPhoneAudio", "stopPhoneAudio"}
    with pytest.raises(ValidationError, match="resumePhoneAudio is not offered now"):
        call.resume()
    call.stop()
    # The conversation startPhoneAudio made ends with its call (conversation_ref, deleted:
    # "Delivered when the conversation resource is deleted"): the invitation no longer
    # links to it, and there is nothing left to stop.
    assert "From the notebook" not in [c.subject for c in session.conversations()]
    with pytest.raises(ValidationError, match="stopPhoneAudio is not offered now"):
        call.stop()

    df = session.log.df
    actions = df[(df.kind == "http") & (df.method == "POST") & df.rel.isin(
        ["holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio"])]
    assert actions.rel.tolist() == ["holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio"]
    assert actions.status.tolist() == [204, 204, 204]
    assert set(actions.operation_id) == {call.operation_id}  # the log ties them to the call


def test_stop_while_connecting_cancels_the_invitation(make_sim: MakeSim,
                                                     make_session: MakeSession) -> None:
    session = make_session(make_sim(ring_timeout=5.0))
    call = session.start_phone_audio(NORA)  # Nora never answers
    call.stop()
    call.wait(WAIT)
    assert call.reason is not None
    assert (call.status, call.reason.subcode) == ("Failure", "Canceled")


def test_start_phone_audio_validates_locally(session: Session) -> None:
    with pytest.raises(ValidationError) as info:
        session.start_phone_audio("john@contoso.com", subject="x" * 251)
    assert set(info.value.problems) == {"to", "subject"}
    assert session.log.filter(rel="startPhoneAudio").empty  # nothing was sent
    with pytest.raises(ucwa_nb.UcwaError) as sent:
        session.start_phone_audio("john@contoso.com", validate=False)
    error = sent.value
    assert (error.status, error.subcode) == (400, "ParameterValidationFailure")
    assert "to" in error.parameters


def test_start_phone_audio_after_make_me_available_for_messaging_only(
        session: Session) -> None:
    # supportedModalities are the incoming modalities (communication_ref): made available
    # for Messaging only, the user still starts a phone call (makeMeAvailable_ref).
    me = session.me
    assert me is not None
    link = me.link("makeMeAvailable")
    assert link is not None
    assert session.application_url is not None
    url = session.http_client.build_request("GET", session.application_url).url.join(link.href)
    answer = session.http_client.post(url, json={"supportedModalities": ["Messaging"]},
                                      headers={"Accept": "application/json"})
    assert answer.status_code == 204
    call = session.start_phone_audio(JOHN)
    assert call.http_status == 201
    assert call.wait(timeout=5).status == "Success"


def test_start_phone_audio_forbidden_without_the_capability(
        make_sim: MakeSim, make_session: MakeSession) -> None:
    # startPhoneAudio_ref: 403 "Phone audio is not listed in the capabilities", for a user
    # whose policies leave phone audio out (the scenario's phone_audio = false).
    data = fast_scenario_dict()
    data["users"][0]["phone_audio"] = False
    session = make_session(make_sim(scenario_from_dict(data)))
    with pytest.raises(ucwa_nb.UcwaError) as refused:
        session.start_phone_audio(JOHN)
    assert (refused.value.status, refused.value.code) == (403, "Forbidden")
    assert session.calls == []


def test_start_phone_audio_calls_a_number(session: Session) -> None:
    call = session.start_phone_audio("tel:(425) 555-0100")
    assert call.wait(timeout=5).status == "Success"
    assert call.target == "tel:(425) 555-0100"  # as the caller wrote it


def test_offered_link_and_draft_use_the_one_definition(session: Session) -> None:
    url = session.offered_link(START_PHONE_AUDIO)
    assert url is not None
    assert url.endswith("/communication/startPhoneAudio")
    drafted = session.draft(START_PHONE_AUDIO, url, to=JOHN, operation_id="op-7")
    prepared = session.prepare_start_phone_audio(JOHN, operation_id="op-7")
    assert (drafted.url, drafted.body, drafted.problems) == \
        (prepared.url, prepared.body, prepared.problems)
    conversation = session.conversations()[0]
    assert session.offered_link(HOLD_PHONE_AUDIO, conversation) is None  # not connected


def test_a_call_answered_in_a_derived_conversation_is_acted_on_there(
        make_session: MakeSession) -> None:
    # derivedPhoneAudio_ref: "the [phoneAudio] modality will be served from a different
    # [conversation] because the [acceptedByParticipant] is different from the current remote
    # [participant] of the conversation where [phoneAudio] was added."
    session = make_session()
    budget = {c.subject: c for c in session.conversations()}["Budget review"]
    call = session.add_phone_audio(budget, to=JOHN)
    assert call.wait(WAIT).status == "Success"
    call.hold()
    call.resume()
    call.stop()
    with pytest.raises(ValidationError, match="stopPhoneAudio is not offered now"):
        call.stop()


def test_the_generic_path_prepares_and_performs_any_operation(session: Session) -> None:
    # Session.prepare/perform take a definition or its rel; the named methods wrap them.
    conversation = session.conversations()[0]
    generic = session.prepare("addPhoneAudio", conversation, to=JOHN, operation_id="op-1")
    named = session.prepare_add_phone_audio(conversation, JOHN, operation_id="op-1")
    assert (generic.url, generic.body, generic.target) == (named.url, named.body, JOHN)
    with pytest.raises(TypeError, match="reached from conversationLog, not from Conversation"):
        session.prepare("continuePhoneAudio", conversation)
    with pytest.raises(TypeError, match=r"acts on a call: call.perform\('holdPhoneAudio'\)"):
        session.prepare("holdPhoneAudio")
    with pytest.raises(TypeError, match="addPhoneAudio got unexpected input subject"):
        session.prepare("addPhoneAudio", conversation, to=JOHN, subject="x")
    call = session.perform(START_PHONE_AUDIO, to=JOHN, subject="Generic")
    assert call.wait(WAIT).status == "Success"
    assert set(call.offered_operations()) == {"holdPhoneAudio", "stopPhoneAudio"}
    call.perform("holdPhoneAudio")
    assert set(call.offered_operations()) == {"resumePhoneAudio", "stopPhoneAudio"}
    call.perform("stopPhoneAudio")
    assert call.offered_operations() == ()
