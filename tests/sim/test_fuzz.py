"""Hostile input, generated: hypothesis fuzzing of every simulator route, and the hostile bodies
(XML bombs and external entities, huge, truncated and mis-encoded bodies) that
``test_hardening.py`` does not already cover.

The fuzzed properties, for any request to any route of the app (enumerated from the app itself,
so a new route cannot be forgotten), with JSON or XML bodies and Accept headers:

* an answer within ``REQUEST_TIMEOUT`` (no hang). A long poll that the server parks, as the
  protocol says it must, is released the protocol's way: the harness sends a newer poll, and
  the parked one must then answer 409 PGetReplaced;
* no 5xx but the documented 500 ServiceFailure/CallbackChannelError;
* every error in its documented shape: a UCWA ``reason`` in the negotiated format with the code
  of its status (ucwa-protocol.md 5.1, 5.2), the two-challenge 401, or an OAuth error on the
  token endpoint (1.3);
* no crash: no exception escapes the app, and the server still answers a health request.

Most generated requests are valid but for one or two things (the method, a path parameter,
the body or one property in it, the Content-Type, Accept, other headers, the credential, the
query string), so that they reach the code behind routing, sign-in and parsing; some get
everything wrong. The harness (routes, strategies, oracle, ASGI driver) is ``fuzzing.py``.

In process, the Starlette app is driven over ASGI on an event loop of its own, the way uvicorn
drives it, on a fresh world per example (so every example is reproducible); one test sends the
same requests through the real socket server. Case counts come from a hypothesis profile chosen
by ``UCWA_NB_FUZZ``: unset or ``ci``, 50 cases per route (and 100 through the socket);
``full``, 2,000 per route (and 2,000 through the socket); a number, that many per route.
"""

from __future__ import annotations

import codecs
import concurrent.futures
import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from hostile_xml import billion_laughs
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from starlette.routing import Route

from ucwa_nb import Simulator
from ucwa_nb.protocol import Resource
from ucwa_nb.protocol.representation import NAMESPACE
from ucwa_nb.sim import paths

from .fuzzing import (
    COMM,
    DOCUMENTED_ROUTES,
    INPUT_IDS,
    INPUT_ROUTES,
    LIMIT,
    PASSWORDS,
    POST_IDS,
    POST_ROUTES,
    REQUEST_TIMEOUT,
    ROUTE_IDS,
    ROUTES,
    SCENARIO,
    VALID_INPUT,
    VALID_PATH_VALUES,
    XML_MEDIA,
    Answer,
    Fixture,
    FuzzRequest,
    LoopThread,
    MiB,
    Stages,
    Wire,
    answer_reason,
    assert_error,
    call_asgi,
    check_answer,
    check_health,
    close_stage,
    exchange,
    health_requests,
    requests_for,
    route_request,
    run_in_stage,
    ucwa_body,
    valid_body,
    wire,
    xml_document,
)

# ------------------------------------------------------------------------- profiles

_PROFILES = {"ci": 50, "full": 2000}
FUZZ_LEVEL = os.environ.get("UCWA_NB_FUZZ", "ci").strip().lower() or "ci"
if FUZZ_LEVEL.isdigit():  # UCWA_NB_FUZZ=300: that many cases per route
    _PROFILES[FUZZ_LEVEL] = int(FUZZ_LEVEL)
if FUZZ_LEVEL not in _PROFILES:
    raise pytest.UsageError(f"UCWA_NB_FUZZ={FUZZ_LEVEL!r}: use ci, full or a number of cases")
for _level, _cases in _PROFILES.items():
    settings.register_profile(
        f"ucwa-nb-fuzz-{_level}",
        max_examples=_cases,
        # Timing is bounded per request (REQUEST_TIMEOUT) instead: a noisy machine must not
        # turn a slow example into a failure, and a hang must not go unnoticed either.
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much, HealthCheck.large_base_example],
        print_blob=True,
    )
