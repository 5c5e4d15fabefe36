"""HAR 1.2 export (validated against tests/har-1.2.schema.json) and import."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest

import ucwa_nb
import ucwa_nb.log
from ucwa_nb.log import HarError
from ucwa_nb.log.exchange_log import COLUMNS, DTYPES, ExchangeLog, load_har, read_har
from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Link,
    Reason,
    Resource,
    Sender,
    build_events,
)

SCHEMA = json.loads((Path(__file__).parent / "har-1.2.schema.json").read_text())
TOKEN = "cwt=AAEBHAEFAAAAAAAFFQAAAO/+token+/Zq9Vbuhc="
PASSWORD = "ucwa-demo"
HOST = "https://lyncweb.contoso.com"
APP = f"{HOST}/ucwa/oauth/v1/applications/102"
T0 = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)


VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def validate(har: Any) -> None:
    VALIDATOR.validate(har)


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def _events_body(fmt: str) -> bytes:
    invitation = Resource(
        "phoneAudioInvitation",
        f"{APP}/communication/phoneAudioInvitations/7",
        properties={"operationId": "op-1", "state": "Connecting"},
    )
    batch = Events(
        links={"next": [Link("next", f"{APP}/events?ack=3")]},
        senders=[
            Sender(
                "communication",
                f"{APP}/communication",
                [
                    Event(
                        "started",
                        Link(
                            "phoneAudioInvitation", f"{APP}/communication/phoneAudioInvitations/7"
                        ),
                        embedded={"phoneAudioInvitation": [invitation]},
                    ),
                    Event(
                        "completed",
                        Link(
                            "phoneAudioInvitation", f"{APP}/communication/phoneAudioInvitations/7"
                        ),
                        status="Failure",
                        reason=Reason("RemoteFailure", "Declined"),
                    ),
                ],
            )
        ],
    )
    return build_events(batch, "json" if fmt == "json" else "xml")


def sample_log() -> ExchangeLog:
    """A sign-in, an addPhoneAudio that is declined, an error, a transport failure."""
    times = iter(T0 + timedelta(milliseconds=37 * i) for i in range(1000))
    log = ExchangeLog(lambda: next(times))
    log.add_secret(PASSWORD)
    log.record_http(
        method="GET",
        url=f"{HOST}/ucwa/oauth/v1/user?originalDomain=contoso.com",
        status=401,
        request_headers={"Accept": "application/json"},
        request_body=None,
        response_headers=[
            ("Content-Type", "text/html"),
            ("WWW-Authenticate", 'Bearer trusted_issuers="x@contoso.com", client_id="y"'),
            ("WWW-Authenticate", f'MsRtcOAuth href="{HOST}/WebTicket/oauthtoken"'),
        ],
        response_body="<html>401 - Unauthorized</html>",
        elapsed_ms=12.25,
        rel="user",
    )
    log.record_http(
        method="POST",
        url=f"{HOST}/WebTicket/oauthtoken",
        status=200,
        request_headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        request_body=f"grant_type=password&username=alice%40contoso.com&password={PASSWORD}",
        response_headers={"Content-Type": "application/json; charset=utf-8"},
        response_body=f'{{"access_token":"{TOKEN}","expires_in":28800,"token_type":"Bearer"}}',
        elapsed_ms=40.5,
    )
    log.add_secret(TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    log.record_http(
        method="POST",
        url=f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
        status=201,
        request_headers=auth | {"Content-Type": "application/json"},
        request_body='{"operationId":"op-1","to":"sip:john@contoso.com","phoneNumber":"tel:+14255551234"}',
        response_headers={"Location": f"{APP}/communication/phoneAudioInvitations/7"},
        response_body=b"",
        elapsed_ms=8,
        rel="addPhoneAudio",
    )
    body = _events_body("json")
    poll = log.record_http(
        method="GET",
        url=f"{APP}/events?ack=2&timeout=180",
        status=200,
        request_headers=auth | {"Accept": "application/json"},
        request_body=None,
        response_headers={"Content-Type": "application/json"},
        response_body=body,
        elapsed_ms=1500.75,
        rel="next",
    )
    parsed = ucwa_nb.parse(body, "application/json")
    assert isinstance(parsed, Events)
    log.record_events(url=poll.url or "", events=parsed, format="json")
    log.record_http(
        method="POST",
        url=f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
        status=409,
        request_headers=auth | {"Content-Type": "application/xml", "Accept": "application/xml"},
        request_body=(
            '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            '<property name="operationId">op-2</property>'
            '<property name="to">sip:zoë@contoso.com</property></input>'
        ),
        response_headers={"Content-Type": "application/xml"},
        response_body=(
            '<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            "<code>Conflict</code><subcode>AlreadyExists</subcode>"
            "<message>Zoë already has a call</message></reason>"
        ),
        elapsed_ms=3.5,
        rel="addPhoneAudio",
        http_version="HTTP/2",
    )
    log.record_http(
        method="GET",
        url=f"{APP}/events?ack=3",
        status=None,
        request_headers=auth,
        request_body=None,
        response_headers=None,
        response_body=None,
        elapsed_ms=30000.0,
        rel="next",
        error=f"ReadTimeout: Bearer {TOKEN} timed out",
    )
    return log


@pytest.fixture
def har_path(tmp_path: Path) -> Path:
    path = tmp_path / "session.har"
    sample_log().to_har(path)
    return path


def test_export_is_valid_har_1_2(har_path: Path) -> None:
    raw = har_path.read_bytes()
    har = json.loads(raw.decode("utf-8"))  # UTF-8, not ASCII-escaped
    assert "Zoë".encode() in raw
    validate(har)
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"] == {"name": "ucwa-nb", "version": ucwa_nb.__version__}
    entries = log["entries"]
    assert len(entries) == 6  # http rows only; the 3 events ride in _ucwaEvents
    assert [e["type"] for e in log["_ucwaEvents"]] == ["started", "completed"]
    for entry in entries:
        timings = entry["timings"]
        assert entry["time"] == timings["send"] + timings["wait"] + timings["receive"]
        assert datetime.fromisoformat(entry["startedDateTime"]).tzinfo is not None


def test_export_maps_each_field(har_path: Path) -> None:
    entries = json.loads(har_path.read_text(encoding="utf-8"))["log"]["entries"]
    challenge, token, created, poll, conflict, failed = entries
    # The clock is read when the response is recorded; the request started elapsed_ms before.
    started = T0 - timedelta(milliseconds=12.25)
    assert challenge["startedDateTime"] == started.isoformat() == "2024-05-01T09:30:00.111206+00:00"
    assert challenge["request"]["queryString"] == [
        {"name": "originalDomain", "value": "contoso.com"}
    ]
    assert [h["name"] for h in challenge["response"]["headers"]].count("WWW-Authenticate") == 2
    assert challenge["response"]["statusText"] == "Unauthorized"
    assert challenge["_ucwa"]["rel"] == "user"
    assert token["request"]["postData"] == {
        "mimeType": "application/x-www-form-urlencoded;charset=UTF-8",
        "text": f"grant_type=password&username=alice%40contoso.com&password={REDACTED}",
    }
    assert "postData" not in challenge["request"]
    assert created["response"]["redirectURL"] == f"{APP}/communication/phoneAudioInvitations/7"
    assert created["response"]["content"] == {"size": 0, "mimeType": "x-unknown"}
    assert created["_ucwa"]["operationId"] == "op-1"
    assert {"name": "Authorization", "value": f"Bearer {REDACTED}"} in created["request"]["headers"]
    assert poll["timings"] == {"send": 0, "wait": 1500.75, "receive": 0}
    assert poll["response"]["content"]["mimeType"] == "application/json"
    assert poll["response"]["content"]["size"] == len(poll["response"]["content"]["text"])
    assert conflict["response"]["httpVersion"] == "HTTP/2"
    assert conflict["_ucwa"]["code"] == "Conflict"
    assert conflict["response"]["content"]["size"] == len(
        conflict["response"]["content"]["text"].encode("utf-8")
    )
    assert failed["response"]["status"] == 0
    assert failed["response"]["_error"] == f"ReadTimeout: Bearer {REDACTED} timed out"


def test_the_schema_rejects_what_har_1_2_forbids(har_path: Path) -> None:
    har = json.loads(har_path.read_text(encoding="utf-8"))
    broken: list[Any] = []
    mutations: list[Callable[[Any], object]] = [
        lambda h: h["log"]["entries"][0]["response"].pop("statusText"),
        lambda h: h["log"]["entries"][0].pop("cache"),
        lambda h: h["log"]["entries"][0].__setitem__("custom", 1),  # no leading underscore
        lambda h: h["log"]["entries"][0]["timings"].__setitem__("wait", -1),
        lambda h: h["log"]["entries"][0]["timings"].__setitem__("dns", -2),
        lambda h: h["log"]["entries"][1]["request"]["postData"].__setitem__("params", []),
        lambda h: h["log"]["entries"][0]["request"]["headers"].append({"name": "x"}),
        lambda h: h["log"].pop("creator"),
    ]
    for mutate in mutations:
        copied = copy.deepcopy(har)
        mutate(copied)
        broken.append(copied)
    for candidate in broken:
        with pytest.raises(jsonschema.ValidationError):
            validate(candidate)
    allowed = copy.deepcopy(har)
    allowed["log"]["entries"][0]["_anything"] = {"x": 1}
    allowed["log"]["entries"][0]["timings"]["dns"] = -1
    validate(allowed)


def test_round_trip_gives_the_same_frame(har_path: Path) -> None:
    original = sample_log().df
    back = read_har(har_path)
    assert tuple(back.columns) == COLUMNS
    assert back.dtypes.to_dict() == DTYPES
    pd.testing.assert_frame_equal(back, original)


def test_secrets_stay_out_of_the_har(har_path: Path) -> None:
    text = har_path.read_text(encoding="utf-8")
    for secret in (TOKEN, PASSWORD, "AAEBHAEF", "token+"):
        assert secret not in text


# --------------------------------------------------------------------------- a foreign HAR


def _nv(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in pairs]


def _devtools_entry(
    method: str,
    url: str,
    status: int,
    *,
    started: str,
    request_headers: list[tuple[str, str]],
    response_headers: list[tuple[str, str]],
    post: dict[str, Any] | None = None,
    content: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An entry shaped like Chrome DevTools' "Save all as HAR with content"."""
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "http/2.0",
        "headers": _nv(request_headers),
        "queryString": [],
        "cookies": [{"name": "ucwa", "value": "cookie-secret", "httpOnly": True}],
        "headersSize": -1,
        "bodySize": 0,
    }
    if post is not None:
        request["postData"] = post
    entry: dict[str, Any] = {
        "_initiator": {"type": "script"},
        "_priority": "High",
        "_resourceType": "xhr",
        "cache": {},
        "connection": "443",
        "pageref": "page_1",
        "request": request,
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": _nv(response_headers),
            "cookies": [],
            "content": content or {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 321,
            "_error": None,
        },
        "serverIPAddress": "10.0.0.5",
        "startedDateTime": started,
        "time": 25.5,
        "timings": {
            "blocked": 1.5,
            "dns": -1,
            "ssl": -1,
            "connect": -1,
            "send": 0.2,
            "wait": 22.8,
            "receive": 1.0,
            "_blocked_queueing": 0.9,
        },
    }
    entry.update(extra or {})
    return entry


