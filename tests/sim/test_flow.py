"""The whole flow, in JSON and in XML: sign-in, navigation by link rels, both operations, the
seed pages' exact request bodies, every asynchronous outcome, cancel and stopPhoneAudio."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from shared_data import require_shared
from support import Lab, fast_scenario
from support.ucwa_http import (
    ACCEPT,
    Format,
    Session,
    body_of,
    new_client,
    reason_of,
    resource_of,
    token_url_from_challenge,
    with_params,
)

from ucwa_nb import Simulator
from ucwa_nb.protocol import Event, Resource, build_input

FORMATS: list[Format] = ["json", "xml"]
SEEDS = "seeds"  # ../shared/seeds: the reference pages the seed bodies were copied from
ADD_SEED = "000_c0e150084e657986.txt"
CONTINUE_SEED = "003_eb6f2282095ec049.txt"

# The request bodies of the two seed pages, HTML entities decoded, exactly as printed (only
# the code fence's trailing blank line dropped). test_seed_bodies_match_the_seed_pages checks
# them against the pages.
SEED_BODIES: dict[tuple[str, str], tuple[str, bytes]] = {
    (ADD_SEED, "json"): ("application/json", (
        b'{\n"operationId" : "74cb7404e0a247d5a2d4eb0376a47dbf",\n'
        b'"phoneNumber" : "tel:+14255551234",\n"to" : "sip:john@contoso.com"\n}')),
    (ADD_SEED, "xml"): ("application/xml", (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">\n'
        b'<property name="operationId">74cb7404e0a247d5a2d4eb0376a47dbf</property>\n'
        b'<property name="phoneNumber">tel:+14255551234</property>\n'
        b'<property name="to">sip:john@contoso.com</property>\n</input>')),
    (CONTINUE_SEED, "json"): ("application/json", (
        b'{\n  "operationId" : "74cb7404e0a247d5a2d4eb0376a47dbf",\n'
        b'  "phoneNumber" : "tel : +14255551234"\n}')),
    (CONTINUE_SEED, "xml"): ("application/xml", (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">\n'
        b'  <property name="operationId">74cb7404e0a247d5a2d4eb0376a47dbf</property>\n'
        b'  <property name="phoneNumber">tel:+14255551234</property>\n</input>')),
}
SEED_OPERATION_ID = "74cb7404e0a247d5a2d4eb0376a47dbf"


def _seed_requests(name: str) -> dict[str, tuple[str, bytes]]:
    """The JSON and XML request samples of a seed page: Content-Type and body."""
    text = html.unescape(require_shared(f"{SEEDS}/{name}").read_text("utf-8"))
    found: dict[str, tuple[str, bytes]] = {}
    for match in re.finditer(r"#### (JSON|XML) Request\s*```\n(.*?)```", text, re.S):
        lines = match.group(2).split("\n")
        content_type = next(line.split(":", 1)[1].strip() for line in lines
                            if line.lower().startswith("content-type:"))
        start = next(i for i, line in enumerate(lines)
                     if line.lower().startswith("content-length:")) + 1
        found[match.group(1).lower()] = (content_type, "\n".join(lines[start:]).rstrip()
                                         .encode())
    return found


def _invitation_events(session: Session, operation_id: str) -> list[Event]:
    assert session.collector is not None
    return session.collector.for_operation(operation_id)


def _summary(events: list[Event]) -> list[tuple[str, Any]]:
    return [(e.type, e.resource.get("state") if e.resource else None) for e in events]


def _check_content_type(response: httpx.Response, fmt: Format) -> None:
    assert response.headers["content-type"].split(";")[0] == ACCEPT[fmt]
    if fmt == "xml":
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    else:
        assert response.content.startswith(b"{")


# ------------------------------------------------------------------------- sign-in


@pytest.mark.parametrize("fmt", FORMATS)
def test_sign_in_step_by_step(sim: Simulator, fmt: Format) -> None:
    with new_client(sim.base_url, fmt) as client:
        root_response = client.get(sim.url)
        assert root_response.status_code == 200
        _check_content_type(root_response, fmt)
        root = resource_of(root_response)
        assert root.rel == "root"
        assert {"user", "xframe"} <= set(root.links)
        user_href = Session.href(root, "user")

        challenge = client.get(user_href)
        assert challenge.status_code == 401
        assert challenge.headers["content-type"].startswith("text/html")
        headers = challenge.headers.get_list("www-authenticate")
        assert len(headers) == 2
        assert headers[0].startswith("Bearer ")
        assert "trusted_issuers=" in headers[0]
        assert headers[1].startswith("MsRtcOAuth ")
        token_url, grants = token_url_from_challenge(challenge)
        assert "password" in grants
        assert token_url.startswith(sim.base_url)

        # A made-up token gets the same challenge.
        bogus = client.get(user_href, headers={"Authorization": "Bearer cwt=forged"})
        assert bogus.status_code == 401
        assert len(bogus.headers.get_list("www-authenticate")) == 2

        token_response = client.post(token_url, data={
            "grant_type": "password", "username": "alice@contoso.com",
            "password": "ucwa-demo"})
        assert token_response.status_code == 200
        assert token_response.headers["cache-control"] == "no-store"
        assert token_response.headers["pragma"] == "no-cache"
        token = token_response.json()
        assert token["token_type"] == "Bearer"
        assert token["access_token"].startswith("cwt=")
        assert isinstance(token["expires_in"], int)
        auth = {"Authorization": f"Bearer {token['access_token']}"}

        user = resource_of(client.get(user_href, headers=auth))
        assert user.rel == "user"
        applications = Session.href(user, "applications")

        # PascalCase keys, as the walkthroughs send them.
        body = build_input({"UserAgent": "tests", "EndpointId": "e-1", "Culture": "en-US"}, fmt)
        ctype = {"Content-Type": "application/json" if fmt == "json" else "application/xml"}
        created = client.post(applications, content=body, headers={**auth, **ctype})
        assert created.status_code == 201
        _check_content_type(created, fmt)
        assert created.headers.get("etag")
        app = body_of(created)
        assert isinstance(app, Resource)
        assert app.rel == "application"
        assert app.get("userAgent") == "tests"
        assert app.get("culture") == "en-US"
        events_href = Session.href(app, "events")
        assert httpx.URL(events_href).params.get("ack") == "1"
        assert set(app.embedded) >= {"me", "people", "onlineMeetings", "communication"}
        me = app.embedded_one("me")
        assert me is not None
        assert me.get("uri") == "sip:alice@contoso.com"
        communication = app.embedded_one("communication")
        assert communication is not None
        assert {"conversations", "conversationLogs"} <= set(communication.links)

        # The same endpoint and user agent again: the existing application, 200.
        again = client.post(applications, content=body, headers={**auth, **ctype})
        assert again.status_code == 200
        assert resource_of(again).href == app.href
        # The application is reachable with the token, and not without.
        assert client.get(app.href or "", headers=auth).status_code == 200
        assert client.get(app.href or "").status_code == 401


def test_applications_post_validates_its_fields(lab: Lab, shared_sim: Simulator) -> None:
    session = lab.sign_in(shared_sim, collect=False)
    applications = Session.href(session.user, "applications")
    response = session.post(applications, {"userAgent": "", "culture": "x" * 101})
    assert response.status_code == 400
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == ("BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == {"userAgent", "endpointId", "culture"}


# ------------------------------------------------------------------------- whole flow


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_flow(lab: Lab, sim: Simulator, fmt: Format) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    collector = session.collector
    assert collector is not None

    communication_response = session.get(session.communication().href or "")
    _check_content_type(communication_response, fmt)
    communication = resource_of(communication_response)
    listing = session.follow(communication, "conversations")
    assert len(listing.links["conversation"]) == 3
    conversation = session.conversation("Project sync")
    assert conversation.get("state") == "Connected"
    phone_audio = session.follow(conversation, "phoneAudio")
    assert phone_audio.rel == "phoneAudio"
    assert phone_audio.get("state") == "Disconnected"
    assert phone_audio.link("addPhoneAudio") is not None
    assert phone_audio.link("stopPhoneAudio") is None

    # --- addPhoneAudio
    response = session.post(session.href(phone_audio, "addPhoneAudio"), {
        "operationId": f"add-{fmt}", "phoneNumber": "tel:+14255551234",
        "to": "sip:john@contoso.com"})
    assert response.status_code == 201, response.text
    assert response.content == b""
    location = response.headers["location"]
    completed = collector.wait_completed(f"add-{fmt}")
    assert completed.status == "Success"
    assert completed.reason is None
    events = _invitation_events(session, f"add-{fmt}")
    assert _summary(events) == [("started", "Connecting"), ("updated", "Connecting"),
                                ("updated", "Alerting"), ("completed", "Connected")]
    for event in events:
        assert event.link.href == location
        assert event.resource is not None
        assert event.resource.href == location
        assert event.resource.get("operationId") == f"add-{fmt}"
        assert event.resource.get("direction") == "Outgoing"
        assert event.resource.get("to") == "sip:john@contoso.com"
        assert event.resource.get("phoneNumber") == "tel:+14255551234"
    assert completed.resource is not None
    accepted = completed.resource.embedded["acceptedByParticipant"]
    assert [p.get("uri") for p in accepted] == ["sip:john@contoso.com"]
    assert [p.rel for p in accepted] == ["participant"]
    senders = {(s.rel, e.link.rel) for s, e in collector.snapshot()}
    assert ("communication", "phoneAudioInvitation") in senders
    assert ("communication", "conversation") in senders
    assert ("conversation", "phoneAudio") in senders
    phone_audio_states = [e.resource.get("state") for s, e in collector.snapshot()
                          if e.link.rel == "phoneAudio" and e.resource is not None]
    assert phone_audio_states[0] == "Connecting"
    assert phone_audio_states[-1] == "Connected"

    invitation_response = session.get(location)
    _check_content_type(invitation_response, fmt)
    invitation = resource_of(invitation_response)
    assert invitation.rel == "phoneAudioInvitation"
    assert invitation.get("state") == "Connected"
    assert invitation.get("operationId") == f"add-{fmt}"
    assert invitation.link("cancel") is None
    assert invitation.embedded_one("acceptedByParticipant") is not None
    phone_audio = session.resource(session.href(invitation, "phoneAudio"))
    assert phone_audio.get("state") == "Connected"
    assert phone_audio.link("addPhoneAudio") is None
    assert phone_audio.link("stopPhoneAudio") is not None
    conversation = session.follow(phone_audio, "conversation")
    # ConversationModalityType (what activeModalities holds) has no PhoneAudio member.
    assert "PhoneAudio" not in conversation.get("activeModalities")

    # --- continuePhoneAudio
    logs = session.conversation_logs()
    assert [log.get("subject") for log in logs] == [
        "Weekly one-to-one", "Supplier call", "Design chat"]  # newest first
    log = logs[0]
    assert log.get("type") == "AudioLog"
    recipients = log.embedded["conversationLogRecipient"]
    assert [r.get("sipUri") for r in recipients] == ["sip:john@contoso.com"]
    response = session.post(session.href(log, "continuePhoneAudio"), {
        "operationId": f"continue-{fmt}", "phoneNumber": "4255551234"})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    completed = collector.wait_completed(f"continue-{fmt}")
    assert completed.status == "Success"
    assert completed.resource is not None
    assert completed.resource.get("to") == "sip:john@contoso.com"  # from the log
    assert completed.resource.get("phoneNumber") == "tel:+14255551234"  # normalised
    assert completed.resource.get("threadId") == log.get("threadId")
    assert [e.type for e in _invitation_events(session, f"continue-{fmt}")] == [
        "started", "updated", "updated", "completed"]
    added = [e for _, e in collector.snapshot()
             if e.type == "added" and e.link.rel == "conversation"]
    assert len(added) == 1
    new_conversation = session.resource(added[0].link.href)
    assert new_conversation.get("subject") == "Weekly one-to-one"
    assert new_conversation.get("threadId") == log.get("threadId")
    assert new_conversation.get("state") == "Connected"
    assert session.resource(location).get("state") == "Connected"
    assert len(session.conversations()) == 4
    # Every href the server gave stays inside this application.
    for _, event in collector.snapshot():
        assert event.link.href.startswith(session.app_href + "/")


def test_xml_invitation_embeds_the_accepted_participant_under_its_relation(
        lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, fmt="xml")
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "xml-accepted",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201
    session.collector.wait_completed("xml-accepted")
    invitation = session.resource(response.headers["location"])
    accepted = invitation.embedded_one("acceptedByParticipant")
    assert accepted is not None
    assert accepted.get("uri") == "sip:john@contoso.com"


def test_events_are_correlated_by_operation_id_even_before_the_201(lab: Lab,
                                                                  sim: Simulator) -> None:
    """The started event may travel in a batch released before the POST returns."""
    session = lab.sign_in(sim)
    assert session.collector is not None
    locations = {}
    for subject, to in (("Project sync", "sip:john@contoso.com"),
                        ("Budget review", "sip:maria@contoso.com"),
                        ("Quick question", "sip:pierre@contoso.com")):
        operation_id = f"op-{subject.split()[0].lower()}"
        response = session.add_phone_audio(subject, {"operationId": operation_id, "to": to})
        assert response.status_code == 201
        locations[operation_id] = response.headers["location"]
    for operation_id, location in locations.items():
        session.collector.wait_completed(operation_id)
        events = session.collector.for_operation(operation_id)
        assert events[0].type == "started"
        assert {e.link.href for e in events} == {location}
    assert len(set(locations.values())) == 3


def test_operation_id_and_phone_number_are_optional(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"to": "sip:john@contoso.com"})
    assert response.status_code == 201
    location = response.headers["location"]
    invitation = session.resource(location)
    assert invitation.get("operationId") is None
    assert invitation.get("phoneNumber") == "tel:+14255551234"  # the user's own number

    def completed(events: list[Any]) -> bool:
        return any(e.type == "completed" and e.link.href == location for _, e in events)

    session.collector.wait_for(completed)


def test_input_keys_are_case_insensitive(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {
        "OperationId": "pascal", "PhoneNumber": "+1 (425) 555-1234",
        "TO": "sip:john@contoso.com"})
    assert response.status_code == 201, response.text
    invitation = session.resource(response.headers["location"])
    assert invitation.get("operationId") == "pascal"
    assert invitation.get("phoneNumber") == "tel:+14255551234"
    assert session.collector.wait_completed("pascal").status == "Success"


def test_input_may_come_as_query_parameters(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    href = session.href(session.phone_audio("Project sync"), "addPhoneAudio")
    response = session.post(with_params(href, to="sip:john@contoso.com", operationId="q"))
    assert response.status_code == 201, response.text
    assert session.resource(response.headers["location"]).get("operationId") == "q"


def test_the_documents_spaced_sip_uri_is_accepted(lab: Lab, sim: Simulator) -> None:
    """The newer addPhoneAudio page writes "sip : john@contoso.com" (ucwa-protocol.md 6.1)."""
    session = lab.sign_in(sim)
    response = session.add_phone_audio("Project sync", {
        "operationId": SEED_OPERATION_ID, "phoneNumber": "tel : +14255551234",
        "to": "sip : john@contoso.com"})
    assert response.status_code == 201, response.text
    assert session.resource(response.headers["location"]).get("to") == "sip:john@contoso.com"


# ------------------------------------------------------------------------- seed bodies


@pytest.mark.parametrize(("seed", "fmt"), list(SEED_BODIES), ids=[
    f"{'add' if seed == ADD_SEED else 'continue'}-{fmt}" for seed, fmt in SEED_BODIES])
def test_seed_request_bodies_get_201_and_a_location(lab: Lab, sim: Simulator, seed: str,
                                                    fmt: Format) -> None:
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    content_type, body = SEED_BODIES[(seed, fmt)]
    if seed == ADD_SEED:
        href = session.href(session.phone_audio("Project sync"), "addPhoneAudio")
    else:
        href = session.href(session.conversation_log("Weekly one-to-one"), "continuePhoneAudio")
    response = session.post(href, content=body, content_type=content_type)
    assert response.status_code == 201, response.text
    assert response.content == b""
    location = response.headers["location"]
    invitation = session.resource(location)
    assert invitation.rel == "phoneAudioInvitation"
    assert invitation.get("operationId") == SEED_OPERATION_ID
    assert invitation.get("phoneNumber") == "tel:+14255551234"
    assert invitation.get("to") == "sip:john@contoso.com"
    completed = session.collector.wait_completed(SEED_OPERATION_ID)
    assert completed.status == "Success"
    assert completed.link.href == location


@pytest.mark.parametrize("seed", [ADD_SEED, CONTINUE_SEED])
def test_seed_bodies_match_the_seed_pages(seed: str) -> None:
    # Skips without ../shared, fails under CI=true (the bodies were copied from these pages).
    found = _seed_requests(seed)
    assert found == {fmt: SEED_BODIES[(seed, fmt)] for fmt in ("json", "xml")}


def test_strict_uri_spacing_refuses_the_spaced_samples(lab: Lab) -> None:
    sim = lab.start(lenient_uri_spacing=False)
    session = lab.sign_in(sim)
    content_type, body = SEED_BODIES[(CONTINUE_SEED, "json")]
    href = session.href(session.conversation_log("Weekly one-to-one"), "continuePhoneAudio")
    response = session.post(href, content=body, content_type=content_type)
    assert response.status_code == 400
    assert reason_of(response).subcode == "NormalizationFailed"
    response = session.add_phone_audio("Project sync", {"to": "sip : john@contoso.com"})
    assert response.status_code == 400
    reason = reason_of(response)
    assert reason.subcode == "ParameterValidationFailure"
    assert "to" in reason.parameters


# ------------------------------------------------------------------------- outcomes


OUTCOMES: list[tuple[str, dict[str, str], str, str, str, str | None, list[str]]] = [
    # id, input, status, final state, reason code, subcode, invitation event states
    ("answered", {"to": "sip:john@contoso.com"}, "Success", "Connected", "", None,
     ["Connecting", "Connecting", "Alerting", "Connected"]),
    ("another-user-answers", {"to": "sip:bob@contoso.com"}, "Success", "Connected", "", None,
     ["Connecting", "Connecting", "Alerting", "Connected"]),
    ("own-phone-not-answered",
     {"to": "sip:john@contoso.com", "phoneNumber": "tel:+14255550199"},
     "Failure", "Failed", "LocalFailure", "PstnCallFailed",
     ["Connecting", "Connecting", "Failed"]),
    ("busy", {"to": "sip:maria@contoso.com"}, "Failure", "Failed", "RemoteFailure", "Busy",
     ["Connecting", "Connecting", "Alerting", "Failed"]),
    ("declined", {"to": "sip:pierre@contoso.com"}, "Failure", "Declined", "RemoteFailure",
     "Declined", ["Connecting", "Connecting", "Alerting", "Declined"]),
    ("unknown-callee", {"to": "sip:nobody@contoso.com"}, "Failure", "Failed", "NotFound",
     "DestinationNotFound", ["Connecting", "Connecting", "Failed"]),
    ("never-answers", {"to": "sip:nora@contoso.com"}, "Failure", "Failed", "Timeout", None,
     ["Connecting", "Connecting", "Alerting", "Failed"]),
]


@pytest.mark.parametrize(("props", "status", "state", "code", "subcode", "states"),
                         [case[1:] for case in OUTCOMES], ids=[case[0] for case in OUTCOMES])
def test_every_asynchronous_outcome(lab: Lab, sim: Simulator, props: dict[str, str],
                                    status: str, state: str, code: str, subcode: str | None,
                                    states: list[str]) -> None:
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "outcome", **props})
    assert response.status_code == 201, response.text
    completed = session.collector.wait_completed("outcome")
    assert completed.status == status
    if status == "Success":
        assert completed.reason is None
    else:
        assert completed.reason is not None
        assert (completed.reason.code, completed.reason.subcode) == (code, subcode)
        assert completed.reason.message
    events = session.collector.for_operation("outcome")
    assert [s for _, s in _summary(events)] == states
    invitation = session.resource(response.headers["location"])
    assert invitation.get("state") == state
    assert invitation.link("cancel") is None
    phone_audio = session.phone_audio("Project sync")
    if status == "Success" and props["to"] != "sip:john@contoso.com":
        # Bob is not in Project sync (John is): the call went to a derived conversation
        # (phoneAudioInvitation_ref, derivedPhoneAudio_ref), the original one's phone audio
        # is back to Disconnected.
        assert phone_audio.get("state") == "Disconnected"
        derived = session.follow(invitation, "derivedPhoneAudio")
        assert derived.get("state") == "Connected"
    elif status == "Success":
        assert phone_audio.get("state") == "Connected"
        assert invitation.link("derivedConversation") is None
    else:
        # A failed call leaves the modality as it was: addPhoneAudio is offered again.
        assert phone_audio.get("state") == "Disconnected"
        assert phone_audio.link("addPhoneAudio") is not None


@pytest.mark.parametrize(("subject", "code", "subcode"), [
    ("Supplier call", "RemoteFailure", "Declined"),
    ("Design chat", "RemoteFailure", "Busy"),
])
def test_continue_phone_audio_outcomes_follow_the_log_recipient(
        lab: Lab, sim: Simulator, subject: str, code: str, subcode: str) -> None:
    session = lab.sign_in(sim, fmt="xml")
    assert session.collector is not None
    response = session.continue_phone_audio(subject, {"operationId": "log-call"})
    assert response.status_code == 201, response.text
    completed = session.collector.wait_completed("log-call")
    assert completed.status == "Failure"
    assert completed.reason is not None
    assert (completed.reason.code, completed.reason.subcode) == (code, subcode)
    # The conversation made for the call is disconnected again and leaves the active list.
    assert subject not in [c.get("subject") for c in session.conversations()]
    log = session.conversation_log(subject)
    assert log.link("continuePhoneAudio") is not None


# ------------------------------------------------------------------------- cancel and stop


def _slow_own_phone_sim(lab: Lab) -> Simulator:
    """Alice's own phone takes 5 s to answer: the call stays Connecting long enough."""
    return lab.start(fast_scenario(own_after=5.0))


