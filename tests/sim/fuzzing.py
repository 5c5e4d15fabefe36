"""The fuzzing harness of ``test_fuzz.py``: the simulator's routes and their documented inputs,
hypothesis strategies for requests to them, the oracle that checks an answer, and an ASGI
driver that runs the simulator's app on an event loop of its own, as uvicorn does, without
the socket.

Requests are generated symbolically (path parameters as indexes into the valid values, the
credential as a user name) and resolved against the world they are sent to (``wire``), so the
same strategies serve a fresh in-process world per example and a long-lived socket server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import re
import threading
import time
import tracemalloc
from collections.abc import Callable, Coroutine, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlencode
from xml.sax.saxutils import escape, quoteattr

from hypothesis import note
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.types import ASGIApp
from support import default_scenario_dict

from ucwa_nb import parse
from ucwa_nb.protocol import Events, Reason, Resource
from ucwa_nb.protocol.exercises import EXERCISES
from ucwa_nb.protocol.representation import NAMESPACE, ParseError
from ucwa_nb.sim import paths
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.rules import phone_audio
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario_loader import scenario_from_dict
from ucwa_nb.sim.state import Target

T = TypeVar("T")

REQUEST_TIMEOUT = 10.0  # seconds any single request may take, however noisy the machine
MiB = 1024 * 1024
JOHN = "sip:john@contoso.com"

# The default scenario, but no call moves on by itself during an example (alice's own phone
# rings for a minute), so the world each example sees is the one new_stage describes and a
# parked poll stays parked until something releases it; and short polls: one that names no
# timeout, or a short one, ends by itself in 10 ms; a longer one is replaced by the harness.
_FUZZ_WORLD = default_scenario_dict()
_FUZZ_WORLD["server"] = {**_FUZZ_WORLD.get("server", {}), "min_poll_timeout": 0.01,
                         "default_poll_timeout": 0.01, "callback_grace": 600.0,
                         "application_expiry": 600.0, "max_body_bytes": 64 * 1024,
                         "ring_timeout": 60.0}
_FUZZ_WORLD["users"][0]["own_phone"] = {"behaviour": "never_answers"}
SCENARIO = scenario_from_dict(_FUZZ_WORLD, name="fuzz")
PASSWORDS = {"alice": "ucwa-demo", "bob": "ucwa-demo-bob", "guest": "ucwa-demo-guest"}
LIMIT = SCENARIO.server.max_body_bytes

# ucwa-protocol.md 5.2: the code of every synchronous error status the simulator may answer.
CODE_OF_STATUS = {400: "BadRequest", 403: "Forbidden", 404: "NotFound",
                  405: "MethodNotAllowed", 409: "Conflict", 410: "Gone",
                  412: "PreconditionFailed", 428: "PreconditionRequired",  # PUT communication
                  413: "EntityTooLarge", 415: "UnsupportedMediaType", 500: "ServiceFailure",
                  503: "ServiceUnavailable"}
# ucwa-protocol.md 1.3: the token endpoint's OAuth errors.
OAUTH_ERRORS = {"invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_scope",
                "server_error"}
STACK_TRACE_MARKERS = (b"Traceback", b'File "', b"starlette", b"uvicorn", b"/ucwa_nb/")


# ------------------------------------------------------------------------- the routes

def app_routes() -> list[Route]:
    """Every route of the simulator, read from the app itself."""
    routes = create_app(World(SCENARIO)).routes
    assert all(isinstance(route, Route) for route in routes), routes
    return [route for route in routes if isinstance(route, Route)]


ROUTES = app_routes()
ROUTE_IDS = [route.path for route in ROUTES]
APP = paths.APPLICATIONS + "/{app}"
COMM = APP + "/communication"

# What a valid value of each path parameter is in a fresh fuzz world (World numbers things
# deterministically): alice's application 101 with a live channel, bob's 102 that never
# polled (500 CallbackChannelError), guest's 103 (no Conversations.Initiate: 403); alice's
# conversations 1-3 and logs 1-3; invitation 1, alice calling John from conversation 1.
VALID_PATH_VALUES: dict[str, list[str]] = {
    "app": ["101", "101", "101", "102", "103"],
    "conv": ["1", "2", "3"],
    "log": ["1", "2", "3"],
    "inv": ["1"],
    "participant": ["john@contoso.com", "maria@contoso.com", "me"],
    "person": ["john@contoso.com", "nora@contoso.com", "alice@contoso.com", "bob@contoso.com"],
    "recipient": ["john@contoso.com", "pierre@contoso.com", "maria@contoso.com"],
    "phone": ["work"],
    "exercise": [spec.id for spec in EXERCISES],
}
# The simulator's own routes for the trainer (HTTP Basic) and for each attendee (bearer).
TRAINER_ROUTES = {paths.TEMPLATES[name] for name in ("activity", "grid", "gridCsv")}
PROGRESS_ROUTES = {paths.TEMPLATES[name] for name in ("progress", "progressCheck")}

# The documented endpoints (ucwa-protocol.md 9, design.md "The simulator") that must exist.
DOCUMENTED_ROUTES = {
    "autodiscover root": paths.ROOT,
    "user": paths.USER,
    "oauth token": paths.TOKEN,
    "applications": paths.APPLICATIONS,
    "application": APP,
    "events": APP + "/events",
    "communication": COMM,
    "conversations": COMM + "/conversations",
    "conversation": COMM + "/conversations/{conv}",
    "participants": COMM + "/conversations/{conv}/participants",
    "phoneAudio": COMM + "/conversations/{conv}/phoneAudio",
    "addPhoneAudio": COMM + "/conversations/{conv}/phoneAudio/addPhoneAudio",
    "stopPhoneAudio": COMM + "/conversations/{conv}/phoneAudio/stopPhoneAudio",
    "conversationLogs": COMM + "/conversationLogs",
    "conversationLog": COMM + "/conversationLogs/{log}",
    "continuePhoneAudio": COMM + "/conversationLogs/{log}/continuePhoneAudio",
    "phoneAudioInvitation": COMM + "/phoneAudioInvitations/{inv}",
    "cancel": COMM + "/phoneAudioInvitations/{inv}/cancel",
}

# Input properties of the routes that read them, with values that are right (so that some
# cases get through validation and really start calls). Every other POST route is fuzzed
# with all of these names.
GOOD_VALUES: dict[str, list[Any]] = {
    "to": [JOHN, "sip:maria@contoso.com", "sip : john@contoso.com", "SIP:John@Contoso.com",
           "sip:nobody@contoso.com", "sip:alice@contoso.com", "tel:+14255551234"],
    "phoneNumber": ["tel:+14255551234", "+14255551234", "4255551234", "tel : +14255551234",
                    "tel:+14255550199", "tel:+1 (425) 555-1234;ext=12", "555", ""],
    "operationId": ["74cb7404e0a247d5a2d4eb0376a47dbf", "123", "x" * 50, "x" * 51],
    "userAgent": ["ucwa-nb-fuzz/1.0", "x" * 100, "x" * 101, ""],
    "endpointId": ["fuzz-endpoint", "a3c1e2f0-7b9d-4e2a-9c51-0d7f3b2a1e44", "x" * 101],
    "culture": ["en-US", "en-us", "x" * 100, ""],
    "instanceId": ["tab-1", "x" * 101],
    "type": ["Browser", "Mobile"],
    "grant_type": ["password", "urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting",
                   "urn:microsoft.rtc:passive", "authorization_code", ""],
    "username": ["alice@contoso.com", "sip:alice@contoso.com", "ALICE@contoso.com",
                 "bob@contoso.com", "nobody@contoso.com", ""],
    "password": ["ucwa-demo", "ucwa-demo-bob", "wrong", "é", "ucwa-demo\x00", ""],
    "scope": ["all", "none", ""],
    "importance": ["Normal", "Urgent", "Emergency", "normal"],
    "subject": ["Fuzzing", "x" * 250, "x" * 251],
    "threadId": ["292e0aaef36c426a97757f43dda19d06"],
    "signInAs": ["Online", "Busy", "DoNotDisturb", "Offline"],
    "supportedModalities": [["PhoneAudio"], ["PhoneAudio", "Messaging"], ["Video"], []],
    "audioPreference": ["PhoneAudio", "VoipAudio"],
    "inactiveTimeout": ["5", 5, -1],
}
INPUT_NAMES: dict[str, list[str]] = {
    paths.APPLICATIONS: ["userAgent", "endpointId", "culture", "instanceId", "type"],
    COMM + "/conversations/{conv}/phoneAudio/addPhoneAudio": ["operationId", "phoneNumber",
                                                              "to"],
    COMM + "/conversationLogs/{log}/continuePhoneAudio": ["operationId", "phoneNumber"],
    paths.TOKEN: ["grant_type", "username", "password", "scope"],
    COMM + "/startPhoneAudio": ["operationId", "phoneNumber", "to", "importance", "subject",
                                "threadId"],
    APP + "/me/makeMeAvailable": ["phoneNumber", "signInAs", "supportedModalities",
                                  "audioPreference", "inactiveTimeout"],
}
VALID_INPUT: dict[str, dict[str, Any]] = {
    paths.APPLICATIONS: {"userAgent": "ucwa-nb-fuzz/1.0", "endpointId": "fuzz-endpoint",
                          "culture": "en-US"},
    COMM + "/conversations/{conv}/phoneAudio/addPhoneAudio": {"operationId": "op-1",
                                                              "to": JOHN},
    COMM + "/conversationLogs/{log}/continuePhoneAudio": {"operationId": "op-1"},
    paths.TOKEN: {"grant_type": "password", "username": "alice@contoso.com",
                   "password": "ucwa-demo"},
    COMM + "/startPhoneAudio": {"operationId": "op-1", "to": JOHN},
    APP + "/me/makeMeAvailable": {"supportedModalities": ["PhoneAudio"]},
}
# The query strings real clients send (ucwa-protocol.md 2.1, 3.4): the event channel's poll
# for the next batch (batch 1 holds the call's first events: see new_stage), parked for 3
# minutes or released at once; limits on conversationLogs.
VALID_QUERIES: dict[str, list[bytes]] = {
    APP + "/events": [b"ack=2&timeout=180", b"ack=2&timeout=180", b"ack=2&timeout=0.01",
                      b"ack=1", b"ack=2&timeout=180&priority=1&low=5&medium=5"],
    COMM + "/conversationLogs": [b"", b"limit=2"],
    COMM + "/conversations": [b"filter=active"],
}
QUERY_NAMES = ["ack", "timeout", "priority", "low", "medium", "limit", "filter",
               "operationId", "to", "phoneNumber", "access_token", "instanceId"]


# ------------------------------------------------------------------------- requests

@dataclass(frozen=True)
class FuzzRequest:
    """A generated request. Path parameters and the credential are symbolic (an index into
    the valid values, or raw text) until ``wire`` resolves them against a running world."""

    route: str
    method: str
    params: tuple[tuple[str, int | str], ...]
    suffix: str
    query: bytes
    auth: str  # "alice" | "bob" | "guest" | "none" | "raw:<header value>"
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Wire:
    """A request as it goes on the wire (or into the ASGI scope)."""

    method: str
    path: str  # percent-encoded
    query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header of that name, read as Starlette reads it (latin-1)."""
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