def devtools_har() -> dict[str, Any]:
    auth = ("authorization", f"Bearer {TOKEN}")
    xml_events = _events_body("xml").decode()
    entries = [
        _devtools_entry(
            "POST",
            f"{HOST}/WebTicket/oauthtoken",
            200,
            started="2024-05-01T09:30:00.100Z",
            request_headers=[("content-type", "application/x-www-form-urlencoded")],
            response_headers=[
                ("content-type", "application/json"),
                ("set-cookie", "ucwa=cookie-secret"),
            ],
            post={
                "mimeType": "application/x-www-form-urlencoded",
                "params": [
                    {"name": "grant_type", "value": "password"},
                    {"name": "username", "value": "alice@contoso.com"},
                    {"name": "password", "value": "Pa55/word!"},
                ],
            },
            content={
                "size": 80,
                "mimeType": "application/json",
                "text": f'{{"access_token":"{TOKEN}","token_type":"Bearer"}}',
            },
        ),
        _devtools_entry(
            "POST",
            f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
            201,
            started="2024-05-01T09:30:01.000Z",
            request_headers=[auth, ("content-type", "application/json")],
            response_headers=[("location", "/ucwa/oauth/v1/applications/102/inv/7")],
            post={"mimeType": "application/json", "text": '{"operationId":"op-1"}'},
        ),
        _devtools_entry(
            "GET",
            f"{APP}/events?ack=2",
            200,
            started="2024-05-01T09:30:00.900Z",  # the P-GET started before the POST
            request_headers=[auth, ("accept", "application/json")],
            response_headers=[("content-type", "application/json; charset=utf-8")],
            content={
                "size": 1,
                "mimeType": "application/json",
                "encoding": "base64",
                "text": base64.b64encode(_events_body("json")).decode(),
            },
        ),
        _devtools_entry(
            "GET",
            f"{APP}/events?ack=3",
            200,
            started="2024-05-01T09:30:02.000Z",
            request_headers=[auth, ("accept", "application/vnd.microsoft.com.ucwa+xml")],
            response_headers=[("content-type", "application/vnd.microsoft.com.ucwa+xml")],
            content={"size": 1, "mimeType": "application/xml", "text": xml_events},
        ),
        _devtools_entry(
            "POST",
            f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
            409,
            started="2024-05-01T09:30:03.000Z",
            request_headers=[auth, ("content-type", "application/json")],
            response_headers=[("content-type", "application/json")],
            post={"mimeType": "application/json", "text": '{"operationId":"op-2"}'},
            content={
                "size": 1,
                "mimeType": "application/json",
                "text": '{"code":"Conflict","subcode":"AlreadyExists","message":"m"}',
            },
        ),
        _devtools_entry(
            "GET",
            f"{APP}/events?ack=4",
            0,
            started="2024-05-01T09:30:04.000Z",
            request_headers=[auth],
            response_headers=[],
            extra={"time": 0},
        ),
    ]
    entries[-1]["response"]["_error"] = "net::ERR_CONNECTION_RESET"
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [
                {
                    "startedDateTime": "2024-05-01T09:29:59.000Z",
                    "id": "page_1",
                    "title": "https://app.contoso.com/",
                    "pageTimings": {"onContentLoad": 100.5, "onLoad": -1},
                }
            ],
            "entries": entries,
        }
    }


