"""Hostile requests: oversized, mistyped, malformed and malicious bodies, unknown paths, wrong
methods, garbage on the socket. Every answer is a UCWA-shaped error and never a stack trace."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from hostile_xml import billion_laughs
from support import Lab
from support.ucwa_http import Session, reason_of, with_params

from ucwa_nb import Simulator
from ucwa_nb.protocol import Reason

MiB = 1024 * 1024
JOHN = "sip:john@contoso.com"

BILLION_LAUGHS = billion_laughs(
    b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">\n'
    b'<property name="to">&lol9;</property>\n</input>')

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE input [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">
<property name="to">&xxe;</property>
</input>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE input SYSTEM "http://127.0.0.1:9/evil.dtd">
<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">
<property name="to">sip:john@contoso.com</property>
</input>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE input [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"/>"""

QUADRATIC = (b'<?xml version="1.0"?>\n<!DOCTYPE input [<!ENTITY a "' + b"x" * 50_000
             + b'">]>\n<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
             + b'<property name="to">' + b"&a;" * 5_000 + b"</property></input>")


@pytest.fixture(scope="module")
def session(shared_sim: Simulator) -> Iterator[Session]:
    """Alice on the module's shared simulator, for the whole module: hostile requests change
    no state. Her channel is live, so a body that did get through would not fail for lack
    of it (and the next test's add_href would notice the call)."""
    lab = Lab()
    try:
        yield lab.sign_in(shared_sim)
    finally:
        lab.close()


@pytest.fixture
def add_href(session: Session) -> str:
    """The addPhoneAudio link; its presence also shows no earlier hostile body started a
    call."""
    return session.href(session.phone_audio("Project sync"), "addPhoneAudio")


def _no_stack_trace(response: httpx.Response) -> None:
    text = response.text
    for marker in ("Traceback", 'File "', "Error:", "starlette", "uvicorn", "/ucwa_nb/"):
        assert marker not in text, text[:2000]


def _error(response: httpx.Response, status: int, code: str,
           subcode: str | None = None) -> Reason:
    assert response.status_code == status, response.text[:2000]
    _no_stack_trace(response)
    reason = reason_of(response)
    assert reason.code == code
    assert reason.subcode == subcode
    return reason


# ------------------------------------------------------------------------- sizes


def test_body_over_one_mebibyte_gets_413(session: Session, add_href: str) -> None:
    body = json.dumps({"to": JOHN, "pad": "x" * MiB}).encode()
    _error(session.post(add_href, content=body, content_type="application/json"), 413,
           "EntityTooLarge")