@dataclass
class Fixture:
    """What the symbolic parts of a request resolve to in one running world."""

    tokens: dict[str, str]
    path_values: dict[str, list[str]] = field(default_factory=lambda: dict(VALID_PATH_VALUES))


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def wire(request: FuzzRequest, fixture: Fixture) -> Wire:
    path = request.route
    for name, value in request.params:
        if isinstance(value, int):
            values = fixture.path_values[name]
            text = values[value % len(values)]
        else:
            text = value
        path = path.replace("{" + name + "}", quote(text, safe=""))
    headers = [(name.lower().encode(), _latin1(value)) for name, value in request.headers]
    if request.auth.startswith("raw:"):
        headers.append((b"authorization", _latin1(request.auth[4:])))
    elif request.auth != "none":
        headers.append((b"authorization", f"Bearer {fixture.tokens[request.auth]}".encode()))
    if request.body and not any(name == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(request.body)).encode()))
    headers.append((b"host", b"127.0.0.1"))
    return Wire(request.method, path + request.suffix, request.query, tuple(headers),
                request.body)


# ------------------------------------------------------------------------- strategies

JSON_TYPES = ["application/json", "application/vnd.microsoft.com.ucwa+json"]
XML_TYPES = ["application/xml", "application/vnd.microsoft.com.ucwa+xml", "text/xml"]
OTHER_TYPES = ["text/plain", "text/html", "application/x-www-form-urlencoded",
               "multipart/form-data; boundary=x", "application/octet-stream", "*/*",
               "application/*", "application/problem+json", "application/atom+xml",
               "image/png", "application/vnd.microsoft.ucwa+xml", "json", ""]