def test_read_a_devtools_export(tmp_path: Path) -> None:
    har = devtools_har()
    validate(har)  # the hand-written file is itself valid HAR 1.2
    path = tmp_path / "devtools.har"
    # With a byte-order mark, as some Windows tools write it.
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(har).encode())
    df = read_har(path)
    assert tuple(df.columns) == COLUMNS
    assert df.dtypes.to_dict() == DTYPES
    assert df.seq.tolist() == list(range(len(df)))
    assert df.kind.tolist() == [
        "http", "http", "http", "event", "event", "http", "event", "event", "http", "http",
    ]  # fmt: skip
    http_rows = df[df.kind == "http"]
    assert http_rows.rel.isna().all()  # a foreign HAR does not know which link was followed
    assert http_rows.status.tolist() == [200, 201, 200, 200, 409, pd.NA]
    assert http_rows.format.iloc[:5].tolist() == ["json", "json", "json", "xml", "json"]
    assert pd.isna(http_rows.format.iloc[5])  # no content type, no Accept
    assert http_rows.operation_id.tolist() == [pd.NA, "op-1", pd.NA, pd.NA, "op-2", pd.NA]
    # The server's relative Location, made absolute as the client logs it.
    assert http_rows.location[1] == f"{HOST}/ucwa/oauth/v1/applications/102/inv/7"
    assert (http_rows.code[8], http_rows.subcode[8]) == ("Conflict", "AlreadyExists")
    assert http_rows.error[9] == "net::ERR_CONNECTION_RESET"
    assert http_rows.elapsed_ms.tolist() == [25.5] * 5 + [0.0]
    assert http_rows.time[2] == pd.Timestamp("2024-05-01T09:30:00.900Z")

    events = df[df.kind == "event"]
    assert events.event_type.tolist() == ["started", "completed"] * 2
    assert events.rel.unique().tolist() == ["phoneAudioInvitation"]
    assert (events.location == f"{APP}/communication/phoneAudioInvitations/7").all()
    assert events.operation_id.tolist() == ["op-1", pd.NA, "op-1", pd.NA]
    assert events.event_status.tolist() == [pd.NA, "Failure", pd.NA, "Failure"]
    assert events.code.tolist() == [pd.NA, "RemoteFailure"] * 2
    assert events.subcode.tolist() == [pd.NA, "Declined"] * 2
    assert events.format.tolist() == ["json", "json", "xml", "xml"]
    assert (events.url == [f"{APP}/events?ack=2"] * 2 + [f"{APP}/events?ack=3"] * 2).all()
    # An event's time is when its poll's response arrived.
    assert events.time[3] == pd.Timestamp("2024-05-01T09:30:00.9255Z")

    cells = [str(v) for c in df.columns for v in df[c].tolist()]
    for secret in (TOKEN, "Pa55/word!", "Pa55%2Fword", "cookie-secret"):
        assert not [cell for cell in cells if secret in cell], secret
    assert "grant_type=password&username=alice%40contoso.com&password=[REDACTED]" in cells