FUZZ = settings.get_profile(f"ucwa-nb-fuzz-{FUZZ_LEVEL}")
CASES_PER_ROUTE = _PROFILES[FUZZ_LEVEL]
# The socket test sends a sample over every route through uvicorn: fewer cases, as each one
# costs a few loopback round trips.
SOCKET_CASES = {"ci": 100, "full": 2000}.get(FUZZ_LEVEL, CASES_PER_ROUTE)

TOKEN_LIMIT = SCENARIO.server.max_token_body_bytes


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture(scope="module")
def stages() -> Stages:
    return Stages()


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Say how many cases ran, per route, at the end of the module (in the terminal)."""
    started = time.monotonic()
    yield
    if not CASES_RUN:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        in_process = {k: v for k, v in CASES_RUN.items() if k != "socket"}
        line = (f"ucwa-nb fuzz ({FUZZ_LEVEL}): {sum(in_process.values())} cases in process "
                f"over {len(in_process)} routes (min {min(in_process.values(), default=0)}, "
                f"max {max(in_process.values(), default=0)} per route), "
                f"{CASES_RUN.get('socket', 0)} through the socket, "
                f"{time.monotonic() - started:.1f} s for the module")
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)


CASES_RUN: dict[str, int] = {}


def fuzz_one(loop_thread: LoopThread, stages: Stages, request: FuzzRequest) -> None:
    async def run() -> tuple[Wire, Answer, bool, list[Answer | None]]:
        stage = await stages.new()
        try:
            sent = wire(request, stage.fixture)
            answer, parked = await exchange(stage, sent)
            health = [await call_asgi(stage.app, h) for h in health_requests(stage.fixture)]
            stage.world.activity()  # the world's own bookkeeping is still consistent
            return sent, answer, parked, health
        finally:
            await close_stage(stage)

    CASES_RUN[request.route] = CASES_RUN.get(request.route, 0) + 1
    sent, answer, parked, health = loop_thread.run(run())
    note(f"request: {sent}")
    if parked and answer.status == 409:
        # The protocol's way out of a parked poll: replaced by a newer one (unless the
        # call's events released it first, with a batch).
        assert answer_reason(answer).subcode == "PGetReplaced", answer
    check_answer(request.route, sent, answer)
    check_health(health)


# ------------------------------------------------------------------------- fuzzing

def test_every_documented_endpoint_is_a_route_and_every_route_is_fuzzable() -> None:
    paths = {route.path for route in ROUTES}
    missing = {name: path for name, path in DOCUMENTED_ROUTES.items() if path not in paths}
    assert not missing, f"documented endpoints without a route: {missing}"
    for route in ROUTES:
        unknown = set(route.param_convertors) - set(VALID_PATH_VALUES)
        assert not unknown, (f"{route.path}: teach the fuzzer valid values of the path "
                             f"parameters {unknown} (VALID_PATH_VALUES)")
        assert route.methods, route.path


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@FUZZ
@given(data=st.data())
def test_fuzz_route_in_process(loop_thread: LoopThread, stages: Stages, route: Route,
                               data: st.DataObject) -> None:
    fuzz_one(loop_thread, stages, data.draw(requests_for(route), label="request"))


@pytest.mark.slow
def test_fuzz_every_route_through_the_socket() -> None:
    """The same kind of requests, through uvicorn on a real socket (h11's parsing, framing
    and the server's own error handling included), on one long-lived simulator."""
    # No default Accept: the fuzzed headers are what the server sees (httpx adds */*).
    with Simulator(SCENARIO) as sim, httpx.Client(timeout=REQUEST_TIMEOUT, trust_env=False,
                                                  follow_redirects=False) as client:
        _fuzz_socket(sim, _socket_fixture(sim, client), client)


def _socket_fixture(sim: Simulator, client: httpx.Client) -> Fixture:
    """Every user signed in with an application of their own, as in ``new_stage``."""
    from support.ucwa_http import request_token

    tokens = {name: request_token(sim, f"{name}@contoso.com", password)
              for name, password in PASSWORDS.items()}
    apps = []
    for name in PASSWORDS:
        response = client.post(
            sim.base_url + paths.APPLICATIONS,
            json=VALID_INPUT[paths.APPLICATIONS] | {"endpointId": f"fuzz-{name}"},
            headers={"Authorization": f"Bearer {tokens[name]}"})
        assert response.status_code == 201, response.text
        apps.append(str(response.json()["id"]))
    fixture = Fixture(tokens)
    fixture.path_values["app"] = [apps[0], apps[0], apps[0], apps[1], apps[2]]
    return fixture


def _fuzz_socket(sim: Simulator, fixture: Fixture, client: httpx.Client) -> None:
    pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="ucwa-fuzz-socket")

    def send(request: Wire) -> tuple[Wire, Answer]:
        url = sim.base_url + request.path + ("?" + request.query.decode("latin-1")
                                             if request.query else "")
        headers = [(k, v) for k, v in request.headers if k not in (b"host", b"content-length")]
        response = client.request(request.method, url, headers=headers,
                                  content=request.body or None)
        sent = response.request  # as httpx sent it, with its own default headers
        return (Wire(sent.method, sent.url.raw_path.decode("ascii").split("?")[0], b"",
                     tuple(sent.headers.raw), request.body),
                Answer(response.status_code,
                       [(k.decode("latin-1").lower(), v.decode("latin-1"))
                        for k, v in response.headers.raw], response.content))

    def parked_polls() -> list[tuple[str, int, int, str]]:
        def read() -> list[tuple[str, int, int, str]]:
            return [(app_id, parked.ack, parked.priority, app.user.key.split("@")[0])
                    for app_id, app in sim.world.apps.items()
                    if (parked := app.channel.parked) is not None]
        return sim.call(read)

    def release(app_id: str, ack: int, priority: int, owner: str) -> None:
        """A newer poll with the same ack and priority, as in ``release_parked``."""
        query = urlencode({"ack": ack, "priority": priority, "timeout": 0.01})
        pool.submit(client.get, f"{sim.base_url}{paths.APPLICATIONS}/{app_id}/events?{query}",
                    headers={"Authorization": f"Bearer {fixture.tokens[owner]}"})

    @settings(FUZZ, max_examples=SOCKET_CASES)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        route = data.draw(st.sampled_from(ROUTES), label="route")
        request = wire(data.draw(requests_for(route, socket_safe=True), label="request"),
                       fixture)
        note(f"request: {request}")
        future = pool.submit(send, request)
        deadline = time.monotonic() + REQUEST_TIMEOUT
        parked = False
        while True:
            try:
                request, answer = future.result(0.05)
                break
            except concurrent.futures.TimeoutError:
                for poll in parked_polls():
                    parked = True
                    release(*poll)
            assert time.monotonic() < deadline, f"no answer within {REQUEST_TIMEOUT} s"
        if parked and answer.status == 409:
            assert answer_reason(answer).subcode == "PGetReplaced"
        check_answer(route.path, request, answer)
        assert client.get(sim.url).status_code == 200
        user = client.get(sim.base_url + paths.USER,
                          headers={"Authorization": f"Bearer {fixture.tokens['alice']}"})
        assert user.status_code == 200, user.text
        CASES_RUN["socket"] = CASES_RUN.get("socket", 0) + 1

    try:
        run()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------------------- hostile bodies