TYPE_PARAMS = ["", "", "", "; charset=utf-8", ";charset=UTF-8", '; charset="utf-8"',
               "; charset=utf-16", "; charset=iso-8859-1", "; q=0", "; q=0.5", ";;",
               "; v=2", "; charset="]

# Generation is most of the cost of an example, and it grows with the number of draws: the
# strategies below are flat (sampled_from over prepared lists wherever the value's shape
# matters more than its every character).
text = st.text(max_size=20)
short_text = st.text(max_size=8)


def _case_forms(name: str) -> list[str]:
    return [name, name, name.lower(), name.upper(), name[:1].upper() + name[1:], f" {name}"]


MEDIA_TYPES = sorted({form for m in JSON_TYPES + XML_TYPES + OTHER_TYPES
                      for form in (m, m, m.upper())})
media_type = st.one_of(
    st.tuples(st.sampled_from(MEDIA_TYPES), st.sampled_from(TYPE_PARAMS)).map("".join),
    st.tuples(st.sampled_from(MEDIA_TYPES), st.sampled_from(TYPE_PARAMS)).map("".join),
    text,
)
accept_header = st.one_of(
    st.none(), media_type,
    st.lists(media_type, min_size=2, max_size=3).map(", ".join))
content_type_header = st.one_of(st.none(), media_type)

long_text = st.tuples(st.sampled_from(["x", "é", "💥", "a1", " ", "\x00"]),
                      st.integers(40, 400)).map(lambda t: t[0] * t[1])
scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), text, long_text,
    st.sampled_from(["/Date(1474932024587)/", "/Date(99999999999999999999)/",
                     "2026-13-45T25:61:00Z", "True", "False", "None", "null", "tel:", "sip:",
                     "sip:john@", "sip:@contoso.com", "tel:+", "+" + "1" * 40,
                     "<script>alert(1)</script>", "\x00", "\ud800", "\ufffe", "a\x0bb",
                     "sip:john@contoso.com\x00", " " * 5, "%00", "&amp;", "]]>", "\u2028"]),
)
wrong_value = st.one_of(scalar, scalar, scalar, st.lists(scalar, max_size=3),
                        st.dictionaries(short_text, scalar, max_size=2))


# Text that is hard to carry: controls, lone surrogates, non-characters, non-ASCII, markup.
HOSTILE_TEXT = ["\x00", "\x01", "\x0b", "\x1f", "\x7f", "\x85", "\ud800", "\udfff",
                "\ufffe", "\uffff", "é", "💥", "\u2028", "<", "&", "]]>", '"', "\\", "%", "+",
                " ", "\t", "\r\n"]


def _spliced(parts: tuple[str, str, bool]) -> str:
    good, bad, at_end = parts
    return good + bad if at_end else bad + good


@functools.cache
def value_for(name: str) -> st.SearchStrategy[Any]:
    """A value for the property ``name``: mostly a documented good one, else a good one with
    hostile text spliced in, else anything at all."""
    good = GOOD_VALUES.get(name)
    if good is None:
        return wrong_value
    good_text = [g for g in good if isinstance(g, str)] or ["x"]
    spliced = st.tuples(st.sampled_from(good_text), st.sampled_from(HOSTILE_TEXT),
                        st.booleans()).map(_spliced)
    return st.one_of(st.sampled_from(good), st.sampled_from(good), spliced, wrong_value)


ACTIONS = st.sampled_from(["value", "value", "value", "drop", "case"])
EXTRA_KEY = st.one_of(short_text, st.sampled_from(["_links", "_embedded"]))


