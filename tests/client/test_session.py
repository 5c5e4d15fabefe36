"""The Session against the simulator: sign-in, navigation, phone-audio calls, errors, the log.

Every wait is bounded (``WAIT`` seconds at most); every simulator is a fresh fast one.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pandas as pd
import pytest
from support import (
    ALICE,
    DESK_PHONE_NEVER_ANSWERED,
    GUEST,
    JOHN,
    MARIA,
    NOBODY,
    NORA,
    PIERRE,
    SUCCESS_STATES,
    SUCCESS_TYPES,
    WAIT,
    HookTransport,
    MakeSession,
    MakeSim,
    bearer_token,
    operation_id_of,
    wait_until,
)

import ucwa_nb
from ucwa_nb import (
    Conversation,
    ConversationLog,
    DiscoveryError,
    ExchangeLog,
    PhoneAudioCall,
    Session,
    Simulator,
    UcwaError,
    ValidationError,
)
from ucwa_nb.client.discovery import parse_challenge
from ucwa_nb.log.exchange_log import COLUMNS, DTYPES
from ucwa_nb.log.redaction import REDACTED

SCHEMA = json.loads((Path(__file__).parents[1] / "log" / "har-1.2.schema.json").read_text("utf-8"))
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _types(call: PhoneAudioCall) -> list[str]:
    return [e.type for e in call.events]


def _states(call: PhoneAudioCall) -> list[str | None]:
    return [e.state for e in call.events]


def _raises_ucwa(session: Session, action: Any) -> UcwaError:
    """Run ``action``; it must raise UcwaError, whose text must not hold the token."""
    with pytest.raises(UcwaError) as info:
        action()
    assert bearer_token(session) not in str(info.value)
    assert bearer_token(session) not in repr(info.value)
    return info.value


# --------------------------------------------------------------------------- the full flow


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_full_flow(make_session: MakeSession, fmt: str) -> None:
    session = make_session(format=fmt)
    assert session.format == fmt
    assert session.event_channel is not None
    assert session.event_channel.alive
    assert session.me is not None
    assert session.me.get("uri") == "sip:alice@contoso.com"

    conversations = session.conversations()
    assert [c.subject for c in conversations] == ["Project sync", "Budget review",
                                                  "Quick question"]
    project = conversations[0]
    assert project.participants == [ucwa_nb.client.Participant("John Doe", JOHN)]
    assert [p.uri for p in conversations[1].participants] == [MARIA, PIERRE]
    assert project.state == "Connected"
    assert project.thread_id
    assert project.created is not None
    assert project.created.year == 2026
    assert "John Doe" in project.label

    logs = session.conversation_logs()
    assert [log.subject for log in logs] == ["Weekly one-to-one", "Supplier call", "Design chat"]
    weekly = logs[0]
    assert weekly.recipients == [ucwa_nb.client.Participant("John Doe", JOHN)]
    assert (weekly.type, weekly.status, weekly.direction) == ("AudioLog", "Archived", "Outgoing")
    assert weekly.modalities == ["Audio"]
    assert weekly.created is not None
    assert logs[2].modalities == ["Messaging"]

    call = session.add_phone_audio(project, to=JOHN, phone_number="tel:+14255551234")
    assert HEX32.match(call.operation_id)
    assert call.kind == "addPhoneAudio"
    assert call.target == JOHN
    assert call.http_status == 201
    assert call.location is not None
    assert call.location.startswith(session.application_url or "?")
    assert "/phoneAudioInvitations/" in call.location
    assert call.wait(WAIT) is call
    assert call.done
    assert (call.status, call.reason, call.state) == ("Success", None, "Connected")
    assert _types(call) == SUCCESS_TYPES
    assert _states(call) == SUCCESS_STATES
    assert call.progress == "connected"
    for item in call.events:  # every event is about this invitation
        assert call.location.endswith(item.event.link.href)
    times = [e.time for e in call.events]
    assert times == sorted(times)

    continued = session.continue_phone_audio(weekly)
    assert continued.kind == "continuePhoneAudio"
    assert continued.target == JOHN
    continued.wait(WAIT)
    assert (continued.status, continued.reason, continued.state) == \
        ("Success", None, "Connected")
    assert _types(continued) == SUCCESS_TYPES
    assert continued.location != call.location
    # continuePhoneAudio opened a new conversation carrying the log's thread.
    after = session.conversations()
    assert weekly.thread_id in [c.thread_id for c in after]
    assert {c.operation_id for c in session.calls} == {call.operation_id,
                                                       continued.operation_id}

    df = session.log.df
    posts = df[(df.kind == "http") & (df.method == "POST") & df.rel.isin(
        ["addPhoneAudio", "continuePhoneAudio"])]
    assert list(posts.status) == [201, 201]
    assert list(posts.format) == [fmt, fmt]
    assert list(posts.operation_id) == [call.operation_id, continued.operation_id]
    for row in posts.itertuples():
        assert str(row.request_body or "").lstrip().startswith("{" if fmt == "json" else "<")
    events = session.log.filter(operation_id=call.operation_id, kind="event")
    assert list(events.event_type) == SUCCESS_TYPES
    assert list(events.event_status)[-1] == "Success"
    assert set(events.format) == {fmt}
    # location links the POST that created the invitation with every event about it
    # (the started event may be logged before the POST: it can beat the 201)
    about = df[df.location == call.location]
    assert sorted(about.kind) == ["event"] * 4 + ["http"]
    assert about[about.kind == "http"].rel.tolist() == ["addPhoneAudio"]


def test_format_per_call_overrides_the_session(session: Session,
                                               conversations: list[Conversation]) -> None:
    call = session.add_phone_audio(conversations[0], to=JOHN, format="xml")
    call.wait(WAIT)
    assert call.status == "Success"
    post = session.log.filter(operation_id=call.operation_id, kind="http", rel="addPhoneAudio")
    assert list(post.format) == ["xml"]
    body = post.request_body.iloc[0]
    assert "<input" in body
    assert call.operation_id in body
    # the events still come as the session's format
    assert set(session.log.filter(operation_id=call.operation_id, kind="event").format) == \
        {"json"}


@pytest.mark.parametrize("fmt", ["yaml", "JSON", ""])
def test_a_format_other_than_json_or_xml_is_refused_before_sending(
        session: Session, conversations: list[Conversation], fmt: Any) -> None:
    # As connect(format="yaml") refuses it: never quietly sent as XML.
    rows = len(session.log)
    message = "format must be 'json' or 'xml'"
    with pytest.raises(ValueError, match=message):
        session.add_phone_audio(conversations[0], to=JOHN, format=fmt)
    with pytest.raises(ValueError, match=message):
        session.prepare_start_phone_audio(JOHN, format=fmt)
    with pytest.raises(ValueError, match=message):
        session.continue_phone_audio(session.conversation_logs()[0], format=fmt)
    with pytest.raises(ValueError, match=message):
        session.format = fmt
    assert session.format == "json"
    assert "POST" not in set(session.log.df.method[rows:])  # GETs of the logs alone
    with pytest.raises(ValueError, match=message):
        ucwa_nb.connect(format=fmt)


def test_operation_ids_given_or_generated(make_sim: MakeSim, make_session: MakeSession) -> None:
    ids = iter(["fixed-1", "fixed-2"])
    session = make_session(make_sim(), operation_ids=lambda: next(ids))
    conversations = session.conversations()
    generated = session.add_phone_audio(conversations[1], to=MARIA)
    given = session.add_phone_audio(conversations[2], to=MARIA, operation_id="mine-42")
    assert generated.operation_id == "fixed-1"
    assert given.operation_id == "mine-42"
    for call in (generated, given):
        call.wait(WAIT)
        assert call.status == "Failure"
        assert _types(call)[0] == "started"


def test_sequential_operation_ids_are_the_same_on_every_run(make_sim: MakeSim,
                                                           make_session: MakeSession) -> None:
    sim = make_sim()
    first, second = (make_session(sim, operation_ids="sequential") for _ in range(2))
    for session in (first, second):  # each session counts from 1, independently
        assert [session.new_operation_id() for _ in range(2)] == [f"{1:032x}", f"{2:032x}"]
    call = first.add_phone_audio(first.conversations()[1], to=MARIA).wait(WAIT)
    assert call.operation_id == f"{3:032x}"


def test_operation_ids_of_another_kind_are_refused_before_sign_in() -> None:
    with pytest.raises(ValueError, match="operation_ids must be None, 'sequential' or a"):
        ucwa_nb.connect("http://127.0.0.1:9/unreachable", username="a", password="b",
                        operation_ids="random")  # type: ignore[arg-type]


def test_conversation_logs_limit(session: Session) -> None:
    logs = session.conversation_logs(limit=1)
    assert [log.subject for log in logs] == ["Weekly one-to-one"]
    assert "limit=1" in str(session.log.filter(rel="conversationLogs").url.iloc[-1])


def test_navigation_follows_links_and_keeps_query_strings(session: Session) -> None:
    session.conversations()
    urls = session.log.filter(rel="conversations").url
    # the server's link carries ?filter=active; the client keeps it
    assert urls.str.endswith("conversations?filter=active").all()


def test_raw_calls_through_http_client_are_logged(session: Session) -> None:
    before = len(session.log)
    assert session.application_url is not None
    response = session.http_client.get(session.application_url,
                                       headers={"Accept": "application/json"})
    assert response.status_code == 200
    rows = session.log.df.iloc[before:]
    raw = rows[(rows.kind == "http") & (rows.url == session.application_url)]
    assert len(raw) == 1
    assert raw.status.iloc[0] == 200
    assert pd.isna(raw.rel.iloc[0])


def test_prepared_call_shows_the_request_without_the_token(
        session: Session, conversations: list[Conversation]) -> None:
    prepared = session.prepare_add_phone_audio(conversations[0], to=JOHN,
                                               operation_id="preview-1")
    token = bearer_token(session)
    assert prepared.problems == {}
    assert prepared.url.endswith("/phoneAudio/addPhoneAudio")
    assert json.loads(prepared.body) == {"operationId": "preview-1", "to": JOHN}
    assert prepared.headers["Authorization"] == f"Bearer {REDACTED}"
    assert token not in repr(prepared.headers)
    for text in (prepared.curl(), prepared.python()):
        assert token not in text
        assert "preview-1" in text
    call = prepared.send()
    call.wait(WAIT)
    assert call.status == "Success"


def test_session_repr_and_calls_listing(session: Session) -> None:
    text = repr(session)
    assert "alice@contoso.com" in text
    assert bearer_token(session) not in text


# --------------------------------------------------------------------------- synchronous errors


def test_normalization_failed_when_sent_without_validation(
        session: Session, conversations: list[Conversation]) -> None:
    error = _raises_ucwa(session, lambda: session.add_phone_audio(
        conversations[0], to=JOHN, phone_number="555", validate=False))
    assert (error.status, error.code, error.subcode) == (400, "BadRequest",
                                                         "NormalizationFailed")
    assert error.message
    assert error.method == "POST"
    assert error.url.endswith("/addPhoneAudio")
    assert session.calls == []  # a refused call is not kept
    row = session.log.filter(rel="addPhoneAudio").iloc[-1]
    assert (row.status, row.code, row.subcode) == (400, "BadRequest", "NormalizationFailed")


def test_callback_channel_error_without_an_event_channel(sim: Simulator) -> None:
    # A session that never starts its event channel: the server cannot reach it.
    with httpx.Client(timeout=10.0) as client:
        session = Session(client)
        try:
            session.sign_in(sim.url, username=ALICE[0], password=ALICE[1], token=None)
            session.create_application()
            conversation = session.conversations()[0]
            error = _raises_ucwa(session,
                                 lambda: session.add_phone_audio(conversation, to=JOHN))
            assert (error.status, error.code, error.subcode) == \
                (500, "ServiceFailure", "CallbackChannelError")
        finally:
            session.close()


def test_callback_channel_error_once_the_channel_stopped(make_sim: MakeSim,
                                                        make_session: MakeSession) -> None:
    session = make_session(make_sim(callback_grace=0.05), poll_timeout=1.0)
    conversation = session.conversations()[0]
    assert session.event_channel is not None
    started = time.monotonic()
    session.event_channel.stop(timeout=WAIT)  # its parked poll ends after at most 1 s
    assert not session.event_channel.alive
    assert time.monotonic() - started < 3
    time.sleep(0.1)  # longer than callback_grace
    error = _raises_ucwa(session, lambda: session.add_phone_audio(conversation, to=JOHN))
    assert (error.status, error.code, error.subcode) == \
        (500, "ServiceFailure", "CallbackChannelError")


def test_callback_channel_error_for_a_raw_post_before_any_poll(session: Session) -> None:
    # A second application made with raw calls and never polled.
    client = session.http_client
    accept = {"Accept": "application/json"}
    assert session.applications_url is not None
    created = client.post(session.applications_url, headers=accept, json={
        "userAgent": "raw", "endpointId": "raw-endpoint", "culture": "en-US"})
    assert created.status_code == 201
    app = ucwa_nb.parse(created.content, created.headers["content-type"])
    assert isinstance(app, ucwa_nb.protocol.Resource)
    comm = app.embedded_one("communication")
    assert comm is not None
    link = comm.link("conversations")
    assert link is not None
    listing = ucwa_nb.parse(client.get(created.url.join(link.href), headers=accept).content,
                            "application/json")
    assert isinstance(listing, ucwa_nb.protocol.Resource)
    conv_url = created.url.join(listing.links["conversation"][0].href)
    conv = ucwa_nb.parse(client.get(conv_url, headers=accept).content, "application/json")
    assert isinstance(conv, ucwa_nb.protocol.Resource)
    pa_link = conv.link("phoneAudio")
    assert pa_link is not None
    pa = ucwa_nb.parse(client.get(conv_url.join(pa_link.href), headers=accept).content,
                       "application/json")
    assert isinstance(pa, ucwa_nb.protocol.Resource)
    add = pa.link("addPhoneAudio")
    assert add is not None
    response = client.post(conv_url.join(add.href), headers=accept,
                           json={"operationId": "raw-op", "to": JOHN})
    error = UcwaError.from_response(response)
    assert (error.status, error.code, error.subcode) == \
        (500, "ServiceFailure", "CallbackChannelError")
    # raw calls are logged like the session's own
    row = session.log.df.iloc[-1]
    assert (row.method, row.status, row.subcode) == ("POST", 500, "CallbackChannelError")
    assert row.operation_id == "raw-op"


def test_already_exists_for_a_second_add_phone_audio(make_sim: MakeSim,
                                                    make_session: MakeSession) -> None:
    session = make_session(make_sim(ring_timeout=5.0))
    nora = session.conversations()[2]
    first = session.add_phone_audio(nora, to=NORA)
    # phoneAudio no longer offers addPhoneAudio: refused locally, with the reason ...
    with pytest.raises(ValidationError) as info:
        session.add_phone_audio(nora, to=NORA)
    assert "conversation" in info.value.problems
    assert "not offered" in str(info.value)
    # ... and sent anyway to the link seen earlier, the server says 409 AlreadyExists
    error = _raises_ucwa(session,
                         lambda: session.add_phone_audio(nora, to=NORA, validate=False))
    assert (error.status, error.code, error.subcode) == (409, "Conflict", "AlreadyExists")
    assert [c.operation_id for c in session.calls] == [first.operation_id]
    first.cancel()
    first.wait(WAIT)
    assert first.reason is not None
    assert (first.reason.code, first.reason.subcode) == ("LocalFailure", "Canceled")


def test_already_exists_for_a_second_continue_phone_audio(make_sim: MakeSim,
                                                         make_session: MakeSession) -> None:
    session = make_session(make_sim(ring_timeout=5.0))
    supplier = session.conversation_logs()[1]  # Pierre, who declines after a while
    first = session.continue_phone_audio(supplier)
    # the ConversationLog object still holds the link it was read with: a racing client
    error = _raises_ucwa(session, lambda: session.continue_phone_audio(supplier))
    assert (error.status, error.code, error.subcode) == (409, "Conflict", "AlreadyExists")
    first.wait(WAIT)
    assert first.reason is not None
    assert first.reason.subcode == "Declined"


@pytest.mark.parametrize(("fault", "status", "code", "subcode"), [
    ("TooManyGroups", 409, "Conflict", "TooManyGroups"),
    ("Conflict", 409, "Conflict", None),
    ("CannotRedirect", 410, "Gone", "CannotRedirect"),
    ("AlreadyExists", 409, "Conflict", "AlreadyExists"),
])
@pytest.mark.parametrize("rel", ["addPhoneAudio", "continuePhoneAudio"])
def test_injected_faults(sim: Simulator, session: Session, rel: str, fault: str, status: int,
                         code: str, subcode: str | None) -> None:
    sim.inject_fault(rel, fault, user="sip:alice@contoso.com")
    if rel == "addPhoneAudio":
        conversation = session.conversations()[0]
        error = _raises_ucwa(session, lambda: session.add_phone_audio(conversation, to=JOHN))
    else:
        log = session.conversation_logs()[0]
        error = _raises_ucwa(session, lambda: session.continue_phone_audio(log))
    assert (error.status, error.code, error.subcode) == (status, code, subcode)
    assert error.message
    row = session.log.filter(rel=rel).iloc[-1]
    assert row.status == status
    assert row.code == code
    assert (row.subcode if not pd.isna(row.subcode) else None) == subcode
    assert session.calls == []
    # the fault was for one request only: the next call goes through
    if rel == "addPhoneAudio":
        call = session.add_phone_audio(session.conversations()[0], to=JOHN)
    else:
        call = session.continue_phone_audio(session.conversation_logs()[0])
    assert call.wait(WAIT).status == "Success"


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"to": "john@contoso.com"}, "to"),
    ({"to": JOHN, "operation_id": "x" * 51}, "operationId"),
])
def test_parameter_validation_failure(session: Session, conversations: list[Conversation],
                                      kwargs: dict[str, Any], parameter: str) -> None:
    error = _raises_ucwa(session, lambda: session.add_phone_audio(
        conversations[0], validate=False, **kwargs))
    assert (error.status, error.code, error.subcode) == \
        (400, "BadRequest", "ParameterValidationFailure")
    assert parameter in error.parameters
    assert parameter in str(error)
    assert error.reason.parameters == error.parameters


def test_no_call_without_a_call_scope(make_session: MakeSession) -> None:
    # The guest has neither Conversations.Initiate nor Conversations.Receive: the server
    # offers no link to a call, so the client has nowhere to send one and says so.
    guest = make_session(user=GUEST)
    conversation = guest.conversations()[0]
    with pytest.raises(ValidationError, match="addPhoneAudio is not offered"):
        guest.add_phone_audio(conversation, to=JOHN)
    log = guest.conversation_logs()[0]
    with pytest.raises(ValidationError, match="continuePhoneAudio is not offered"):
        guest.continue_phone_audio(log)


# --------------------------------------------------------------------------- failure events


@pytest.mark.parametrize(("to", "phone", "code", "subcode", "state"), [
    (JOHN, DESK_PHONE_NEVER_ANSWERED, "LocalFailure", "PstnCallFailed", "Failed"),
    (MARIA, None, "RemoteFailure", "Busy", "Failed"),
    (PIERRE, None, "RemoteFailure", "Declined", "Declined"),
    (NOBODY, None, "NotFound", "DestinationNotFound", "Failed"),
    (NORA, None, "Timeout", None, "Failed"),
])
def test_asynchronous_failures(session: Session, conversations: list[Conversation], to: str,
                               phone: str | None, code: str, subcode: str | None,
                               state: str) -> None:
    call = session.add_phone_audio(conversations[0], to=to, phone_number=phone)
    assert call.http_status == 201
    call.wait(WAIT)
    assert call.status == "Failure"
    assert call.reason is not None
    assert (call.reason.code, call.reason.subcode) == (code, subcode)
    assert call.reason.message
    assert call.state == state
    types = _types(call)
    assert types[0] == "started"
    assert types[-1] == "completed"
    assert types.count("completed") == 1
    assert call.progress.startswith("failed (")
    row = session.log.filter(operation_id=call.operation_id, kind="event").iloc[-1]
    assert (row.event_type, row.event_status, row.code) == ("completed", "Failure", code)


def test_continue_phone_audio_failure_event(session: Session,
                                           conversation_logs: list[ConversationLog]) -> None:
    call = session.continue_phone_audio(conversation_logs[1])  # Pierre declines
    call.wait(WAIT)
    assert call.status == "Failure"
    assert call.reason is not None
    assert (call.reason.code, call.reason.subcode) == ("RemoteFailure", "Declined")


@pytest.mark.parametrize("when", ["at once", "while ringing the callee"])
def test_cancel(make_sim: MakeSim, make_session: MakeSession, when: str) -> None:
    session = make_session(make_sim(ring_timeout=5.0))
    call = session.add_phone_audio(session.conversations()[2], to=NORA)
    if when != "at once":
        wait_until(lambda: call.state == "Alerting", what="the callee's phone ringing")
        assert call.progress == "ringing the callee"
    call.cancel()
    call.wait(WAIT)
    assert call.status == "Failure"
    assert call.reason is not None
    assert (call.reason.code, call.reason.subcode) == ("LocalFailure", "Canceled")
    assert call.state == "Cancelled"
    assert session.log.filter(rel="cancel").status.tolist() == [204]
    # a completed call has nothing left to cancel
    with pytest.raises(ValidationError, match="no longer in progress"):
        call.cancel()


def test_wait_times_out_with_the_progress(make_sim: MakeSim, make_session: MakeSession) -> None:
    session = make_session(make_sim(ring_timeout=5.0))
    call = session.add_phone_audio(session.conversations()[2], to=NORA)
    with pytest.raises(TimeoutError, match=call.operation_id):
        call.wait(0.05)
    call.cancel()
    call.wait(WAIT)


# --------------------------------------------------------------------------- local validation


@pytest.mark.parametrize(("kwargs", "field", "text"), [
    ({"to": "john@contoso.com"}, "to", "must start with 'sip:'"),
    ({"to": ""}, "to", "required"),
    ({"to": JOHN, "phone_number": "555"}, "phoneNumber", "cannot be normalised"),
    ({"to": JOHN, "operation_id": "x" * 51}, "operationId", "the maximum is 50"),
])
def test_validation_error_before_sending(session: Session, conversations: list[Conversation],
                                         kwargs: dict[str, Any], field: str,
                                         text: str) -> None:
    with pytest.raises(ValidationError) as info:
        session.add_phone_audio(conversations[0], **kwargs)
    assert list(info.value.problems) == [field]
    assert text in info.value.problems[field]
    assert field in str(info.value)
    assert "validate=False" in str(info.value)
    assert session.log.filter(rel="addPhoneAudio").empty  # nothing was sent
    assert session.calls == []


def test_continue_phone_audio_validates_the_phone_number(
        session: Session, conversation_logs: list[ConversationLog]) -> None:
    with pytest.raises(ValidationError) as info:
        session.continue_phone_audio(conversation_logs[0], phone_number="abc")
    assert list(info.value.problems) == ["phoneNumber"]
    assert session.log.filter(rel="continuePhoneAudio").empty
    error = _raises_ucwa(session, lambda: session.continue_phone_audio(
        conversation_logs[0], phone_number="abc", validate=False))
    assert (error.status, error.subcode) == (400, "NormalizationFailed")


# --------------------------------------------------------------------------- events before 201


def test_events_that_arrive_before_the_201(hooked_session: Session, transport: HookTransport,
                                           ) -> None:
    session = hooked_session
    held: list[str] = []

    def hold_the_201(request: httpx.Request, response: httpx.Response) -> None:
        op = operation_id_of(request)
        if op is None or response.status_code != 201:
            return
        # Do not hand the 201 to the client until the event thread has delivered started.
        wait_until(lambda: any(r.kind == "event" and r.operation_id == op
                               and r.event_type == "started" for r in session.log.rows),
                   what="the started event while the 201 is held")
        held.append(op)

    transport.after.append(hold_the_201)
    conversation = session.conversations()[0]
    call = session.add_phone_audio(conversation, to=JOHN)
    assert held == [call.operation_id]
    call.wait(WAIT)
    assert _types(call) == SUCCESS_TYPES  # started reached the call before its 201
    assert call.status == "Success"
    rows = session.log.filter(operation_id=call.operation_id)
    started = rows[rows.event_type == "started"].seq.iloc[0]
    post = rows[rows.rel == "addPhoneAudio"].seq.iloc[0]
    assert started < post
    assert call.events_before_response >= 1  # and the timeline draws started above the 201
    html = call._repr_html_()
    assert html.index("started (Connecting)") < html.index("201 Created")


# --------------------------------------------------------------------------- lifetime


def test_close_stops_the_thread_promptly(session: Session) -> None:
    assert session.event_channel is not None
    wait_until(lambda: session.event_channel is not None and session.event_channel.alive)
    started = time.monotonic()
    session.close()
    assert time.monotonic() - started < 1.0  # not the 5 s poll timeout
    assert not session.event_channel.alive
    assert session.closed
    session.close()  # twice is fine
    assert session.log.filter(rel="application").method.tolist() == ["DELETE"]
    assert session.http_client.is_closed  # connect() made it, close() closed it


def test_close_leaves_a_callers_client_open(make_session: MakeSession,
                                            transport: HookTransport) -> None:
    with httpx.Client(transport=transport, timeout=10.0) as client:
        session = make_session(http_client=client)
        session.close()
        assert session.event_channel is not None
        assert not session.event_channel.alive
        assert session.http_client.is_closed  # the session's own, over the caller's
        assert not client.is_closed  # the caller's to close
        assert client.get(session.application_url or "").status_code in (401, 404)


def test_with_block_closes(sim: Simulator) -> None:
    names_before = {t.name for t in threading.enumerate()}
    with ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1],
                         poll_timeout=5) as session:
        assert session.event_channel is not None
        assert session.event_channel.alive
        channel = session.event_channel
    assert session.closed
    channel.stop(timeout=1.0)
    assert not channel.alive
    session.http_client.close()
    assert {t.name for t in threading.enumerate()} - names_before == set()


def test_connect_closes_the_session_when_sign_in_fails(sim: Simulator) -> None:
    log = ExchangeLog()
    with pytest.raises(DiscoveryError, match="sign-in refused") as info:
        ucwa_nb.connect(sim.url, username=ALICE[0], password="wrong-password-123", log=log)
    assert "wrong-password-123" not in str(info.value)
    token_rows = [r for r in log.rows if r.rel == "token"]
    assert len(token_rows) == 1
    assert token_rows[0].status == 400
    for row in log.rows:
        assert "wrong-password-123" not in repr(row)


def test_connect_needs_credentials(sim: Simulator) -> None:
    # No password: Windows sign-in as the signed-in user, which Linux has none of.
    with pytest.raises(DiscoveryError, match="password="):
        ucwa_nb.connect(sim.url, username=ALICE[0])
    with pytest.raises(DiscoveryError, match="username= and password="):
        ucwa_nb.connect(sim.url, username=ALICE[0], auth="password")


def test_connect_with_a_token_obtained_elsewhere(sim: Simulator) -> None:
    # Sign in "elsewhere": read the token URL from the 401 challenge and use the grant.
    with httpx.Client(timeout=10.0) as other:
        root = ucwa_nb.parse(other.get(sim.url).content, "application/json")
        assert isinstance(root, ucwa_nb.protocol.Resource)
        user_link = root.link("user")
        assert user_link is not None
        challenge = other.get(httpx.URL(sim.url).join(user_link.href))
        assert challenge.status_code == 401
        found = parse_challenge(challenge.headers.get_list("www-authenticate"))
        assert found is not None
        token = other.post(found.token_url, data={
            "grant_type": "password", "username": ALICE[0], "password": ALICE[1]},
        ).json()["access_token"]
    session = ucwa_nb.connect(sim.url, token=token, poll_timeout=5)
    try:
        assert bearer_token(session) == token
        assert session.log.filter(rel="token").empty  # no password grant
        call = session.add_phone_audio(session.conversations()[0], to=JOHN)
        assert call.wait(WAIT).status == "Success"
        _assert_nowhere(session.log, token)
    finally:
        session.close()
        session.http_client.close()


def test_connect_with_a_bearer_prefixed_token(sim: Simulator) -> None:
    with httpx.Client(timeout=10.0) as other:
        token = other.post(sim.base_url + "/WebTicket/oauthtoken", data={
            "grant_type": "password", "username": ALICE[0], "password": ALICE[1]},
        ).json()["access_token"]
    with ucwa_nb.connect(sim.url, token=f"Bearer {token}", poll_timeout=5) as session:
        assert bearer_token(session) == token
        assert session.conversations()
    session.http_client.close()


def test_connect_with_no_url_uses_the_embedded_simulator() -> None:
    session = ucwa_nb.connect(poll_timeout=5)
    try:
        assert session.simulator is not None
        assert session.simulator.running
        assert session.simulator.scenario.name == "default"
        assert session.me is not None
        assert session.me.get("uri") == "sip:alice@contoso.com"
        assert [c.subject for c in session.conversations()][:1] == ["Project sync"]
        again = ucwa_nb.client.session.embedded_simulator()
        assert again is session.simulator  # reused, not started twice
    finally:
        session.close()
        session.http_client.close()
        if session.simulator is not None:
            session.simulator.stop()


# --------------------------------------------------------------------------- the log


def _assert_nowhere(log: ExchangeLog, *secrets: str) -> None:
    df = log.df
    for column in df.columns:
        for value in df[column]:
            text = value if isinstance(value, str) else repr(value)
            for secret in secrets:
                assert secret not in text, f"a secret leaked into column {column}"


def test_log_columns_and_dtypes(session: Session, conversations: list[Conversation]) -> None:
    call = session.add_phone_audio(conversations[0], to=JOHN)
    call.wait(WAIT)
    df = session.log.df
    assert tuple(df.columns) == COLUMNS
    for name, dtype in DTYPES.items():
        assert df[name].dtype == dtype, name
    assert isinstance(df.time.dtype, pd.DatetimeTZDtype)
    assert str(df.time.dt.tz) == "UTC"
    assert df.seq.tolist() == list(range(len(df)))
    assert set(df.kind) == {"http", "event"}
    http = df[df.kind == "http"]
    assert http.elapsed_ms.notna().all()
    assert (http.elapsed_ms >= 0).all()
    assert http.method.notna().all()
    # one row per exchange: discovery, challenge, token, user, application, polls, ...
    rels = http.rel.tolist()
    for rel in ("root", "user", "token", "applications", "conversations", "phoneAudio",
                "addPhoneAudio", "events"):
        assert rel in rels, rel
    assert http[http.rel == "user"].status.tolist() == [401, 200]
    events = df[df.kind == "event"]
    assert events.status.isna().all()
    assert events.event_type.notna().all()
    assert events.url.str.contains("/events").all()
    assert df.time.notna().all()
    assert (df.time.max() - df.time.min()).total_seconds() < 60  # real, recent timestamps
    # every event poll is logged
    polls = http[http.rel == "events"]
    assert len(polls) >= 2
    assert (polls.status == 200).all()
    # cheap to call again: cached
    builds = session.log.df_builds
    session.log.df  # noqa: B018
    assert session.log.df_builds == builds


def test_repeated_headers_reach_the_log(session: Session) -> None:
    """The 401 carries two WWW-Authenticate challenges; the log keeps both, as sent."""
    df = session.log.df
    challenge = df[(df.rel == "user") & (df.status == 401)].iloc[0]
    schemes = [value.split()[0] for name, value in challenge.response_headers
               if name.lower() == "www-authenticate"]
    assert schemes == ["Bearer", "MsRtcOAuth"]


def test_secrets_never_reach_the_log_or_its_exports(session: Session, tmp_path: Path,
                                                    conversations: list[Conversation]) -> None:
    call = session.add_phone_audio(conversations[1], to=MARIA)
    call.wait(WAIT)
    token = bearer_token(session)
    password = ALICE[1]
    assert len(token) > 20
    _assert_nowhere(session.log, token, password)
    df = session.log.df
    # the places where they would have been hold the marker instead
    grant = df[df.rel == "token"].iloc[0]
    assert REDACTED in (grant.request_body or "")
    assert REDACTED in (grant.response_body or "")
    assert any(name.lower() == "authorization" and value == f"Bearer {REDACTED}"
               for headers in df.request_headers for name, value in headers)

    har_path = tmp_path / "session.har"
    session.log.to_har(har_path)
    har_text = har_path.read_text("utf-8")
    csv_path = tmp_path / "session.csv"
    session.log.to_csv(csv_path)
    csv_text = csv_path.read_text("utf-8")
    for text in (har_text, csv_text):
        assert token not in text
        assert password not in text
        assert REDACTED in text
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(df)
    for row in rows:
        for value in row.values():
            assert token not in value
            assert password not in value


def test_har_is_valid_har_1_2(session: Session, tmp_path: Path,
                              conversations: list[Conversation]) -> None:
    session.add_phone_audio(conversations[0], to=JOHN).wait(WAIT)
    with pytest.raises(UcwaError):
        session.add_phone_audio(conversations[1], to=JOHN, phone_number="555", validate=False)
    path = tmp_path / "session.har"
    session.log.to_har(path)
    har = json.loads(path.read_text("utf-8"))
    jsonschema.validate(har, SCHEMA)
    entries = har["log"]["entries"]
    assert len(entries) == len(session.log.filter(kind="http"))
    assert any(e["response"]["status"] == 400 for e in entries)
    assert len(har["log"]["_ucwaEvents"]) == len(session.log.filter(kind="event"))
    # and it reads back into the same shape
    back = ucwa_nb.read_har(path)
    assert tuple(back.columns) == COLUMNS
    assert len(back[back.kind == "http"]) == len(entries)


@pytest.mark.slow  # five sign-ins: over 1.5 s
def test_connect_returns_once_the_first_poll_is_on_the_wire(make_sim: MakeSim,
                                                            make_session: MakeSession) -> None:
    # A call POSTed before the server holds a poll is refused with 500 CallbackChannelError;
    # connect() used to return as soon as the channel's thread started (a notebook's next
    # cell could beat the poll, one run in a few dozen).
    sim = make_sim()
    for _ in range(5):
        session = make_session(sim)
        assert session.channel_host.polling.is_set()
        call = session.start_phone_audio(JOHN)
        assert call.http_status == 201
        session.close()
