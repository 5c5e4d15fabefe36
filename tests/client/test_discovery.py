"""Autodiscovery and the OAuth challenge: the helpers, and connect() by domain with the
lyncdiscover host names routed to the simulator by an httpx transport (no real DNS)."""

from __future__ import annotations

import json

import httpx
import pytest
from support import ALICE, JOHN, WAIT, Route, Router, bearer_token, redirect_to

import ucwa_nb
from ucwa_nb import DiscoveryError, Session, Simulator
from ucwa_nb.client.discovery import Challenge, candidate_roots, parse_challenge, same_domain

INTERNAL = "lyncdiscoverinternal.contoso.com"
EXTERNAL = "lyncdiscover.contoso.com"


# --------------------------------------------------------------------------- helpers


def test_candidate_roots_internal_first_https_first() -> None:
    assert candidate_roots(" Contoso.COM. ") == [
        "https://lyncdiscoverinternal.contoso.com/",
        "http://lyncdiscoverinternal.contoso.com/",
        "https://lyncdiscover.contoso.com/",
        "http://lyncdiscover.contoso.com/",
    ]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://lyncweb.contoso.com/autodiscover/root", True),
    ("https://contoso.com/", True),
    ("https://LYNC.Contoso.com:4443/x", True),
    ("https://evilcontoso.com/", False),
    ("https://contoso.com.evil.example/", False),
    ("https://lyncdiscover.fabrikam.com/", False),
    ("/relative/only", False),
])
def test_same_domain(url: str, expected: bool) -> None:
    assert same_domain(url, "contoso.com") is expected


def test_parse_challenge_as_real_servers_send_it() -> None:
    found = parse_challenge([
        'Bearer trusted_issuers="00000002-0000-0ff1-ce00-000000000000@contoso.com", '
        'client_id="00000004-0000-0ff1-ce00-000000000000"',
        'MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
        'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"',
    ])
    assert found == Challenge(
        "https://lyncweb.contoso.com/WebTicket/oauthtoken",
        ("urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting", "password"),
        "00000002-0000-0ff1-ce00-000000000000@contoso.com",
        "00000004-0000-0ff1-ce00-000000000000")


def test_parse_challenge_joined_into_one_header_by_a_proxy() -> None:
    # configurable-http-proxy (JupyterHub's proxy, Node's http module) sends the two
    # WWW-Authenticate headers as one, comma-separated, as RFC 9110 5.3 allows; seen when
    # the simulator ran as a hub service (tests/browser/test_jupyterhub.py).
    joined = ('Bearer trusted_issuers="00000002-0000-0ff1-ce00-000000000000@contoso.com", '
              'client_id="00000004-0000-0ff1-ce00-000000000000", '
              'MsRtcOAuth href="https://lyncweb.contoso.com/WebTicket/oauthtoken",'
              'grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"')
    assert parse_challenge([joined]) == Challenge(
        "https://lyncweb.contoso.com/WebTicket/oauthtoken",
        ("urn:microsoft.rtc:windows", "urn:microsoft.rtc:anonmeeting", "password"),
        "00000002-0000-0ff1-ce00-000000000000@contoso.com",
        "00000004-0000-0ff1-ce00-000000000000")
    # The other order, with a quoted comma and an escaped quote in a parameter.
    other = parse_challenge(['MsRtcOAuth href="https://x.contoso.com/t", grant_type="password"'
                             ', Bearer realm="a \\"quoted\\", comma", client_id="c"'])
    assert other == Challenge("https://x.contoso.com/t", ("password",), None, "c")


def test_parse_challenge_unquoted_href() -> None:
    found = parse_challenge(["MsRtcOAuth href=https://x.contoso.com/WebTicket/oauthtoken,"
                             "grant_type=password"])
    assert found is not None
    assert found.token_url == "https://x.contoso.com/WebTicket/oauthtoken"
    assert found.grant_types == ("password",)


def test_parse_challenge_without_msrtcoauth() -> None:
    assert parse_challenge(['Bearer realm="x"']) is None
    assert parse_challenge([]) is None


# --------------------------------------------------------------------------- connect by domain