@functools.cache
def input_props(names: tuple[str, ...], route: str) -> st.SearchStrategy[dict[str, Any]]:
    """Structured-but-wrong inputs built on the documented shape: a valid input with one or
    a few properties given a wrong value, dropped or renamed in another case; or a free mix
    of known and unknown names."""
    valid = VALID_INPUT.get(route, {})
    one_name = st.lists(st.sampled_from(names), min_size=1, max_size=1)
    some_names = st.lists(st.sampled_from(names), max_size=len(names), unique=True)
    forms = {name: st.sampled_from(_case_forms(name)) for name in names}
    all_forms = st.sampled_from([form for name in names for form in _case_forms(name)])
    some_keys = st.lists(st.one_of(all_forms, all_forms, short_text), max_size=5, unique=True)

    @st.composite
    def mutated(draw: st.DrawFn, which: st.SearchStrategy[list[str]]) -> dict[str, Any]:
        props = dict(valid)
        for name in draw(which):
            action = draw(ACTIONS)
            if action == "drop":
                props.pop(name, None)
            elif action == "value":
                props[name] = draw(value_for(name))
            else:
                props[draw(forms[name])] = props.pop(name, None) or draw(value_for(name))
        if draw(st.integers(0, 4)) == 0:
            props[draw(EXTRA_KEY)] = draw(wrong_value)
        return props

    @st.composite
    def mixed(draw: st.DrawFn) -> dict[str, Any]:
        return {key: draw(value_for(key.strip())) for key in draw(some_keys)}

    return st.one_of(mutated(one_name), mutated(one_name), mutated(some_names), mixed())


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


XML_STYLE = st.tuples(
    st.sampled_from(["input", "input", "input", "resource", "events", "reason", "Input"]),
    st.sampled_from([NAMESPACE, NAMESPACE, "", "urn:other"]),
    st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>', "", "",
                     '<?xml version="1.0"?>', '<?xml version="1.1"?>']))


def xml_document(props: dict[str, Any], style: tuple[str, str, str]) -> str:
    """An XML input in the documented shape (or near it): <input> with <property> and
    <propertyList> children; wrong roots, namespaces and nesting as ``style`` says."""
    parts = []
    for key, value in props.items():
        if isinstance(value, list):
            items = "".join(f"<item>{escape(_xml_text(v))}</item>" for v in value)
            parts.append(f"<propertyList name={quoteattr(key)}>{items}</propertyList>")
        elif isinstance(value, dict):
            inner = "".join(f"<property name={quoteattr(k)}>{escape(_xml_text(v))}</property>"
                            for k, v in value.items())
            parts.append(f"<property name={quoteattr(key)}>{inner}</property>")
        else:
            parts.append(f"<property name={quoteattr(key)}>{escape(_xml_text(value))}"
                         "</property>")
    root, namespace, declaration = style
    xmlns = f" xmlns={quoteattr(namespace)}" if namespace else ""
    return f"{declaration}<{root}{xmlns}>{''.join(parts)}</{root}>"


def json_document(props: Any, ensure_ascii: bool) -> str:
    return json.dumps(props, ensure_ascii=ensure_ascii, default=str)


ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                             "utf-16-le", "utf-16-be", "utf-32", "latin-1"])


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


# Hostile bodies among the fuzzed ones; the dedicated tests below go further.
XXE_FILE = (b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
            b'<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            b'<property name="to">&x;</property></input>')
SMALL_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE input [<!ENTITY a "aaaaaaaaaa">'
                b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;">]>'
                b'<input><property name="to">&c;</property></input>')
HOSTILE_BODIES = [
    XXE_FILE, SMALL_LAUGHS, b"\x00" * 16, b"\xff\xfe\x00\x00", b"[" * 5000 + b"]" * 5000,
    b'{"to": ' + b"9" * 5000 + b"}", b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b"<input>" + b"<a>" * 3000 + b"</a>" * 3000 + b"</input>",
    b'<input xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"'
    b' parse="text"/></input>',
    b"\xef\xbb\xbf{}", b"{}\x00", b"grant_type=password&username=alice%40contoso.com"
    b"&password=ucwa-demo", b'{"to": "sip:john@contoso.com"}' * 2,
]
BODY_KINDS = st.sampled_from(["json", "json", "xml", "xml", "form", "empty", "raw", "hostile",
                              "scalar-json"])
# The token endpoint reads forms (ucwa-protocol.md 1.3): mostly forms, then the rest.
FORM_KINDS = st.sampled_from(["form", "form", "form", "form", "json", "xml", "empty", "raw",
                              "hostile"])
HOSTILE = st.tuples(st.sampled_from(HOSTILE_BODIES),
                    st.sampled_from([XML_TYPES[0], JSON_TYPES[0]]))


def valid_body_of(route: str, fmt: str) -> bytes:
    """The route's valid input (an empty object for the routes that take none)."""
    props = VALID_INPUT.get(route, {})
    if route == paths.TOKEN:
        return urlencode(props).encode()
    if fmt == "json":
        return json.dumps(props).encode()
    return xml_document(props, ("input", NAMESPACE, '<?xml version="1.0" encoding="utf-8"?>')
                        ).encode()


@functools.cache
def bodies(route: str) -> st.SearchStrategy[tuple[bytes, str | None]]:
    """A body and the Content-Type a well-behaved client would give it (None: none)."""
    names = INPUT_NAMES.get(route) or sorted({n for ns in INPUT_NAMES.values() for n in ns})
    props_of = input_props(tuple(names), route)

    kinds = FORM_KINDS if route == paths.TOKEN else BODY_KINDS

    @st.composite
    def body(draw: st.DrawFn) -> tuple[bytes, str | None]:
        kind = draw(kinds)
        if kind == "empty":
            return b"", None
        if kind == "raw":
            return draw(st.binary(max_size=64)), None
        if kind == "hostile":
            return draw(HOSTILE)
        if kind == "scalar-json":
            return json.dumps(draw(wrong_value), default=str).encode(), JSON_TYPES[0]
        props = draw(props_of)
        encoding = draw(ENCODINGS)
        if kind == "json":
            return (encode(json_document(props, draw(st.booleans())), encoding),
                    draw(st.sampled_from(JSON_TYPES)))
        if kind == "xml":
            return (encode(xml_document(props, draw(XML_STYLE)), encoding),
                    draw(st.sampled_from(XML_TYPES)))
        form = urlencode([(k, _xml_text(v)) for k, v in props.items()],
                         errors="surrogatepass")
        return form.encode(), "application/x-www-form-urlencoded"

    return body()


def _urlencoded(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


def _quoted(text: str) -> bytes:
    return quote(text, safe="=&;+%").encode()


def _raw_auth(text: str) -> str:
    return "raw:" + text


query_value = st.one_of(
    st.integers().map(str), st.floats().map(str), text,
    st.sampled_from(["", "-1", "0", "1", "2", "3", "180", "1800", "1e999", "nan", "inf", "-inf",
                     "1_000", "²", "٣", "0x10", "9" * 5000, " 1 ", "0.001", "1e-300",
                     "10" + "0" * 300, "active"]))
query_string = st.one_of(
    st.just(b""),
    st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), short_text), query_value),
             max_size=4).map(_urlencoded),
    text.map(_quoted),
)
path_value = st.one_of(
    st.integers(0, 20), st.integers(0, 20),
    st.text(min_size=1, max_size=16),
    st.sampled_from(["0", "-1", "999999", "..", ".", "1 ", "01", "1.0", "%2e%2e", "a" * 300,
                     "sip:john@contoso.com", "101/../102", "\x00", "💥"]))