def test_read_har_takes_the_format_from_the_har_mime_types(tmp_path: Path) -> None:
    """Fiddler and DevTools write postData.mimeType even where no Content-Type header was
    captured; the format comes from it, then from the response content's mimeType."""
    xml_post = _devtools_entry(
        "POST", f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio", 201,
        started="2024-05-01T09:30:00.000Z", request_headers=[], response_headers=[],
        post={"mimeType": "application/vnd.microsoft.com.ucwa+xml", "text": "<input/>"})
    json_get = _devtools_entry(
        "GET", f"{APP}/communication", 200, started="2024-05-01T09:30:01.000Z",
        request_headers=[], response_headers=[],
        content={"size": 2, "mimeType": "application/json", "text": "{}"})
    har = devtools_har()
    har["log"]["entries"] = [xml_post, json_get]
    path = tmp_path / "mime.har"
    path.write_text(json.dumps(har))
    assert read_har(path).format.tolist() == ["xml", "json"]


def test_read_har_redacts_extra_secrets(tmp_path: Path) -> None:
    har = devtools_har()
    path = tmp_path / "devtools.har"
    path.write_text(json.dumps(har), encoding="utf-8")
    assert "alice%40contoso.com" in str(read_har(path).request_body.tolist())
    df = read_har(path, secrets=["alice@contoso.com"])  # redacted in its form-encoded spelling
    assert "alice" not in str(df.request_body.tolist())