#
# Aimed at every route that takes a POST (read from the app), in process unless the socket
# itself is the point; each request goes to a fresh world, the one the fuzzing uses.
#
# XML bombs: billion laughs, quadratic blowup, entities in attributes; refused before any
# expansion.

LAUGHS = billion_laughs(
    b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
    b'<property name="to">&lol9;</property><property name="userAgent">&lol9;</property>'
    b"</input>")
QUADRATIC = (b'<?xml version="1.0"?>\n<!DOCTYPE input [<!ENTITY a "' + b"x" * 20_000
             + b'">]>\n<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
             + b'<property name="to">' + b"&a;" * 2_000 + b"</property></input>")
ATTRIBUTE_BOMB = (b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">'
                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                  b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
                  b'<property name="&c;">x</property></input>')
BOMBS = {"billion-laughs": LAUGHS, "quadratic-blowup": QUADRATIC,
         "entity-in-attribute": ATTRIBUTE_BOMB}


@pytest.mark.parametrize("bomb", list(BOMBS), ids=list(BOMBS))
@pytest.mark.parametrize("route", POST_ROUTES, ids=POST_IDS)
def test_xml_bombs_are_refused_without_expansion(loop_thread: LoopThread, stages: Stages,
                                                 route: Route, bomb: str) -> None:
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, BOMBS[bomb], content_type="application/xml",
        accept="application/vnd.microsoft.com.ucwa+xml"), trace_memory=True)
    # Expanded, these would take hundreds of megabytes (billion laughs: gigabytes).
    assert outcome.peak_bytes < 16 * MiB, outcome.peak_bytes
    assert outcome.seconds < 5, outcome.seconds
    assert outcome.calls_after == outcome.calls_before
    assert outcome.answer is not None
    if route in INPUT_ROUTES:
        assert_error(outcome.answer, 400, "BadRequest", fmt="xml")
    elif route.path == paths.TOKEN and len(BOMBS[bomb]) > TOKEN_LIMIT:
        # Larger than any sign-in form: refused unread (issue 13).
        assert outcome.answer.status == 413
    elif route.path == paths.TOKEN:  # not a form: the OAuth error
        assert outcome.answer.status == 400
        assert json.loads(outcome.answer.body) == {"error": "invalid_request"}
    else:  # a body these routes never parse: whatever they answer, not a 5xx
        assert outcome.answer.status < 500, outcome.answer