EXTRA_HEADERS = ["x-ms-requiresminresourceversion", "if-match", "if-none-match",
                 "x-requested-with", "x-ms-origin", "referer", "cookie", "content-length",
                 "transfer-encoding", "expect", "accept-charset", "accept-encoding",
                 "content-encoding", "x-forwarded-for", "origin", "range"]
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
extra_headers = st.lists(st.tuples(
    st.one_of(st.sampled_from(EXTRA_HEADERS), st.text(LETTERS + "-", min_size=1, max_size=16)),
    st.one_of(text, st.sampled_from(["0", "-1", "1" * 30, "abc", "chunked", "gzip", "*",
                                     '"etag"', "100-continue", "bytes=0-1"]))), max_size=2)
STANDARD_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
                    "CONNECT"]
AUTH = st.one_of(
    st.just("alice"), st.just("alice"), st.just("alice"), st.just("alice"),
    st.sampled_from(["bob", "guest", "none"]),
    st.one_of(text, st.sampled_from(["Bearer", "Bearer ", "Bearer cwt=", "cwt=x",
                                     "Basic YWxpY2U6dWN3YS1kZW1v"])).map(_raw_auth))
ACCEPT = st.one_of(st.sampled_from(JSON_TYPES + XML_TYPES), accept_header)
SUFFIX = st.sampled_from(["", "/", "/x", "//", "/.", "%20", "/..", "/%2e%2e"])


_REQUESTS: dict[tuple[str, bool], st.SearchStrategy[FuzzRequest]] = {}


def requests_for(route: Route, *, socket_safe: bool = False) -> st.SearchStrategy[FuzzRequest]:
    """Requests aimed at ``route``: mostly its own methods, valid path parameters and a
    valid credential, so that they get past routing and sign-in to the route's own code.
    Built once per route: hypothesis spends long on every new strategy object."""
    key = (route.path, socket_safe)
    if key not in _REQUESTS:
        _REQUESTS[key] = _requests_for(route, socket_safe)
    return _REQUESTS[key]


# What a fuzzed request may get wrong. Most requests get one or two of these wrong and the
# rest right, so that they reach the code behind routing, sign-in and parsing; some get
# everything wrong at once.
DIMENSIONS = ["method", "params", "suffix", "body", "content-type", "accept", "headers",
              "auth", "query"]


def _requests_for(route: Route, socket_safe: bool) -> st.SearchStrategy[FuzzRequest]:
    own = sorted((route.methods or set()) - {"HEAD"})
    methods = st.one_of(st.sampled_from(own), st.sampled_from(STANDARD_METHODS),
                        st.text(LETTERS, min_size=1, max_size=10))
    names = list(route.param_convertors)
    body_of = bodies(route.path)
    takes_input = "POST" in own
    # The body is the richest dimension of a route that reads one: weigh it accordingly.
    weighted = DIMENSIONS + ["body", "body", "body"] * takes_input
    wrong = st.one_of(st.lists(st.sampled_from(weighted), min_size=1, max_size=1),
                      st.lists(st.sampled_from(weighted), min_size=1, max_size=1),
                      st.lists(st.sampled_from(weighted), min_size=2, max_size=2),
                      st.just(DIMENSIONS))
    valid_body = {fmt: (valid_body_of(route.path, fmt), media)
                  for fmt, media in (("json", JSON_TYPES[0]), ("xml", XML_TYPES[0]))}
    if route.path == paths.TOKEN:
        form = (valid_body_of(route.path, "json"), "application/x-www-form-urlencoded")
        valid_body = {"json": form, "xml": form}
    formats = st.sampled_from(["json", "xml"])
    valid_query = st.sampled_from(VALID_QUERIES.get(route.path, [b""]))

    @st.composite
    def request(draw: st.DrawFn) -> FuzzRequest:
        bad = set(draw(wrong))
        fmt = draw(formats)
        method = draw(methods) if "method" in bad else own[0]
        params = tuple((name, draw(path_value) if "params" in bad else 0) for name in names)
        suffix = draw(SUFFIX) if "suffix" in bad else ""
        if "body" in bad:
            body, natural_type = draw(body_of)
        elif takes_input:
            body, natural_type = valid_body[fmt]
        else:
            body, natural_type = b"", None
        content_type = draw(content_type_header) if "content-type" in bad else natural_type
        accept = draw(ACCEPT) if "accept" in bad else \
            (JSON_TYPES[0] if fmt == "json" else XML_TYPES[1])
        headers: list[tuple[str, str]] = []
        if accept is not None:
            headers.append(("accept", accept))
        if content_type is not None:
            headers.append(("content-type", content_type))
        if "headers" in bad:
            headers.extend(draw(extra_headers))
        auth = draw(AUTH) if "auth" in bad else "alice"
        if route.path == paths.TOKEN and "auth" not in bad:
            auth = "none"
        query = draw(valid_query)
        if "query" in bad:  # instead of the valid query, or after it
            extra = draw(query_string)
            query = query + b"&" + extra if query and draw(st.booleans()) else extra
        if socket_safe:
            # What h11 lets a client send: header names that are tokens, values without
            # control characters; framing headers are httpx's to set.
            headers = [(k, _printable(v)) for k, v in headers
                       if k not in ("content-length", "transfer-encoding", "host", "expect")]
            if auth.startswith("raw:"):
                auth = "raw:" + _printable(auth[4:])
            method = method.upper() if method.upper() != "CONNECT" else "GET"
        return FuzzRequest(route.path, method, params, suffix, query, auth, tuple(headers),
                           body)

    return request()