def _connect(sim: Simulator, routes: dict[str, Route], sessions: list[Session],
             domain: str = "contoso.com", follow_redirects: bool = False,
             ) -> tuple[Session, Router]:
    router = Router(sim.base_url, routes)
    client = httpx.Client(transport=router, timeout=10.0, follow_redirects=follow_redirects)
    try:
        session = ucwa_nb.connect(domain, username=ALICE[0], password=ALICE[1],
                                  http_client=client, poll_timeout=5)
    except BaseException:
        client.close()
        raise
    sessions.append(session)
    return session, router


def _fail(sim: Simulator, routes: dict[str, Route],
          follow_redirects: bool = False) -> tuple[DiscoveryError, Router]:
    router = Router(sim.base_url, routes)
    with httpx.Client(transport=router, timeout=10.0,
                      follow_redirects=follow_redirects) as client, \
            pytest.raises(DiscoveryError) as info:
        ucwa_nb.connect("contoso.com", username=ALICE[0], password=ALICE[1],
                        http_client=client, poll_timeout=5)
    return info.value, router


def _autodiscover_urls(session: Session) -> list[str]:
    return [str(u) for u in session.log.filter(rel="autodiscover").url]


def test_connect_by_domain_through_the_internal_name(sim: Simulator,
                                                     sessions: list[Session]) -> None:
    session, router = _connect(sim, {INTERNAL: "sim"}, sessions)
    assert _autodiscover_urls(session) == [f"https://{INTERNAL}/"]
    assert session.application_url is not None
    assert session.application_url.startswith(f"https://{INTERNAL}/ucwa/")
    call = session.add_phone_audio(session.conversations()[0], to=JOHN).wait(WAIT)
    assert call.status == "Success"
    # every request went to the made-up name, never to the simulator's address directly
    assert all(httpx.URL(u).host == INTERNAL for u in router.contacted)
    # the password grant went to the token URL of the challenge, redacted in the log
    token_row = session.log.filter(rel="token").iloc[0]
    assert token_row.url == f"https://{INTERNAL}/WebTicket/oauthtoken"
    assert ALICE[1] not in (token_row.request_body or "")
    assert bearer_token(session) not in (token_row.response_body or "")


def test_falls_back_from_internal_to_external(sim: Simulator, sessions: list[Session]) -> None:
    session, _ = _connect(sim, {INTERNAL: "down", EXTERNAL: "sim"}, sessions)
    assert _autodiscover_urls(session) == [f"https://{INTERNAL}/", f"http://{INTERNAL}/",
                                           f"https://{EXTERNAL}/"]
    failed = session.log.filter(rel="autodiscover")
    assert failed.error.iloc[0].startswith("ConnectError")
    assert failed.status.isna().tolist() == [True, True, False]
    assert session.application_url is not None
    assert httpx.URL(session.application_url).host == EXTERNAL
    assert session.conversations()


def test_falls_back_when_internal_answers_something_else(sim: Simulator,
                                                        sessions: list[Session]) -> None:
    def iis_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, headers={"Content-Type": "text/html"},
                              content=b"<html>Not Found</html>", request=request)

    session, _ = _connect(sim, {INTERNAL: iis_page, EXTERNAL: "sim"}, sessions)
    assert session.log.filter(rel="autodiscover").status.tolist()[:2] == [404, 404]
    assert httpx.URL(session.application_url or "").host == EXTERNAL


def test_follows_a_same_domain_redirect(sim: Simulator, sessions: list[Session]) -> None:
    target = "https://lyncweb.contoso.com/autodiscover/autodiscoverservice.svc/root"
    session, _ = _connect(sim, {INTERNAL: redirect_to(target),
                                "lyncweb.contoso.com": "sim"}, sessions)
    assert session.log.filter(rel="autodiscover").status.tolist() == [302]
    assert session.log.filter(rel="root").url.tolist() == [target]
    assert httpx.URL(session.application_url or "").host == "lyncweb.contoso.com"