@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_the_same_route_takes_a_benign_xml_body(loop_thread: LoopThread, stages: Stages,
                                                route: Route) -> None:
    """The control for the bombs: without the DTD, the same route accepts the input."""
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, valid_body(route.path, "xml"), content_type="application/xml",
        params={"conv": "2"}))
    assert outcome.answer is not None
    assert outcome.answer.status in (200, 201, 204), outcome.answer


class Listener:
    """A TCP listener on a free loopback port that records every connection made to it:
    an external entity the parser fetched would show up here."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ucwa-fuzz-xxe")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    try:
        yield found
    finally:
        found.close()


def external_bodies(port: int, canary: Path) -> dict[str, bytes]:
    url = f"http://127.0.0.1:{port}/evil".encode()
    file_url = canary.as_uri().encode()
    ns = b'xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"'
    to = b'<property name="to">sip:john@contoso.com</property>'
    return {
        "entity-http": b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY x SYSTEM "' + url
                       + b'">]><input ' + ns + b'><property name="to">&x;</property></input>',
        "entity-file": b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY x SYSTEM "' + file_url
                       + b'">]><input ' + ns + b'><property name="to">&x;</property></input>',
        "external-dtd": b'<?xml version="1.0"?><!DOCTYPE input SYSTEM "' + url + b'"><input '
                        + ns + b">" + to + b"</input>",
        "public-dtd": b'<?xml version="1.0"?><!DOCTYPE input PUBLIC "-//x//y" "' + url
                      + b'"><input ' + ns + b">" + to + b"</input>",
        "parameter-entity": b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY % p SYSTEM "'
                            + url + b'"> %p;]><input ' + ns + b">" + to + b"</input>",
        "xinclude": b'<input ' + ns + b' xmlns:xi="http://www.w3.org/2001/XInclude">'
                    b'<property name="to"><xi:include href="' + file_url
                    + b'" parse="text"/></property></input>',
        "schema-location": b'<input ' + ns + b' xmlns:xsi="http://www.w3.org/2001/'
                           b'XMLSchema-instance" xsi:schemaLocation="urn:x ' + url + b'">'
                           + to + b"</input>",
    }


EXTERNAL_KINDS = ["entity-http", "entity-file", "external-dtd", "public-dtd",
                  "parameter-entity", "xinclude", "schema-location"]
WITH_DTD = {"entity-http", "entity-file", "external-dtd", "public-dtd", "parameter-entity"}


@pytest.mark.parametrize("content_type", XML_MEDIA)
@pytest.mark.parametrize("kind", EXTERNAL_KINDS)
@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_external_resources_are_never_fetched(loop_thread: LoopThread, stages: Stages,
                                              listener: Listener, tmp_path: Path,
                                              route: Route, kind: str,
                                              content_type: str) -> None:
    canary = tmp_path / "canary.txt"
    secret = f"canary-{os.urandom(8).hex()}"
    canary.write_text(secret)
    before = listener.connections
    body = external_bodies(listener.port, canary)[kind]
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, body, content_type=content_type, accept=content_type,
        params={"conv": "2"}))
    time.sleep(0.05)  # a fetch would have connected by now
    assert listener.connections == before, "the parser fetched an external resource"
    assert outcome.answer is not None
    assert secret.encode() not in outcome.answer.body
    if kind in WITH_DTD:  # UCWA bodies never carry a DTD: refused outright
        assert_error(outcome.answer, 400, "BadRequest", fmt="xml")
    else:  # no DTD, nothing to refuse; the include and the schema are not followed
        assert outcome.answer.status < 500, outcome.answer


# Huge bodies: 413 EntityTooLarge (ucwa-protocol.md 5.2; the README's "bodies over 1 MiB get
# 413", here with a 64 KiB limit), answered before the body is read to its end.

def endless(chunk: int = 64 * 1024) -> Iterator[bytes]:
    while True:
        yield b'{"to": "' + b"x" * (chunk - 8)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("route", POST_ROUTES, ids=POST_IDS)
def test_huge_bodies_get_413_without_being_read(loop_thread: LoopThread, stages: Stages,
                                                route: Route, fmt: str,
                                                declared: bool) -> None:
    accept = "application/json" if fmt == "json" else "application/vnd.microsoft.com.ucwa+xml"
    length = [(b"content-length", str(10 * 1024**3).encode())] if declared else []
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, b"", content_type="application/json", accept=accept, headers=length),
        chunks=endless())
    assert_error(outcome.answer, 413, "EntityTooLarge", fmt=fmt)
    read = sum(outcome.consumed)
    if declared:  # refused on the announced length alone
        assert read == 0, read
    else:  # read up to the limit (the token endpoint's is a form's), and not a chunk further
        limit = TOKEN_LIMIT if route.path == paths.TOKEN else LIMIT
        assert limit < read <= limit + 64 * 1024, read
    assert outcome.calls_after == outcome.calls_before


# Truncated bodies: the client announces more than it sends, then goes away.

@pytest.mark.parametrize("route", POST_ROUTES, ids=POST_IDS)
def test_truncated_bodies_get_400_and_change_nothing(loop_thread: LoopThread, stages: Stages,
                                                     route: Route) -> None:
    body = valid_body(route.path, "json")
    half = body[: max(1, len(body) // 2)]
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, b"", content_type="application/json",
        headers=[(b"content-length", str(len(body)).encode())], params={"conv": "2"}),
        chunks=iter([half]), disconnect=True)
    # Over uvicorn nobody is left to read this answer (see the socket test below); what the
    # app decides still matters: a client error, and no call, no application.
    if route.path == paths.TOKEN:
        assert outcome.answer is not None
        assert outcome.answer.status == 400
        assert json.loads(outcome.answer.body) == {"error": "invalid_request"}
    else:
        assert_error(outcome.answer, 400, "BadRequest")
    assert outcome.calls_after == outcome.calls_before
    assert outcome.apps_after == outcome.apps_before


# Mis-encoded bodies: UCWA bodies are UTF-8 (every sample; RFC 8259 for JSON). Another
# charset is 415 UnsupportedMediaType; bytes that are not UTF-8 are 400 BadRequest.

def _encoded(text: str, how: str) -> bytes:
    return {
        "invalid-utf8": text.encode("utf-8").replace("é".encode(), b"\xe9"),
        "utf16le-no-bom": text.encode("utf-16-le"),
        "utf16be-no-bom": text.encode("utf-16-be"),
        "utf16-bom": text.encode("utf-16"),
        "utf32": text.encode("utf-32"),
    }.get(how, text.encode("utf-8"))


MISENCODED: dict[str, tuple[str, str, int, str]] = {
    # name: (how the body is encoded, charset parameter, status, code)
    "invalid-utf8": ("invalid-utf8", "", 400, "BadRequest"),
    "utf-16-le-without-bom": ("utf16le-no-bom", "", 400, "BadRequest"),
    "utf-16-be-without-bom": ("utf16be-no-bom", "", 400, "BadRequest"),
    "utf-16-with-bom": ("utf16-bom", "", 400, "BadRequest"),
    "utf-32": ("utf32", "", 400, "BadRequest"),
    "charset-utf-8-lies-latin-1-body": ("invalid-utf8", "; charset=utf-8", 400, "BadRequest"),
    "charset-utf-8-lies-utf-16-body": ("utf16le-no-bom", "; charset=utf-8", 400,
                                       "BadRequest"),
    "charset-utf-16-lies-utf-8-body": ("utf-8", "; charset=utf-16", 415,
                                       "UnsupportedMediaType"),
    "charset-iso-8859-1": ("utf-8", "; charset=iso-8859-1", 415, "UnsupportedMediaType"),
}
WELL_ENCODED = {"plain": ("utf-8", ""), "charset-utf-8": ("utf-8", "; charset=utf-8"),
                "charset-UTF-8-quoted": ("utf-8", '; charset="UTF-8"'),
                "utf-8-bom": ("utf-8-bom", "")}


def _non_ascii_input(route: str) -> dict[str, str]:
    """A valid input with a non-ASCII character in it, so that the encoding matters."""
    if route == paths.APPLICATIONS:
        return {"userAgent": "ucwa-nb-fuzz/Zoé"}
    return {"operationId": "opé-1"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("case", list(MISENCODED))
@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_mis_encoded_bodies_get_documented_errors(loop_thread: LoopThread, stages: Stages,
                                                  route: Route, case: str, fmt: str) -> None:
    how, charset, status, code = MISENCODED[case]
    text = valid_body(route.path, fmt, **_non_ascii_input(route.path)).decode()
    media = "application/json" if fmt == "json" else "application/xml"
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, _encoded(text, how), content_type=media + charset, accept=media,
        params={"conv": "2"}))
    assert_error(outcome.answer, status, code, fmt=fmt)
    assert outcome.calls_after == outcome.calls_before
    assert outcome.apps_after == outcome.apps_before


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("case", list(WELL_ENCODED))
@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_utf_8_bodies_are_accepted(loop_thread: LoopThread, stages: Stages, route: Route,
                                   case: str, fmt: str) -> None:
    """The controls: the same inputs, well encoded, get through."""
    how, charset = WELL_ENCODED[case]
    body = valid_body(route.path, fmt, **_non_ascii_input(route.path))
    if how == "utf-8-bom":
        body = codecs.BOM_UTF8 + body
    media = "application/json" if fmt == "json" else "application/xml"
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, body, content_type=media + charset, accept=media, params={"conv": "2"}))
    assert outcome.answer is not None
    assert outcome.answer.status in (200, 201, 204), outcome.answer


@pytest.mark.parametrize("declared", ["iso-8859-1", "utf-16", "us-ascii"])
@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_an_xml_declaration_naming_another_encoding_gets_400(
        loop_thread: LoopThread, stages: Stages, route: Route, declared: str) -> None:
    props = {**VALID_INPUT[route.path], **_non_ascii_input(route.path)}
    body = xml_document(props, ("input", NAMESPACE,
                                f'<?xml version="1.0" encoding="{declared}"?>')).encode()
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        route.path, f, body, content_type="application/xml", accept="application/xml",
        params={"conv": "2"}))
    assert_error(outcome.answer, 400, "BadRequest", fmt="xml")


# Text no UCWA body can carry back: control characters, lone surrogates, U+FFFE.

@pytest.mark.parametrize("value", ["\\u0000", "a\\u000bb", "\\ud800", "\\udfff", "\\ufffe"])
@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_unrepresentable_input_gets_parameter_validation_failure(
        loop_thread: LoopThread, stages: Stages, route: Route, value: str) -> None:
    name = next(iter(_non_ascii_input(route.path)))
    body = json.dumps({**VALID_INPUT[route.path], name: "x"}).replace(
        '"x"', f'"{value}"').encode()  # the JSON escape itself: json.dumps would re-escape it
    for accept in ("application/json", "application/xml"):
        outcome = run_in_stage(loop_thread, stages, functools.partial(
            route_request, route.path, body=body, content_type="application/json",
            accept=accept, params={"conv": "2"}))
        reason = assert_error(outcome.answer, 400, "BadRequest", "ParameterValidationFailure",
                              fmt=accept.rsplit("/", 1)[-1])
        assert set(reason.parameters) == {name}
        assert outcome.calls_after == outcome.calls_before
        assert outcome.apps_after == outcome.apps_before


def test_an_error_quoting_a_control_character_is_still_readable_xml(
        loop_thread: LoopThread, stages: Stages) -> None:
    """The 415 message quotes the Content-Type; h11 keeps control characters off the wire,
    but the app must not depend on it."""
    add = COMM + "/conversations/{conv}/phoneAudio/addPhoneAudio"
    outcome = run_in_stage(loop_thread, stages, lambda f: route_request(
        add, f, b"{}", content_type="text/\x0bplain", accept="application/xml"))
    reason = assert_error(outcome.answer, 415, "UnsupportedMediaType", fmt="xml")
    assert "\x0b" not in (reason.message or "")


# Found by the fuzzer, kept as examples.

def test_a_non_ascii_password_is_an_oauth_error_not_a_500(loop_thread: LoopThread,
                                                          stages: Stages) -> None:
    for password in ("é", "ucwa-démo", "\U0001f4a5"):
        form = urlencode({"grant_type": "password", "username": "alice@contoso.com",
                          "password": password}).encode()
        outcome = run_in_stage(loop_thread, stages, functools.partial(
            route_request, paths.TOKEN, body=form,
            content_type="application/x-www-form-urlencoded"))
        assert outcome.answer is not None
        assert outcome.answer.status == 400, outcome.answer
        assert json.loads(outcome.answer.body) == {"error": "invalid_grant"}


@pytest.mark.parametrize("limit", ["²", "٣", "9" * 5000, "-1", "1e3", "0"])
def test_conversation_logs_take_any_limit(loop_thread: LoopThread, stages: Stages,
                                          limit: str) -> None:
    def make(fixture: Fixture) -> Wire:
        request = route_request(COMM + "/conversationLogs", fixture, method="GET")
        return Wire(request.method, request.path, urlencode({"limit": limit}).encode(),
                    request.headers, b"")

    outcome = run_in_stage(loop_thread, stages, make)
    assert outcome.answer is not None
    assert outcome.answer.status == 200, outcome.answer
    logs = ucwa_body(outcome.answer)
    assert isinstance(logs, Resource)
    assert len(logs.links.get("conversationLog", [])) == (0 if limit == "0" else 3)


# ------------------------------------------------------------------------- over the socket

def _raw_exchange(sim: Simulator, payload: bytes, *, half_close: bool,
                  timeout: float = 5.0) -> bytes:
    with socket.create_connection((sim.host, sim.port), timeout=timeout) as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and not half_close:
                    break
    return b"".join(chunks)


@pytest.fixture(scope="module")
def socket_sim() -> Iterator[tuple[Simulator, str, str]]:
    """A simulator on a real socket with alice signed in: (sim, token, addPhoneAudio path)."""
    from support.ucwa_http import request_token

    with Simulator(SCENARIO) as sim:
        token = request_token(sim, "alice@contoso.com", "ucwa-demo")
        with httpx.Client(base_url=sim.base_url, trust_env=False, timeout=REQUEST_TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            app = client.post(paths.APPLICATIONS, json=VALID_INPUT[paths.APPLICATIONS])
            assert app.status_code == 201, app.text
            add = f"{paths.APPLICATIONS}/{app.json()['id']}/communication/conversations/2/" \
                  "phoneAudio/addPhoneAudio"
            yield sim, token, add


def _headers(method: str, path: str, token: str, extra: str) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n").encode()


class ErrorLog(logging.Handler):
    """Records what uvicorn logs at WARNING and above (an exception in the app, say)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def uvicorn_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "ucwa_nb")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_socket_truncated_body_then_close_is_dropped_harmlessly(
        socket_sim: tuple[Simulator, str, str]) -> None:
    """Content-Length larger than what is sent, then the client closes its side: uvicorn
    closes the connection (no one is left to answer; the app's 400 is dropped), nothing is
    started, nothing is logged as an error, and the server goes on serving."""
    sim, token, add = socket_sim
    before = len(sim.activity())
    with uvicorn_errors() as errors:
        for body in (b'{"to": "sip:jo', b"<input xmlns=", b""):
            answer = _raw_exchange(sim, _headers("POST", add, token, "Content-Length: 100\r\n")
                                   + body, half_close=True)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 400"), answer
        time.sleep(0.2)
    assert not errors.records, [r.getMessage() for r in errors.records]
    assert len(sim.activity()) == before
    with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client:
        assert client.get(sim.url).status_code == 200