def _printable(value: str) -> str:
    return "".join(c for c in value if " " <= c <= "~").strip()


# ------------------------------------------------------------------------- the oracle

def ucwa_format(media: str | None) -> str | None:
    """The format a media type names: the UCWA JSON and XML types (vendor ones too), and
    any ``+json``/``+xml`` type (ucwa-protocol.md 4)."""
    if media is None:
        return None
    base = media.split(";", 1)[0].strip().lower()
    if base in JSON_TYPES or base.endswith("+json"):
        return "json"
    if base in XML_TYPES or base.endswith("+xml"):
        return "xml"
    return None


def negotiated_format(request: Wire) -> str:
    """The format an answer must use (RFC 9110 12.5.1, as HTTP.md defers to it): of the
    UCWA types the client accepts, the one of highest ``q`` (1 when absent or malformed; 0
    refuses the type), the first listed among equals; a wildcard stands for the default;
    without any, the format it sent, else JSON."""
    default = "xml" if ucwa_format(request.header("content-type")) == "xml" else "json"
    best: tuple[float, str] | None = None
    for entry in (request.header("accept") or "").split(","):
        base = entry.split(";", 1)[0].strip().lower()
        found = default if base in ("*/*", "application/*") else ucwa_format(entry)
        weight = 1.0
        for param in entry.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                weight = _q_value(value.strip())
                break
        if found is not None and weight > 0 and (best is None or weight > best[0]):
            best = (weight, found)
    return best[1] if best is not None else default


def _q_value(value: str) -> float:
    """RFC 9110's qvalue: "0" or "1", or either with a dot and up to three digits (1 may
    only be followed by zeros); anything else counts as absent (1)."""
    shaped = (value[:1] in ("0", "1") and value[1:2] in ("", ".") and len(value) <= 5
              and (value[2:].isdigit() or value[2:] == ""))
    if not shaped or float(value) > 1.0:
        return 1.0
    return float(value)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


def ucwa_body(answer: Answer) -> Resource | Events | Reason:
    return parse(answer.body, answer.header("content-type"))


def check_answer(route: str, request: Wire, answer: Answer) -> None:
    """The fuzzed properties of one answer (see the module docstring)."""
    status = answer.status
    note(f"answer: {status} {answer.headers} {answer.body[:600]!r}")
    for marker in STACK_TRACE_MARKERS:
        assert marker not in answer.body, f"a stack trace in the answer: {answer.body[:2000]!r}"
    assert 200 <= status < 600, status
    if 300 <= status < 400:
        # Starlette's redirect_slashes: a path that only differs by a trailing slash.
        assert status == 307, status
        assert unquote(request.path).endswith("/"), request.path
        assert answer.header("location")
        return
    fmt = negotiated_format(request)
    if request.method == "HEAD" and not answer.body:
        # uvicorn sends no body with a HEAD answer: only what the headers tell.
        assert status < 500, status
        if status not in (204, 401) and not (300 <= status < 400):
            assert answer.header("content-type")
        return
    if route == paths.TOKEN and status in (200, 400):
        assert answer.header("cache-control") == "no-store"
        assert answer.header("pragma") == "no-cache"
        data = json.loads(answer.body)
        if status == 400:
            assert set(data) == {"error"}, data
            assert data["error"] in OAUTH_ERRORS, data
        else:
            assert data["token_type"] == "Bearer"
            assert data["access_token"].startswith("cwt=")
        return
    if status == 401 and route in TRAINER_ROUTES:
        # The trainer's page is not UCWA: it asks for the trainer's account by HTTP Basic.
        assert answer.header_list("www-authenticate") == [
            'Basic realm="ucwa-nb trainer", charset="UTF-8"']
        return
    if status == 401:
        challenges = answer.header_list("www-authenticate")
        assert len(challenges) == 2, challenges
        assert any(c.startswith("MsRtcOAuth href=") for c in challenges), challenges
        return
    if status == 204:
        assert answer.body == b""
        return
    if status == 201 and route != paths.APPLICATIONS:
        assert answer.header("location"), answer.headers
        assert answer.body == b""
        return
    if status == 200 and route == "/_simulator/activity":
        assert isinstance(json.loads(answer.body), list)
        return
    if status == 200 and route in TRAINER_ROUTES | PROGRESS_ROUTES:
        # Not UCWA: the grid (JSON or CSV) and an attendee's own progress (JSON).
        if route != paths.TEMPLATES["gridCsv"]:
            assert isinstance(json.loads(answer.body), dict)
        return
    if status == 200 and route in (paths.XFRAME, paths.DISCOVERY_XFRAME):
        assert (answer.header("content-type") or "").startswith("text/html")
        return
    content_type = answer.header("content-type")
    assert ucwa_format(content_type) == fmt, (content_type, fmt)
    try:
        parsed = ucwa_body(answer)
    except ParseError as exc:
        raise AssertionError(f"an unreadable {fmt} body ({exc}): {answer.body[:600]!r}") \
            from None
    if status < 300:
        assert isinstance(parsed, Resource | Events), parsed
        return
    assert isinstance(parsed, Reason), parsed
    assert parsed.code == CODE_OF_STATUS.get(status), (status, parsed)
    if status >= 500:
        assert (status, parsed.subcode) == (500, "CallbackChannelError"), (
            f"a 5xx other than CallbackChannelError: {status} {parsed}")