@pytest.mark.parametrize("elsewhere", [
    "https://ucwa.evil.example/autodiscover/autodiscoverservice.svc/root",
    "https://lyncdiscover.contoso.com.evil.example/",
    "https://evilcontoso.com/",
])
def test_refuses_a_cross_domain_redirect(sim: Simulator, elsewhere: str) -> None:
    error, router = _fail(sim, {INTERNAL: redirect_to(elsewhere)})
    assert "redirect to another domain refused" in str(error)
    assert elsewhere in str(error)
    assert ALICE[1] not in str(error)
    host = httpx.URL(elsewhere).host
    assert not any(httpx.URL(u).host == host for u in router.contacted)


def test_refuses_a_cross_domain_redirect_even_when_the_client_follows_redirects(
        sim: Simulator) -> None:
    elsewhere = "https://ucwa.evil.example/autodiscover/autodiscoverservice.svc/root"
    error, router = _fail(sim, {INTERNAL: redirect_to(elsewhere)}, follow_redirects=True)
    assert "refused" in str(error)
    assert not any(httpx.URL(u).host == "ucwa.evil.example" for u in router.contacted)


def test_refused_redirect_then_external_works(sim: Simulator, sessions: list[Session]) -> None:
    session, router = _connect(sim, {
        INTERNAL: redirect_to("https://ucwa.evil.example/"), EXTERNAL: "sim"}, sessions)
    assert httpx.URL(session.application_url or "").host == EXTERNAL
    assert not any("evil" in u for u in router.contacted)


def test_refuses_a_redirect_link_to_another_domain(sim: Simulator) -> None:
    def root_elsewhere(request: httpx.Request) -> httpx.Response:
        body = {"_links": {
            "self": {"href": f"https://{INTERNAL}/autodiscover/autodiscoverservice.svc/root"},
            "redirect": {"href": "https://lyncdiscover.fabrikam.com/autodiscover/"
                                 "autodiscoverservice.svc/root"}}}
        return httpx.Response(200, headers={"Content-Type": "application/json"},
                              content=json.dumps(body).encode(), request=request)

    error, router = _fail(sim, {INTERNAL: root_elsewhere})
    assert "redirect link to another domain refused" in str(error)
    assert not any("fabrikam" in u for u in router.contacted)


def test_nothing_answers(sim: Simulator) -> None:
    error, router = _fail(sim, {})
    text = str(error)
    assert text.startswith("no UCWA server found for contoso.com")
    for url in candidate_roots("contoso.com"):
        assert url in text
        assert url in router.contacted


def test_a_server_with_neither_grant(sim: Simulator) -> None:
    """Neither the password grant nor Windows sign-in (a Windows-only server is signed in to
    the Windows way: tests/client/test_windows.py)."""
    def anonymous_only(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/":
            body = {"_links": {"self": {"href": "/"}, "user": {"href": "/user"}}}
            return httpx.Response(200, headers={"Content-Type": "application/json"},
                                  content=json.dumps(body).encode(), request=request)
        return httpx.Response(401, headers=[
            ("WWW-Authenticate", f'MsRtcOAuth href="https://{INTERNAL}/WebTicket/oauthtoken",'
                                 'grant_type="urn:microsoft.rtc:anonmeeting"')],
            content=b"", request=request)

    error, _ = _fail(sim, {INTERNAL: anonymous_only})
    assert "does not offer the password grant" in str(error)
    assert "urn:microsoft.rtc:anonmeeting" in str(error)
    assert "token=" in str(error)


def test_a_root_url_is_used_as_given(sim: Simulator, sessions: list[Session]) -> None:
    session = ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], poll_timeout=5)
    sessions.append(session)
    assert session.log.filter(rel="autodiscover").empty
    assert session.log.filter(rel="root").url.tolist() == [sim.url]


def test_a_url_that_is_not_a_ucwa_root(sim: Simulator) -> None:
    with pytest.raises(DiscoveryError, match="is not a UCWA autodiscover root"):
        ucwa_nb.connect(sim.base_url + "/autodiscover/xframe/xframe.html",
                        username=ALICE[0], password=ALICE[1])
    with pytest.raises(ucwa_nb.UcwaError) as info:
        ucwa_nb.connect(sim.base_url + "/nothing", username=ALICE[0], password=ALICE[1])
    assert info.value.status == 404