@pytest.mark.parametrize("fmt", FORMATS)
def test_cancel_an_invitation_in_progress(lab: Lab, fmt: Format) -> None:
    sim = _slow_own_phone_sim(lab)
    session = lab.sign_in(sim, fmt=fmt)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "to-cancel",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201
    location = response.headers["location"]
    invitation = session.resource(location)
    assert invitation.get("state") == "Connecting"
    cancel_href = session.href(invitation, "cancel")
    cancelled = session.post(cancel_href)
    assert cancelled.status_code == 204
    completed = session.collector.wait_completed("to-cancel", timeout=3)
    assert completed.status == "Failure"
    assert completed.reason is not None
    assert (completed.reason.code, completed.reason.subcode) == ("LocalFailure", "Canceled")
    invitation = session.resource(location)
    assert invitation.get("state") == "Cancelled"
    assert invitation.link("cancel") is None
    again = session.post(cancel_href)
    assert again.status_code == 409
    assert reason_of(again).code == "Conflict"
    phone_audio = session.phone_audio("Project sync")
    assert phone_audio.get("state") == "Disconnected"
    assert phone_audio.link("addPhoneAudio") is not None


def test_stop_phone_audio_after_a_connected_call(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim)
    collector = session.collector
    assert collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "talk",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201
    assert collector.wait_completed("talk").status == "Success"
    phone_audio = session.phone_audio("Project sync")
    stop_href = session.href(phone_audio, "stopPhoneAudio")
    before = len(collector.snapshot())
    stopped = session.post(stop_href)
    assert stopped.status_code == 204

    def disconnected(events: list[Any]) -> bool:
        return any(e.link.rel == "phoneAudio" and e.resource is not None
                   and e.resource.get("state") == "Disconnected" for _, e in events[before:])

    collector.wait_for(disconnected)
    phone_audio = session.phone_audio("Project sync")
    assert phone_audio.get("state") == "Disconnected"
    assert phone_audio.link("stopPhoneAudio") is None
    assert phone_audio.link("addPhoneAudio") is not None
    again = session.post(stop_href)
    assert again.status_code == 409
    reason = reason_of(again)
    assert reason.code == "Conflict"
    assert reason.subcode is None
    # And a new call can be placed on the same conversation.
    response = session.add_phone_audio("Project sync", {"operationId": "talk-2",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201
    assert collector.wait_completed("talk-2").status == "Success"


def test_stop_phone_audio_while_connecting_cancels_the_invitation(lab: Lab) -> None:
    sim = _slow_own_phone_sim(lab)
    session = lab.sign_in(sim)
    assert session.collector is not None
    response = session.add_phone_audio("Project sync", {"operationId": "early-stop",
                                                         "to": "sip:john@contoso.com"})
    assert response.status_code == 201
    phone_audio = session.phone_audio("Project sync")
    assert phone_audio.get("state") == "Connecting"
    assert session.post(session.href(phone_audio, "stopPhoneAudio")).status_code == 204
    completed = session.collector.wait_completed("early-stop", timeout=3)
    assert completed.status == "Failure"
    assert completed.reason is not None
    assert completed.reason.subcode == "Canceled"