# ------------------------------------------------------------------------- ASGI driver

class LoopThread:
    """An event loop on a thread of its own, as the simulator runs under uvicorn. Bounded
    waits from the test thread: a server stuck even in synchronous code fails the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="ucwa-fuzz-loop")
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = REQUEST_TIMEOUT * 3) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise AssertionError(f"no answer within {timeout} s: the server hangs") from None

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(AssertionError):
            self.run(cancel_all(), 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def scope_of(request: Wire) -> dict[str, Any]:
    """The ASGI scope uvicorn builds for this request."""
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": request.method, "scheme": "http",
        "path": unquote(request.path), "raw_path": request.path.encode("latin-1"),
        "query_string": request.query, "root_path": "", "headers": list(request.headers),
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }


async def call_asgi(app: ASGIApp, request: Wire, chunks: Iterator[bytes] | None = None,
                    *, disconnect: bool = False,
                    consumed: list[int] | None = None) -> Answer | None:
    """Drive one request through the app. ``chunks`` (instead of the body) are offered one
    per ``receive`` with more to come; then, with ``disconnect``, the client goes away.
    Any exception escaping the app propagates: that is a crash."""
    done = asyncio.Event()
    sent_body = False
    status: int | None = None
    headers: list[tuple[str, str]] = []
    body = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if chunks is not None:
            for chunk in chunks:
                if consumed is not None:
                    consumed.append(len(chunk))
                return {"type": "http.request", "body": chunk, "more_body": True}
            if disconnect:
                return {"type": "http.disconnect"}
            chunks_done = {"type": "http.request", "body": b"", "more_body": False}
            return chunks_done
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.extend((k.decode("latin-1").lower(), v.decode("latin-1"))
                           for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope_of(request), receive, send)
    finally:
        done.set()
    if status is None:
        return None
    return Answer(status, headers, bytes(body))


@dataclass
class Stage:
    """A fresh world and its app, with the state every route needs to be reachable."""

    world: World
    app: ASGIApp
    fixture: Fixture
    helpers: list[asyncio.Task[Any]] = field(default_factory=list)


class Stages:
    """Fresh worlds for examples. Building the app costs more than a whole example (its 35
    routes compile their paths), so one app serves them all and its world is born again
    in place before each example: ``World.__init__`` resets every piece of state."""

    def __init__(self) -> None:
        self.world = World(SCENARIO)
        self.app: ASGIApp = create_app(self.world)

    async def new(self) -> Stage:
        World.__init__(self.world, SCENARIO)
        return await new_stage(self.world, self.app)


async def new_stage(world: World | None = None, app: ASGIApp | None = None) -> Stage:
    """``world`` made ready: every user signed in, each with an application, alice's with a
    live event channel and a call to John in progress from conversation 1."""
    if world is None:
        world = World(SCENARIO)
    tokens = {}
    for name, password in PASSWORDS.items():
        token = world.issue_token(f"{name}@contoso.com", password)
        assert token is not None
        tokens[name] = token.value
    apps = {}
    for name in PASSWORDS:
        token = world.tokens[tokens[name]]
        apps[name], _ = world.create_application(token, {"userAgent": "ucwa-nb-fuzz/1.0",
                                                         "endpointId": f"fuzz-{name}",
                                                         "culture": "en-US"})
    assert [apps[n].id for n in ("alice", "bob", "guest")] == ["101", "102", "103"]
    for name in ("alice", "guest"):  # a poll released just now: a live event channel
        channel = apps[name].channel
        poll = channel.poll(1, timeout=60)
        channel.abandon(poll)
        poll.cancel()
    alice = apps["alice"]
    target = Target(world.tokens[tokens["alice"]], alice, alice.conversations["1"])
    invitation = phone_audio.add_phone_audio(world, target,
                                             {"to": JOHN, "operationId": "fuzz-call"})
    assert invitation.id == "1"
    # Alice's client took the call's first events (batch 1: started, then updated as her own
    # phone rings) and has not polled again yet; the next event comes 0.2 s later.
    for _ in range(3):
        await asyncio.sleep(0)
    poll = alice.channel.poll(1, timeout=60)
    await asyncio.sleep(0)
    assert poll.done(), poll
    assert poll.result().kind == "batch", poll.result()
    return Stage(world, app if app is not None else create_app(world), Fixture(tokens))


async def close_stage(stage: Stage) -> None:
    stage.world.shutdown()
    tasks = list(stage.helpers)
    for app in stage.world.apps.values():
        tasks.extend(inv.task for inv in app.invitations.values() if inv.task is not None)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def release_parked(stage: Stage, app_id: str) -> None:
    """A newer poll with the same ack and priority: the parked one must answer 409."""
    app = stage.world.apps[app_id]
    parked = app.channel.parked
    assert parked is not None
    owner = next(name for name in PASSWORDS if f"{name}@contoso.com" == app.user.key)
    query = urlencode({"ack": parked.ack, "priority": parked.priority, "timeout": 0.01})
    newer = Wire("GET", f"{paths.APPLICATIONS}/{app_id}/events", query.encode(),
                 ((b"authorization", f"Bearer {stage.fixture.tokens[owner]}".encode()),
                  (b"host", b"127.0.0.1")), b"")
    stage.helpers.append(asyncio.ensure_future(call_asgi(stage.app, newer)))


async def exchange(stage: Stage, request: Wire) -> tuple[Answer, bool]:
    """Send ``request``; release it if the server parks it as a long poll. Returns the
    answer and whether it had been parked."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(call_asgi(stage.app, request))
    deadline = loop.time() + REQUEST_TIMEOUT
    released: set[str] = set()
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.02)
        if done:
            break
        for app_id, app in list(stage.world.apps.items()):
            if app.channel.parked is not None and app_id not in released:
                released.add(app_id)
                await release_parked(stage, app_id)
        if loop.time() > deadline:
            task.cancel()
            raise AssertionError(f"no answer within {REQUEST_TIMEOUT} s: {request}")
    answer = task.result()
    assert answer is not None, "the app ended without answering"
    return answer, bool(released)