def test_load_har_gives_a_log_that_can_be_exported_again(har_path: Path, tmp_path: Path) -> None:
    log = load_har(har_path)
    again = tmp_path / "again.har"
    log.to_har(again)
    first = json.loads(har_path.read_text(encoding="utf-8"))
    second = json.loads(again.read_text(encoding="utf-8"))
    assert first == second


def test_read_har_finds_events_in_a_poll_known_by_its_mime_type_only(tmp_path: Path) -> None:
    events = (
        '{"_links":{"next":{"href":"/events?ack=3"}},"sender":[{"rel":"communication",'
        '"href":"/communication","events":[{"link":{"rel":"phoneAudioInvitation",'
        '"href":"inv/7"},"type":"started"}]}]}'
    )
    poll = _devtools_entry(
        "GET", f"{APP}/events?ack=2", 200, started="2024-05-01T09:30:00.000Z",
        request_headers=[], response_headers=[],
        content={"size": len(events), "mimeType": "application/json", "text": events})
    har = devtools_har()
    har["log"]["entries"] = [poll]
    path = tmp_path / "mime-events.har"
    path.write_text(json.dumps(har))
    df = read_har(path)
    assert df.kind.tolist() == ["http", "event"]
    assert df.format.tolist() == ["json", "json"]
    # The event's href made absolute against its poll, as live rows have it.
    assert df.location[1] == f"{APP}/inv/7"