def test_chunked_body_over_the_limit_gets_413(session: Session, add_href: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"to": "sip:john@contoso.com", "pad": "'
        for _ in range(40):
            yield b"x" * 32 * 1024
        yield b'"}'

    # A generator body is sent chunked, without Content-Length: the limit must still hold.
    response = session.client.post(add_href, content=chunks(),
                                   headers={"Content-Type": "application/json"})
    _error(response, 413, "EntityTooLarge")


def test_oversized_token_request_gets_413(session: Session, shared_sim: Simulator) -> None:
    from support.ucwa_http import discover_token_url, new_client

    _, token_url = discover_token_url(shared_sim)
    with new_client() as client:
        response = client.post(token_url, content=b"grant_type=password&pad=" + b"x" * MiB,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    _no_stack_trace(response)


def test_the_limit_is_exact(lab: Lab) -> None:
    sim = lab.start(max_body_bytes=300)
    session = lab.sign_in(sim)
    href = session.href(session.phone_audio("Project sync"), "addPhoneAudio")
    prefix = b'{"to": "sip:john@contoso.com", "pad": "'
    fits = prefix + b"x" * (300 - len(prefix) - 2) + b'"}'
    assert len(fits) == 300
    too_big = prefix + b"x" * (301 - len(prefix) - 2) + b'"}'
    _error(session.post(href, content=too_big, content_type="application/json"), 413,
           "EntityTooLarge")
    response = session.post(href, content=fits, content_type="application/json")
    assert response.status_code == 201, response.text


# ------------------------------------------------------------------------- media types


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/octet-stream", "image/png"])
def test_wrong_content_type_gets_415(session: Session, add_href: str,
                                     content_type: str) -> None:
    body = json.dumps({"to": JOHN}).encode()
    _error(session.post(add_href, content=body, content_type=content_type), 415,
           "UnsupportedMediaType")


def test_body_without_content_type_gets_415(session: Session, add_href: str) -> None:
    response = session.client.post(add_href, content=b'{"to": "sip:john@contoso.com"}')
    _error(response, 415, "UnsupportedMediaType")


# ------------------------------------------------------------------------- malformed bodies


MALFORMED_JSON = {
    "truncated": b'{"to": ',
    "trailing-comma": b'{"to": "sip:john@contoso.com",}',
    "array": b'["sip:john@contoso.com"]',
    "string": b'"sip:john@contoso.com"',
    "number": b"42",
    "null": b"null",
    "not-utf8": b'{"to": "\xff\xfe\xfd"}',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "huge-integer": b'{"to": ' + b"9" * 10_000 + b"}",
    "xml-as-json": b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"/>',
    "nul-bytes": b"\x00" * 64,
}


@pytest.mark.parametrize("body", list(MALFORMED_JSON.values()), ids=list(MALFORMED_JSON))
def test_malformed_json_gets_400(session: Session, add_href: str, body: bytes) -> None:
    _error(session.post(add_href, content=body, content_type="application/json"), 400,
           "BadRequest")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999", "-Infinity"])
def test_json_non_finite_numbers_are_not_strings(session: Session, add_href: str,
                                                 value: str) -> None:
    body = f'{{"to": "sip:john@contoso.com", "operationId": {value}}}'.encode()
    reason = _error(session.post(add_href, content=body, content_type="application/json"), 400,
                    "BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == {"operationId"}


MALFORMED_XML = {
    "unclosed": b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
                b'<property name="to">sip:john@contoso.com</property>',
    "wrong-root": b'<events xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"/>',
    "not-xml": b"to=sip:john@contoso.com",
    "json-as-xml": b'{"to": "sip:john@contoso.com"}',
    "bad-encoding": b'<?xml version="1.0" encoding="no-such-encoding"?><input/>',
    "billion-laughs": BILLION_LAUGHS,
    "external-entity": EXTERNAL_ENTITY,
    "external-dtd": EXTERNAL_DTD,
    "parameter-entity": PARAMETER_ENTITY,
    "quadratic-blowup": QUADRATIC,
}


@pytest.mark.parametrize("body", list(MALFORMED_XML.values()), ids=list(MALFORMED_XML))
@pytest.mark.parametrize("content_type", ["application/xml",
                                          "application/vnd.microsoft.com.ucwa+xml"])
def test_malformed_or_unsafe_xml_gets_400(session: Session, add_href: str, body: bytes,
                                          content_type: str) -> None:
    response = session.post(add_href, content=body, content_type=content_type)
    _error(response, 400, "BadRequest")
    assert b"root:" not in response.content  # /etc/passwd never leaks


def test_deeply_nested_xml_is_harmless(session: Session, add_href: str) -> None:
    body = b"<input>" + b"<a>" * 20_000 + b"</a>" * 20_000 + b"</input>"
    response = session.post(add_href, content=body, content_type="application/xml")
    # Either refused as too deep or read as an input without properties: never a crash.
    assert response.status_code == 400
    _no_stack_trace(response)
    assert reason_of(response).code == "BadRequest"


def test_unsafe_xml_refused_on_application_creation(session: Session) -> None:
    applications = session.href(session.user, "applications")
    _error(session.post(applications, content=BILLION_LAUGHS, content_type="application/xml"),
           400, "BadRequest")


@pytest.mark.parametrize("to", [
    "sip:john@contoso.com\x00", "sip:john doe@contoso.com", "sip:@contoso.com",
    "sip:john@", "javascript:alert(1)", "<script>alert(1)</script>"])
def test_hostile_uris_get_parameter_validation_failure(session: Session, add_href: str,
                                                       to: str) -> None:
    response = session.post(add_href, {"to": to})
    reason = _error(response, 400, "BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == {"to"}


def test_hostile_query_string_input(session: Session, add_href: str) -> None:
    response = session.post(with_params(add_href, to="x" * 5000, operationId="y" * 5000))
    reason = _error(response, 400, "BadRequest", "ParameterValidationFailure")
    assert set(reason.parameters) == {"to", "operationId"}


# ------------------------------------------------------------------------- paths and methods


def _sibling(href: str, last: str) -> str:
    """A deliberately unknown path next to a real one (the only hand-built URLs here)."""
    return href.split("?")[0].rsplit("/", 1)[0] + "/" + last


@pytest.mark.parametrize("accept", ["application/json", "application/vnd.microsoft.com.ucwa+xml"])
def test_unknown_paths_get_a_ucwa_shaped_404(session: Session, accept: str) -> None:
    conversation = session.conversation("Project sync")
    assert conversation.href is not None
    invitation_base = session.app_href + "/communication/phoneAudioInvitations"
    for path in ("/nope", "/ucwa/oauth/v1/nothing", _sibling(conversation.href, "999"),
                 _sibling(conversation.href, "999") + "/phoneAudio",
                 invitation_base + "/999", session.app_href + "/unknown",
                 "/ucwa/oauth/v1/applications/101/..%2f..%2fetc%2fpasswd",
                 _sibling(session.conversation_log("Supplier call").href or "", "999")):
        response = session.get(path, headers={"Accept": accept})
        assert response.headers["content-type"].split(";")[0] == accept, path
        _error(response, 404, "NotFound")


@pytest.mark.parametrize(("method", "target"), [
    ("GET", "addPhoneAudio"), ("PUT", "root"), ("PUT", "conversation"),
    ("POST", "events"), ("PATCH", "application"), ("GET", "token"), ("DELETE", "user")])
def test_wrong_method_gets_405(session: Session, shared_sim: Simulator, add_href: str,
                               method: str, target: str) -> None:
    from support.ucwa_http import discover_token_url

    user_href, token_url = discover_token_url(shared_sim)
    hrefs = {
        "addPhoneAudio": add_href,
        "root": shared_sim.url,
        "conversation": session.conversation("Project sync").href or "",
        "events": session.events_href,
        "application": session.app_href,
        "token": token_url,
        "user": user_href,
    }
    response = session.client.request(method, hrefs[target])
    _error(response, 405, "MethodNotAllowed")


@pytest.mark.parametrize("authorization", [
    "Bearer", "Bearer  cwt=", "Basic YWxpY2U6dWN3YS1kZW1v", "cwt=abc", "Bearer cwt=" + "A" * 8000,
    "Bearer cwt=abc\tdef"])
def test_hostile_authorization_gets_the_challenge(session: Session, authorization: str) -> None:
    response = session.get(session.app_href, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert len(response.headers.get_list("www-authenticate")) == 2
    _no_stack_trace(response)


# ------------------------------------------------------------------------- raw socket


def _raw(sim: Simulator, payload: bytes) -> bytes:
    with socket.create_connection((sim.host, sim.port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


@pytest.mark.parametrize("payload", [
    b"GARBAGE\r\n\r\n",
    # Paths that answer 404 when the request is read after all (h11 reads the unknown
    # version as HTTP/1.1): "/" answers the root (the discovery host).
    b"GET /nowhere HTTP/9.9\r\n\r\n",
    b"POST /ucwa/oauth/v1/applications HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /ucwa/oauth/v1/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS ClientHello
], ids=["garbage", "bad-version", "bad-length", "length-and-chunked", "long-url",
        "huge-header", "tls"])
def test_garbage_on_the_socket_is_refused_and_the_server_survives(
        shared_sim: Simulator, payload: bytes) -> None:
    answer = _raw(shared_sim, payload + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"Traceback" not in answer
    if answer:
        assert answer.startswith(b"HTTP/1.1 4")
    with httpx.Client(timeout=5, trust_env=False) as client:
        assert client.get(shared_sim.url).status_code == 200
