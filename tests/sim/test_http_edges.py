"""The edges of HTTP (sim/http_edges.py and http.negotiate): HEAD refused like OPTIONS and
TRACE (HTTP.md), a resource revision the server does not have refused with 404
APIVersionNotSupported (Versioning.md), and Accept's q-values honoured (RFC 9110), in both
dialects."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import Lab
from support.ucwa_http import ACCEPT, Format, Session, reason_of, resource_of

from ucwa_nb import Simulator
from ucwa_nb.sim import paths

FORMATS: list[Format] = ["json", "xml"]
OTHER: dict[Format, Format] = {"json": "xml", "xml": "json"}


@pytest.fixture(scope="module")
def session(shared_sim: Simulator) -> Iterator[Session]:
    lab = Lab()
    yield lab.sign_in(shared_sim, collect=False)
    lab.close()


def _kind(response_type: str) -> Format:
    return "xml" if "xml" in response_type else "json"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE"])
def test_head_options_and_trace_are_405(session: Session, method: str, fmt: Format) -> None:
    for href in (session.app_href, session.events_href):
        response = session.client.request(method, href, headers={"Accept": ACCEPT[fmt]})
        assert response.status_code == 405, (method, href)
        if method != "HEAD":  # a HEAD answer has no body to read
            assert _kind(response.headers["content-type"]) == fmt
            reason = reason_of(response)
            assert (reason.code, reason.subcode) == ("MethodNotAllowed", None)


def test_get_still_answers(session: Session) -> None:
    assert session.get(session.app_href).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("wanted", ["3", "2.5", "4.0"])
def test_a_revision_above_the_servers_is_404_api_version_not_supported(
        session: Session, fmt: Format, wanted: str) -> None:
    response = session.get(session.app_href, headers={
        "Accept": ACCEPT[fmt], "X-MS-RequiresMinResourceVersion": wanted})
    assert response.status_code == 404
    assert _kind(response.headers["content-type"]) == fmt
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == ("NotFound", "APIVersionNotSupported")
    # A POST too: the operation is not carried out.
    post = session.post(session.app_href.rsplit("/", 1)[0], {"userAgent": "x"}, fmt=fmt,
                        headers={"X-MS-RequiresMinResourceVersion": wanted})
    assert post.status_code == 404


@pytest.mark.parametrize("wanted", ["1", "2", "2.0", "1.5"])
def test_a_revision_the_server_has_is_served(session: Session, wanted: str) -> None:
    # Real clients (the Skype Web SDK, MultiTabSupport.md's sample) send 2.
    response = session.get(session.app_href,
                           headers={"X-MS-RequiresMinResourceVersion": wanted})
    assert response.status_code == 200
    assert resource_of(response).rel == "application"


@pytest.mark.parametrize("wanted", ["two", "2,0", "nan", "inf"])
def test_a_malformed_revision_is_400(session: Session, wanted: str) -> None:
    response = session.get(session.app_href,
                           headers={"X-MS-RequiresMinResourceVersion": wanted})
    assert response.status_code == 400
    assert reason_of(response).code == "BadRequest"


def test_the_scenario_sets_the_revision(lab: Lab) -> None:
    sim = lab.start(resource_revision=3.0)
    session = lab.sign_in(sim, collect=False)
    headers = {"X-MS-RequiresMinResourceVersion": "3"}
    assert session.get(session.app_href, headers=headers).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_accept_prefers_the_highest_q(session: Session, fmt: Format) -> None:
    other = OTHER[fmt]
    cases = [
        f"{ACCEPT[other]};q=0.5, {ACCEPT[fmt]}",        # the issue's: the first is not it
        f"{ACCEPT[fmt]};q=0.9, {ACCEPT[other]};q=0.1",
        f"{ACCEPT[other]};q=0, {ACCEPT[fmt]};q=0.001",  # q=0: not acceptable at all
        f"{ACCEPT[fmt]}, {ACCEPT[other]}",               # equal: the first listed
        f"{ACCEPT[fmt]};Q=1.000, {ACCEPT[other]};q=0.999",
    ]
    for accept in cases:
        response = session.get(session.app_href, headers={"Accept": accept})
        assert response.status_code == 200
        assert _kind(response.headers["content-type"]) == fmt, accept
        assert resource_of(response).rel == "application"


def test_a_wildcard_stands_for_the_default(session: Session) -> None:
    accept = f"{ACCEPT['xml']};q=0.5, */*"
    response = session.get(session.app_href, headers={"Accept": accept})
    assert _kind(response.headers["content-type"]) == "json"


def test_a_malformed_q_counts_as_one(session: Session) -> None:
    accept = f"{ACCEPT['json']};q=0.5, {ACCEPT['xml']};q=high"
    response = session.get(session.app_href, headers={"Accept": accept})
    assert _kind(response.headers["content-type"]) == "xml"


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_follow_the_preferred_type(session: Session, fmt: Format) -> None:
    accept = f"{ACCEPT[OTHER[fmt]]};q=0.2, {ACCEPT[fmt]};q=0.8"
    response = session.get(session.app_href + "/nothing-here", headers={"Accept": accept})
    assert response.status_code == 404
    assert _kind(response.headers["content-type"]) == fmt


def test_the_token_endpoint_is_no_ucwa_resource_and_ignores_the_revision(
        shared_sim: Simulator) -> None:
    # The OAuth web ticket service answers as OAuth does (no-store), whatever revision a
    # client asks UCWA's resources for.
    response = httpx.post(shared_sim.base_url + paths.TOKEN, data={"grant_type": "password"},
                          headers={"X-MS-RequiresMinResourceVersion": "nine"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"