def test_a_file_written_by_the_previous_version_still_imports(tmp_path: Path) -> None:
    # Written by ucwa-nb 0.1.0 (before the column spec) from sample_log().
    old = Path(__file__).parent / "data" / "written-by-0.1.0.har"
    pd.testing.assert_frame_equal(read_har(old), sample_log().df)
    # And the same log is written with the same content today (JSON: members unordered).
    new = tmp_path / "today.har"
    sample_log().to_har(new)
    assert json.loads(new.read_text(encoding="utf-8")) == json.loads(
        old.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- hostile files
# Issue 25, attack 3: a HAR file anyone wrote is read or refused with a HarError (a
# ValueError) that names what is wrong and where, never AttributeError, TypeError,
# RecursionError or a pandas error.


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "startedDateTime": "2026-12-01T10:00:00Z", "time": 1,
        "request": {"method": "GET", "url": "https://fe1.contoso.com/ucwa/x", "headers": []},
        "response": {"status": 200, "headers": [],
                     "content": {"mimeType": "application/json", "text": "{}"}}}
    entry.update(changes)
    return entry


def _har(*entries: Any, **log: Any) -> dict[str, Any]:
    return {"log": {"version": "1.2", "entries": list(entries), **log}}


DEEP = 100_000
HOSTILE: dict[str, tuple[str, str]] = {
    "log is a list": (json.dumps({"log": [_entry()]}),
                        r'not a HAR file \(no top-level "log" object: "log" is a list\)'),
    "a top-level list": (json.dumps([_har(_entry())]),
                          r'no top-level "log" object: the document is a list'),
    "no entries": (json.dumps({"log": {"version": "1.2"}}), r'"log" has no "entries" list'),
    "entries an object": (json.dumps({"log": {"entries": {}}}),
                          r'"log" has no "entries" list: "entries" is an object\)'),
    "an entry a number": (json.dumps(_har(_entry(), 42)),
                          r'entry 1: no "request" object \(the entry is a number\)'),
    "_ucwa a list": (json.dumps(_har(_entry(_ucwa=[1, 2]))),
                       r'entry 0: "_ucwa" is a list, not an object'),
    "request a string": (json.dumps(_har(_entry(), _entry(request="GET /"))),
                         r'entry 1: no "request" object \("request" is a string\)'),
    "response a list": (json.dumps(_har(_entry(response=[]))),
                          r'entry 0: "response" is a list, not an object'),
    "url a number": (json.dumps(_har(_entry(request={"method": "GET", "url": 7}))),
                     r'entry 0: "request.url" is a number, not a string'),
    "headers an object": (
        json.dumps(_har(_entry(request={"url": "https://x/", "headers": {"a": "b"}}))),
        r'entry 0: "request.headers" is an object, not a list'),
    "a header a string": (
        json.dumps(_har(_entry(request={"url": "https://x/", "headers": ["Accept: */*"]}))),
        r'entry 0: "request.headers\[0\]" is a string, not an object'),
    "params of numbers": (
        json.dumps(_har(_entry(request={"url": "https://x/", "method": "POST",
                                        "postData": {"mimeType": "a", "params": [1]}}))),
        r'entry 0: "request.postData.params\[0\]" is a number, not an object'),
    "content a string": (
        json.dumps(_har(_entry(response={"status": 200, "content": "{}"}))),
        r'entry 0: "response.content" is a string, not an object'),
    "no startedDateTime": (json.dumps(_har({"request": {"url": "https://x/"}})),
                           r'entry 0: no "startedDateTime"'),
    "startedDateTime not a date": (json.dumps(_har(_entry(startedDateTime="yesterday"))),
                                   r"entry 0: \"startedDateTime\" is not a date-time "
                                   r"\('yesterday'\)"),
    "startedDateTime out of range": (
        json.dumps(_har(_entry(startedDateTime="9999-12-31T00:00:00Z"))),
        r'entry 0: "startedDateTime" is outside the years 1678 to 2261'),
    "seq not an integer": (json.dumps(_har(_entry(_ucwa={"seq": "first"}), _ucwaEvents=[])),
                           r'entry 0: "_ucwa.seq" is not an integer'),
    "seq infinite": ('{"log": {"entries": [{"startedDateTime": "2026-12-01T10:00:00Z", '
                     '"request": {"url": "https://x/"}, "_ucwa": {"seq": 1e999}}], '
                     '"_ucwaEvents": []}}', r'entry 0: "_ucwa.seq" is not an integer'),
    "events an object": (json.dumps(_har(_entry(), _ucwaEvents={})),
                         r'"log._ucwaEvents" is an object, not a list'),
    "an event a string": (json.dumps(_har(_entry(), _ucwaEvents=["started"])),
                          r'_ucwaEvents\[0\]: the event is a string, not an object'),
    "an event's time": (
        json.dumps(_har(_entry(), _ucwaEvents=[{"seq": 1, "time": "soon", "type": "x"}])),
        r"_ucwaEvents\[0\]: \"time\" is not a date-time \('soon'\)"),
    "deep nesting": ("[" * DEEP + "]" * DEEP, r"not a HAR file \(JSON nested too deeply\)"),
    "deep nesting in an entry": (
        json.dumps(_har(_entry(cache=0))).replace("0}", "[" * DEEP + "]" * DEEP + "}"),
        r"not a HAR file \(JSON nested too deeply\)"),
    "truncated": (json.dumps(_har(_entry()))[:60],
                  r"not a HAR file \(not valid JSON; it ends early: truncated\?\)"),
    "not JSON": ("<html>", r"not a HAR file \(not valid JSON; line 1, column 1"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_har_gives_a_har_error_naming_what_and_where(case: str,
                                                                tmp_path: Path) -> None:
    content, message = HOSTILE[case]
    path = tmp_path / "hostile.har"
    path.write_text(content, encoding="utf-8")
    for read in (read_har, ExchangeLog.from_har, load_har):
        with pytest.raises(HarError, match=message) as caught:
            read(path)
        assert isinstance(caught.value, ValueError)
        assert str(caught.value).startswith(f"{path}: ")
        assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, ValueError)


def test_a_har_error_is_exported_from_the_log_package_with_its_parts(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_text(json.dumps(_har(_entry(), _entry(request="GET /"))), encoding="utf-8")
    with pytest.raises(ucwa_nb.log.HarError) as caught:
        read_har(path)
    error = caught.value
    assert (error.path, error.where, error.kind) == (str(path), "entry 1", "entry")
    assert error.problem == 'no "request" object ("request" is a string)'
    path.write_bytes(b'{"log": "\xff"}')
    with pytest.raises(HarError, match=r"not a HAR file \(not UTF-8 text\)") as caught:
        read_har(path)
    assert caught.value.kind == "text"


def test_values_no_duration_or_row_can_hold_are_left_out(tmp_path: Path) -> None:
    # Python's JSON reads 1e999 (infinity) and NaN: a "time" or a status that is none is
    # read as not given.
    path = tmp_path / "odd.har"
    path.write_text(
        '{"log": {"entries": [{"startedDateTime": "2026-12-01T10:00:00Z", "time": 1e999, '
        '"timings": {"wait": NaN, "send": 2, "receive": -1}, '
        '"request": {"method": "GET", "url": "https://x/"}, '
        '"response": {"status": 1e999, "content": {"mimeType": "application/json", '
        '"text": "{\\"sender\\": []}"}}}]}}', encoding="utf-8")
    df = read_har(path)
    assert df.elapsed_ms.tolist() == [2.0]
    assert df.status.isna().all()


def _members(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _members(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _members(item, (*at, index))
    return paths


@pytest.mark.parametrize("name", ["written-by-0.1.0.har", "browser-cross-domain.har",
                                  "fiddler-proxy-and-tokens.har"])
def test_any_member_of_any_type_is_read_or_named(name: str, tmp_path: Path) -> None:
    # Every member of real files (ours, a browser's, Fiddler's), one at a time, replaced by
    # each JSON type: the file is read, or refused with a HarError; nothing else escapes.
    folder = Path(__file__).parent / "data"
    if not (folder / name).exists():
        folder = Path(__file__).parents[1] / "doctor" / "fixtures"
    original = json.loads((folder / name).read_text("utf-8-sig"))
    paths = _members(original)
    oddities: list[Any] = [None, True, -1, 1e999, "x", [], {}, [1], {"a": 1}]
    path = tmp_path / "mutated.har"
    for number, member in enumerate(paths[:: max(1, len(paths) // 150)]):
        document = copy.deepcopy(original)
        holder = document
        for step in member[:-1]:
            holder = holder[step]
        holder[member[-1]] = oddities[number % len(oddities)]
        path.write_text(json.dumps(document), encoding="utf-8")
        with contextlib.suppress(HarError):
            read_har(path)
