"""The cross-domain frame page (sim/xframe.py): served at the xframe link and at the
discovery host's /xframe, a script of ours speaking Cross_domainIFRAME.md's protocol, and a
canonical spelling for every header name the simulator answers with (the frame writes the
names as IIS does; the browser test, tests/browser/test_cross_domain.py, runs the script)."""

from __future__ import annotations

import re

import httpx
import pytest
from support import ALICE, JOHN, MakeSim

import ucwa_nb
from ucwa_nb import Simulator
from ucwa_nb.protocol.representation import Format
from ucwa_nb.sim import paths
from ucwa_nb.sim.xframe import CANONICAL_HEADERS, page

FORMATS: dict[Format, str] = {"json": "application/json", "xml": "application/xml"}


def test_the_frame_is_served_at_its_link_and_on_the_discovery_host(sim: Simulator) -> None:
    root = httpx.get(sim.url, headers={"Accept": "application/json"}).json()
    at_link = httpx.get(sim.base_url + root["_links"]["xframe"]["href"])
    on_discovery_host = httpx.get(sim.base_url + paths.DISCOVERY_XFRAME)
    for answer in (at_link, on_discovery_host):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.text == page()
    # No longer a placeholder: a script that answers postMessage requests.
    assert "<script>" in page()
    assert 'addEventListener("message"' in page()
    assert "__CANONICAL_HEADERS__" not in page()


def test_the_script_speaks_the_documented_protocol() -> None:
    script = page()
    # Cross_domainIFRAME.md's request keys, read by the frame, and its answer's keys.
    for key in ("type", "url", "headers", "data", "accepts", "contentType", "cache",
                "processData", "xhrFields", "messageId"):
        assert re.search(rf"request\.{key}\b", script), key
    for key in ("status", "statusText", "responseText", "headers", "messageId"):
        assert re.search(rf"\b{key}: ", script), key
    # The page's origin as the browser reports it, stamped on every request.
    assert 'setRequestHeader("X-Ms-Origin", pageOrigin)' in script
    assert "send(request, event.origin, answer)" in script
    # Answers go back to the asking page's origin only.
    assert "postMessage(asText ? JSON.stringify(reply) : reply, target)" in script


def test_the_frame_knows_each_canonical_name_once() -> None:
    lower = [name.lower() for name in CANONICAL_HEADERS]
    assert len(lower) == len(set(lower))
    for name in ("Content-Type", "WWW-Authenticate", "X-Ms-diagnostics", "X-MS-UcwaVersion",
                 "Location", "ETag"):
        assert name in CANONICAL_HEADERS
        assert f'"{name}"' in page()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_header_the_simulator_answers_with_has_a_canonical_spelling(
        make_sim: MakeSim, fmt: Format) -> None:
    """Browsers hand the frame lower-case names: each must be found in the frame's list, or
    an application looking up "X-Ms-diagnostics" would miss it."""
    sim = make_sim(allowed_origins=["https://app.contoso.com"])
    seen: set[str] = set()

    def record(response: httpx.Response) -> None:
        seen.update(name.lower() for name in response.headers)

    accept = {"Accept": FORMATS[fmt]}
    with httpx.Client(headers=accept, event_hooks={"response": [record]}) as raw:
        raw.get(sim.base_url + "/")
        raw.get(sim.base_url + paths.USER)  # the 401 challenge
        raw.get(sim.base_url + "/nowhere")  # 404
        raw.get(sim.url, headers={"X-Ms-Origin": "https://portal.fabrikam.com"})  # 403
        raw.post(sim.base_url + paths.TOKEN, data={"grant_type": "password"})  # OAuth 400
        raw.get(sim.base_url + paths.XFRAME)
    session = ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], format=fmt,
                              poll_timeout=1)
    try:
        session.http_client.event_hooks["response"].append(record)
        call = session.start_phone_audio(JOHN)
        call.wait(timeout=10)
        session.http_client.get(f"{session.application_url}/communication")  # an ETag
    finally:
        session.close()
    known = {name.lower() for name in CANONICAL_HEADERS}
    assert {"content-type", "www-authenticate", "x-ms-diagnostics", "x-ms-ucwaversion",
            "location", "etag"} <= seen
    assert seen <= known, sorted(seen - known)