def health_requests(fixture: Fixture) -> list[Wire]:
    host = (b"host", b"127.0.0.1")
    alice = (b"authorization", f"Bearer {fixture.tokens['alice']}".encode())
    return [Wire("GET", paths.ROOT, b"", (host,), b""),
            Wire("GET", paths.USER, b"", (host, alice), b"")]


def check_health(answers: Sequence[Answer | None]) -> None:
    for answer in answers:
        assert answer is not None
        assert answer.status == 200, answer
        assert isinstance(ucwa_body(answer), Resource)


def answer_reason(answer: Answer) -> Reason:
    parsed = ucwa_body(answer)
    assert isinstance(parsed, Reason), parsed
    return parsed


# ------------------------------------------------------------------------- hostile bodies

POST_ROUTES = [route for route in ROUTES if "POST" in (route.methods or set())]
POST_IDS = [route.path.rsplit("/", 1)[-1] for route in POST_ROUTES]
# The routes that read input properties from their body (ucwa-protocol.md 4), not the token
# endpoint, whose body is a form.
INPUT_ROUTES = [route for route in POST_ROUTES
                if route.path in INPUT_NAMES and route.path != paths.TOKEN]
INPUT_IDS = [route.path.rsplit("/", 1)[-1] for route in INPUT_ROUTES]
XML_MEDIA = ["application/xml", "application/vnd.microsoft.com.ucwa+xml"]


def route_request(route: str, fixture: Fixture, body: bytes = b"", *,
                  content_type: str | None = None, accept: str = "application/json",
                  headers: Sequence[tuple[bytes, bytes]] = (), method: str = "POST",
                  params: dict[str, str] | None = None) -> Wire:
    """A well-formed request to ``route`` with valid path parameters and alice's token."""
    path = route
    for name in re.findall(r"{(\w+)}", route):
        value = (params or {}).get(name, fixture.path_values[name][0])
        path = path.replace("{" + name + "}", quote(value, safe=""))
    all_headers = [(b"host", b"127.0.0.1"), (b"accept", accept.encode()),
                   (b"authorization", f"Bearer {fixture.tokens['alice']}".encode())]
    if content_type is not None:
        all_headers.append((b"content-type", content_type.encode()))
    if body and not any(name == b"content-length" for name, _ in headers):
        all_headers.append((b"content-length", str(len(body)).encode()))
    all_headers.extend(headers)
    return Wire(method, path, b"", tuple(all_headers), body)


def valid_body(route: str, fmt: str, **extra: str) -> bytes:
    props = {**VALID_INPUT.get(route, {}), **extra}
    if fmt == "json":
        return json.dumps(props, ensure_ascii=False).encode()
    return xml_document(props, ("input", NAMESPACE, '<?xml version="1.0" encoding="utf-8"?>')
                        ).encode()


@dataclass
class Outcome:
    answer: Answer | None
    consumed: list[int]
    calls_before: int
    calls_after: int
    apps_before: int
    apps_after: int
    seconds: float
    peak_bytes: int = 0


def run_in_stage(loop_thread: LoopThread, stages: Stages,
                 make: Callable[[Fixture], Wire], *, chunks: Iterator[bytes] | None = None,
                 disconnect: bool = False, trace_memory: bool = False) -> Outcome:
    """One request to a fresh world, with what it changed and what it cost."""
    async def run() -> Outcome:
        stage = await stages.new()
        try:
            request = make(stage.fixture)
            world = stage.world
            calls = len(world.activity())
            apps = len(world.apps)
            consumed: list[int] = []
            if trace_memory:
                tracemalloc.start()
                tracemalloc.reset_peak()
            started = time.perf_counter()
            try:
                answer = await asyncio.wait_for(
                    call_asgi(stage.app, request, chunks, disconnect=disconnect,
                              consumed=consumed), REQUEST_TIMEOUT)
            finally:
                seconds = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
                if trace_memory:
                    tracemalloc.stop()
            return Outcome(answer, consumed, calls, len(world.activity()), apps,
                           len(world.apps), seconds, peak)
        finally:
            await close_stage(stage)

    return loop_thread.run(run())


def assert_error(answer: Answer | None, status: int, code: str, subcode: str | None = None,
                 fmt: str = "json") -> Reason:
    assert answer is not None, "no answer"
    assert answer.status == status, (answer.status, answer.body[:500])
    assert ucwa_format(answer.header("content-type")) == fmt, answer.headers
    reason = answer_reason(answer)
    assert (reason.code, reason.subcode) == (code, subcode), reason
    for marker in STACK_TRACE_MARKERS:
        assert marker not in answer.body
    return reason
