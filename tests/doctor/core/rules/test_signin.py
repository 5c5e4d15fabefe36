"""Sign-in rules: each fires on its reproduction (the simulator, or a HAR fixture where the
simulator cannot produce the signature) and names the rows."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support import ALICE, MakeSession, MakeSim
from support.doctor import fired

import ucwa_nb
from ucwa_nb import ExchangeLog, Session, Simulator
from ucwa_nb.sim import paths


def _token_url(sim: Simulator) -> str:
    return f"{sim.base_url}{sim.root_path}{paths.TOKEN}"


def test_unsupported_grant_names_the_grants_the_challenge_offered(session: Session,
                                                                  sim: Simulator) -> None:
    session.http_client.post(_token_url(sim), data={"grant_type": "urn:microsoft.rtc:passive"})
    [finding] = fired(session, "signin.unsupported-grant")
    assert "urn:microsoft.rtc:passive" in finding.evidence
    assert "password" in finding.evidence  # the challenge's grant list
    assert finding.seqs == (len(session.log) - 1,)
    assert finding.link.endswith("/ucwa/authenticationinucwa")


def test_a_wrong_password_is_invalid_grant(sim: Simulator) -> None:
    log = ExchangeLog()
    with pytest.raises(ucwa_nb.SignInError):
        ucwa_nb.connect(sim.url, username=ALICE[0], password="not-it", log=log)
    [finding] = fired(log, "signin.invalid-grant")
    assert "28020" in finding.evidence
    assert "not-it" not in str(finding)


def test_too_many_sign_ins_are_throttled(make_sim: MakeSim) -> None:
    sim = make_sim(signin_burst_per_account=1, signin_rate_per_account=0.01)
    log = ExchangeLog()
    ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], log=log,
                    poll_timeout=5).close()
    with pytest.raises(ucwa_nb.UcwaError):
        ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], log=log)
    [finding] = fired(log, "signin.throttled")
    assert "Retry-After" in finding.evidence
    assert fired(log, "signin.invalid-grant") == []  # a 429 is not a wrong password


def test_a_revoked_token_is_explained(make_sim: MakeSim, make_session: MakeSession) -> None:
    sim = make_sim(max_tokens_per_user=1)
    first = make_session(sim, poll_timeout=1.0)  # its close waits for one poll at most
    make_session(sim)  # revokes the first session's token
    first.http_client.get(first.application_url or "")
    assert fired(first, "signin.token-expired")


def test_tls_failure(sim: Simulator) -> None:
    # The simulator speaks plain HTTP: an https:// URL on its port fails the handshake.
    log = ExchangeLog()
    with pytest.raises((httpx.HTTPError, ucwa_nb.DiscoveryError)):
        ucwa_nb.connect(sim.url.replace("http://", "https://"), username=ALICE[0],
                        password=ALICE[1], log=log, timeout=5)
    [finding] = fired(log, "signin.tls")
    assert "verify=" in finding.fix


def test_untrusted_host_row_as_the_client_writes_it() -> None:
    # The row client/navigation.py records when it refuses (tests/client/test_hostile.py).
    log = ExchangeLog()
    log.record_http(method="GET", url="http://127.0.0.1:1/ucwa/oauth/v1/applications/1/x",
                    status=None, request_headers={}, request_body=None, response_headers={},
                    response_body=None, elapsed_ms=0.0, error="UntrustedHostError: the token "
                    "is not sent to 127.0.0.2: it is not the application's origin")
    [finding] = fired(log, "signin.untrusted-host")
    assert "127.0.0.2" in finding.evidence
    assert fired(log, "signin.tls") == []


def test_browser_cross_domain_refusal(fixtures: Path) -> None:
    [finding] = fired(fixtures / "browser-cross-domain.har", "signin.cross-domain")
    assert "https://portal.fabrikam.com" in finding.evidence
    assert "Set-CsWebServiceConfiguration" in finding.fix
    assert "CrossDomainAuthorizationList" in finding.fix


def test_the_simulators_cross_domain_refusal(make_sim: MakeSim,
                                             make_session: MakeSession) -> None:
    # A page of an origin off the allow list, through the frame: the frame stamps the page's
    # origin in X-Ms-Origin and the simulator refuses as a real server does.
    sim = make_sim(allowed_origins=["https://app.contoso.com"])
    session = make_session(sim)
    session.http_client.get(sim.url, headers={"X-Ms-Origin": "https://portal.fabrikam.com",
                                              "X-Requested-With": "XMLHttpRequest"})
    [finding] = fired(session, "signin.cross-domain")
    assert "https://portal.fabrikam.com" in finding.evidence
    assert finding.seqs == (len(session.log) - 1,)
    assert "CrossDomainAuthorizationList" in finding.fix
    # From an allowed origin nothing is refused, so nothing fires.
    allowed = make_session(sim)
    allowed.http_client.get(sim.url, headers={"X-Ms-Origin": "https://app.contoso.com"})
    assert fired(allowed, "signin.cross-domain") == []


def test_fiddler_proxy_401_html_page_and_refused_token(fixtures: Path) -> None:
    har = fixtures / "fiddler-proxy-and-tokens.har"
    [challenge] = fired(har, "signin.no-ucwa-challenge")
    assert "Negotiate" in challenge.evidence
    assert "SECRETBLOB" not in str(challenge)  # the NTLM blob is scrubbed
    [page] = fired(har, "signin.html-body")
    assert "'Sign In'" in page.evidence
    [token] = fired(har, "signin.token-refused")
    assert "28055" in token.evidence
    assert "secretsecret" not in str(token)


def _connect_through(sim: Simulator, rel: str, fault: str) -> ExchangeLog:
    """connect() to ``sim`` with a front end's fault injected on ``rel``: it fails."""
    sim.inject_fault(rel, fault, user=ALICE[0])
    log = ExchangeLog()
    with pytest.raises(ucwa_nb.UcwaError):
        ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], log=log)
    return log


def test_a_proxys_challenge_is_no_ucwa_challenge(sim: Simulator) -> None:
    log = _connect_through(sim, "user", "ProxyChallenge")
    [finding] = fired(log, "signin.no-ucwa-challenge")
    assert "Negotiate" in finding.evidence
    assert "NTLM" in finding.evidence
    assert "GET user" in finding.evidence
    assert log.df.loc[finding.seqs[0], "status"] == 401
    # The client's own first 401 carried MsRtcOAuth: only the proxy's is named.
    assert finding.seqs == (len(log) - 1,)


def test_a_front_ends_refused_token(sim: Simulator) -> None:
    log = _connect_through(sim, "applications", "TokenRejected")
    [finding] = fired(log, "signin.token-refused")
    assert "28055" in finding.evidence
    assert "POST applications" in finding.evidence
    assert finding.seqs == (len(log) - 1,)


def test_an_iis_sign_in_page_where_json_was_expected(sim: Simulator) -> None:
    log = _connect_through(sim, "applications", "LoginPage")
    [finding] = fired(log, "signin.html-body")
    assert "'Sign In'" in finding.evidence
    assert "POST applications" in finding.evidence
    assert fired(log, "application.reused") == []  # a page is no application


def test_front_end_faults_are_spent_and_leave_a_clean_sign_in(sim: Simulator) -> None:
    _connect_through(sim, "user", "LoginPage")
    log = ExchangeLog()
    ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], log=log,
                    poll_timeout=5).close()
    assert [f.rule for f in ucwa_nb.explain(log) if f.rule.startswith("signin.")] == []