def test_socket_truncated_body_that_stalls_blocks_nobody_else(
        socket_sim: tuple[Simulator, str, str]) -> None:
    """A client that announces a body and stops sending holds only its own request."""
    sim, token, add = socket_sim
    before = len(sim.activity())
    with socket.create_connection((sim.host, sim.port), timeout=5) as stalled:
        stalled.sendall(_headers("POST", add, token, "Content-Length: 100\r\n")
                        + b'{"to": "sip:jo')
        started = time.monotonic()
        with httpx.Client(trust_env=False, timeout=REQUEST_TIMEOUT) as client:
            for _ in range(5):
                assert client.get(sim.url).status_code == 200
        assert time.monotonic() - started < 5
    assert len(sim.activity()) == before


def test_socket_huge_declared_body_gets_413_before_it_is_sent(
        socket_sim: tuple[Simulator, str, str]) -> None:
    sim, token, add = socket_sim
    started = time.monotonic()
    answer = _raw_exchange(sim, _headers("POST", add, token,
                                         f"Content-Length: {10 * 1024**3}\r\n"),
                           half_close=False)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert time.monotonic() - started < 5
    head = answer.partition(b"\r\n\r\n")[0]
    assert b"content-type: application/json" in head.lower()


def test_socket_endless_chunked_body_gets_413_with_bounded_memory(
        socket_sim: tuple[Simulator, str, str]) -> None:
    """A chunked body with no end: the answer comes once the limit is passed, while the
    client is still sending, and the server's memory never holds more than a little of it."""
    sim, token, add = socket_sim
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    sent = 0
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with socket.create_connection((sim.host, sim.port), timeout=5) as sock:
            sock.sendall(_headers("POST", add, token, "Transfer-Encoding: chunked\r\n"))
            sock.setblocking(False)
            answer = b""
            deadline = time.monotonic() + 20
            while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
                with contextlib.suppress(BlockingIOError):
                    sent += sock.send(chunk)
                with contextlib.suppress(BlockingIOError):
                    answer += sock.recv(65536)
                if sent > 256 * MiB:
                    break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 413 "), (sent, answer[:200])
    assert sent < 64 * MiB, sent  # answered long before the client would have finished
    assert peak < 16 * MiB, peak


@pytest.mark.parametrize("route", INPUT_ROUTES, ids=INPUT_IDS)
def test_deeply_nested_json_is_no_server_error(loop_thread: LoopThread, stages: Stages,
                                              route: Route) -> None:
    """Found by the fuzzer: a JSON object nested about 950 deep parses, and the next
    recursive walk over it (the check for unrepresentable text) hit the recursion limit."""
    name = next(iter(_non_ascii_input(route.path)))
    for depth in range(800, 1000, 10):
        for nested in (b'{"a":' * depth + b"1" + b"}" * depth, b"[" * depth + b"]" * depth):
            body = b'{"' + name.encode() + b'":' + nested + b"}"
            outcome = run_in_stage(loop_thread, stages, functools.partial(
                route_request, route.path, body=body, content_type="application/json",
                params={"conv": "2"}))
            assert outcome.answer is not None
            assert outcome.answer.status < 500, (depth, outcome.answer)
