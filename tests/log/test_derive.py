"""ucwa_nb.log.derive: one derivation of a row's fields, shared by live logging and HAR import."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ucwa_nb.log.derive import (
    absolute_location,
    error_reason,
    event_fields,
    exchange_format,
    header_value,
    request_operation_id,
    status_text,
)
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.redaction import Headers
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Link,
    Reason,
    Resource,
    Sender,
    build_reason,
    parse,
)

APP = "https://sim.test/ucwa/oauth/v1/applications/102"
JSON = "application/vnd.microsoft.com.ucwa+json"
XML = "application/vnd.microsoft.com.ucwa+xml"


def test_header_value_is_case_insensitive_and_takes_the_first() -> None:
    headers: Headers = (("content-TYPE", "a"), ("Content-Type", "b"))
    assert header_value(headers, "Content-Type") == "a"
    assert header_value(headers, "accept") is None


def test_status_text() -> None:
    assert status_text(409) == "Conflict"
    assert status_text(599) == ""
    assert status_text(None) == ""


# --------------------------------------------------------------------------- format


@pytest.mark.parametrize(
    ("request_headers", "response_headers", "expected"),
    [
        # The request's body decides, even against the response's.
        ((("Content-Type", XML),), (("Content-Type", "application/json"),), "xml"),
        ((("Content-Type", JSON), ("Accept", XML)), (), "json"),
        # No request body: the response's body.
        ((("Accept", "application/json"),), (("Content-Type", XML),), "xml"),
        # A form-encoded token request is answered in JSON whatever Accept asked.
        ((("Content-Type", "application/x-www-form-urlencoded"), ("Accept", XML)),
         (("Content-Type", "application/json; charset=utf-8"),), "json"),
        # Neither body is UCWA's: what the client asked for.
        ((("Accept", f"{XML}, */*"),), (("Content-Type", "text/html"),), "xml"),
        ((("Accept", "*/*"),), (("Content-Type", "text/html"),), None),
        ((), (), None),
    ],
)
def test_exchange_format_rule(request_headers: Headers, response_headers: Headers,
                              expected: str | None) -> None:
    assert exchange_format(request_headers, response_headers) == expected


def test_exchange_format_takes_stand_ins_for_missing_content_types() -> None:
    # A HAR's mimeTypes: used only where the header is missing, in the same order.
    assert exchange_format((), (), request_type=XML, response_type="application/json") == "xml"
    assert exchange_format((), (), response_type="application/json") == "json"
    assert exchange_format((("Content-Type", JSON),), (), request_type=XML) == "json"


def test_live_and_har_rows_share_the_format_rule() -> None:
    log = ExchangeLog()
    row = log.record_http(
        method="POST", url=f"{APP}/x", status=400,
        request_headers={"Content-Type": XML, "Accept": XML}, request_body="<input/>",
        response_headers={"Content-Type": "application/json"},
        response_body='{"code":"BadRequest"}', elapsed_ms=1.0)
    assert row.format == "xml"


# --------------------------------------------------------------------------- operation id


@pytest.mark.parametrize(
    ("url", "headers", "body", "expected"),
    [
        (f"{APP}/x", (("Content-Type", JSON),), '{"OperationId":"op-1"}', "op-1"),
        (f"{APP}/x", (("Content-Type", XML),),
         '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
         '<property name="operationId">op-2</property></input>', "op-2"),
        (f"{APP}/x?operationId=op-3", (), None, "op-3"),
        (f"{APP}/x", (("Content-Type", JSON),), '{"operationId":7}', "7"),
        (f"{APP}/x", (("Content-Type", JSON),), '{"operationId":{"a":1}}', None),
        (f"{APP}/x", (("Content-Type", JSON),), '{"operationId":', None),  # malformed
        (f"{APP}/x", (("Content-Type", "text/plain"),), "operationId=op", None),
        (f"{APP}/x?operationId=", (), None, None),
    ],
)
def test_request_operation_id(url: str, headers: Headers, body: str | None,
                              expected: str | None) -> None:
    assert request_operation_id(url, headers, body) == expected


def test_request_operation_id_survives_hostile_bodies() -> None:
    body = '{"operationId":' + "[" * 100_000
    assert request_operation_id(f"{APP}/x", (("Content-Type", JSON),), body) is None


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("fmt", "ctype"), [("json", JSON), ("xml", XML)])
def test_error_reason_of_a_ucwa_error_body(fmt: str, ctype: str) -> None:
    body = build_reason(Reason("Conflict", "AlreadyExists", "taken"), fmt)  # type: ignore[arg-type]
    reason = error_reason(409, (("Content-Type", ctype),), body)
    assert reason is not None
    assert (reason.code, reason.subcode) == ("Conflict", "AlreadyExists")
    assert error_reason(409, (("Content-Type", ctype),), body.decode()) == reason


@pytest.mark.parametrize(
    ("status", "ctype", "body"),
    [
        (200, JSON, '{"code":"Conflict"}'),  # not a failure
        (None, JSON, '{"code":"Conflict"}'),  # no response at all
        (401, "text/html", "<html>401</html>"),
        (400, "application/json", '{"error":"invalid_grant"}'),  # OAuth's, not UCWA's
        (500, JSON, ""),
        (500, JSON, "[" * 100_000),
        (500, JSON, '{"code":' * 50_000),
        (500, XML, "<reason>" * 100_000),
        (500, XML, b"\xff\xfe<"),
        (500, None, '{"code":"Conflict"}'),
    ],
)
def test_error_reason_is_none_for_anything_else(status: int | None, ctype: str | None,
                                                body: str | bytes) -> None:
    headers: Headers = (("Content-Type", ctype),) if ctype else ()
    assert error_reason(status, headers, body) is None


@given(st.binary(max_size=300) | st.text(max_size=300), st.sampled_from([JSON, XML]))
def test_error_reason_never_raises(body: str | bytes, ctype: str) -> None:
    found = error_reason(500, (("Content-Type", ctype),), body)
    assert found is None or isinstance(found, Reason)


def test_hostile_error_body_gives_a_row_without_code() -> None:
    row = ExchangeLog().record_http(
        method="GET", url=f"{APP}/x", status=500, request_headers={},
        request_body=None, response_headers={"Content-Type": JSON},
        response_body="[" * 100_000, elapsed_ms=1.0)
    assert (row.code, row.subcode, row.status) == (None, None, 500)


# --------------------------------------------------------------------------- locations


def test_absolute_location() -> None:
    assert absolute_location(f"{APP}/communication/x", "phoneAudioInvitations/7") == \
        f"{APP}/communication/phoneAudioInvitations/7"
    assert absolute_location(f"{APP}/x", "/ucwa/y") == "https://sim.test/ucwa/y"
    assert absolute_location(f"{APP}/x", "https://other.test/z") == "https://other.test/z"
    assert absolute_location(f"{APP}/x", None) is None
    assert absolute_location(f"{APP}/x", "") is None


def test_a_relative_location_header_is_logged_absolute() -> None:
    row = ExchangeLog().record_http(
        method="POST", url=f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
        status=201, request_headers={}, request_body=None,
        response_headers={"Location": "/ucwa/oauth/v1/applications/102/inv/7"},
        response_body=None, elapsed_ms=1.0)
    assert row.location == f"{APP}/inv/7"


# --------------------------------------------------------------------------- events


def _completed() -> tuple[Sender, Event]:
    event = Event(
        "completed",
        Link("phoneAudioInvitation", "/ucwa/oauth/v1/applications/102/inv/1"),
        status="Failure",
        reason=Reason("RemoteFailure", "Declined", "declined"),
        embedded={"phoneAudioInvitation": [
            Resource("phoneAudioInvitation", "/inv/1", properties={"OperationId": "op-1"})]},
    )
    return Sender("communication", "/communication", [event]), event


@pytest.mark.parametrize(("fmt", "ctype"), [("json", JSON), ("xml", XML), (None, JSON)])
def test_event_fields(fmt: str | None, ctype: str) -> None:
    sender, event = _completed()
    fields = event_fields(f"{APP}/events?ack=2", sender, event, fmt)  # type: ignore[arg-type]
    assert fields["event_type"] == "completed"
    assert fields["rel"] == "phoneAudioInvitation"
    assert fields["location"] == f"{APP}/inv/1"  # absolute, like call.location
    assert fields["event_status"] == "Failure"
    assert fields["operation_id"] == "op-1"  # property names are case-insensitive
    assert (fields["code"], fields["subcode"]) == ("RemoteFailure", "Declined")
    body = fields["response_body"]
    assert body is not None
    alone = parse(body, ctype)  # the event alone, under its sender
    assert isinstance(alone, Events)
    assert [(s.rel, e.type) for s, e in alone.all_events()] == [("communication", "completed")]


def test_event_fields_without_an_embedded_resource_or_reason() -> None:
    event = Event("updated", Link("phoneAudio", "phoneAudio"))
    fields = event_fields(f"{APP}/events?ack=2", Sender("conversation", "/c", [event]), event,
                          "json")
    assert (fields["operation_id"], fields["code"], fields["subcode"], fields["event_status"]) == (
        None, None, None, None)
    assert fields["location"] == f"{APP}/phoneAudio"


def test_record_event_derives_the_row_from_the_event() -> None:
    sender, event = _completed()
    log = ExchangeLog()
    row = log.record_event(url=f"{APP}/events?ack=2", sender=sender, event=event, format="xml")
    fields = event_fields(f"{APP}/events?ack=2", sender, event, "xml")
    assert (row.event_type, row.rel, row.location, row.event_status, row.operation_id,
            row.code, row.subcode, row.format) == (
        "completed", "phoneAudioInvitation", f"{APP}/inv/1", "Failure", "op-1",
        "RemoteFailure", "Declined", "xml")
    body = fields["response_body"]
    assert isinstance(body, bytes)
    assert row.response_body == body.decode()
    with pytest.raises(TypeError):
        log.record_event(url=f"{APP}/events", event=event)  # no sender
    with pytest.raises(TypeError):
        log.record_event(url=f"{APP}/events", sender=sender, event=event, rel="mine")
    with pytest.raises(TypeError):
        log.record_event(url=f"{APP}/events")  # neither an event nor its fields
    assert len(log) == 1


def test_a_location_that_is_no_url_is_kept_as_sent() -> None:
    assert absolute_location("http://h/app", "http://[oops/") == "http://[oops/"
