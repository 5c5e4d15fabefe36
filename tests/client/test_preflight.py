"""Preflight against the simulator (both grants, the password grant off, by domain through
made-up host names), over real TLS on loopback, against a hostile server, and on the command
line: what it finds, and that it creates nothing and sends no credential unless asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from starlette.requests import Request
from starlette.responses import Response
from support import MakeSim, Router, fast_scenario

import ucwa_nb
from ucwa_nb import Simulator
from ucwa_nb.cli import main as ucwa_nb_command
from ucwa_nb.client.preflight import Preflight
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.rules.world import World

from .hostile import LoopbackServer, fake_ucwa


def _finding(result: Preflight, step: str, what: str) -> tuple[str, str, str]:
    found = [f for f in result.findings if f.step == step and f.what == what]
    assert found, f"no {step}/{what} finding in\n{result}"
    return found[0].value, found[0].means, found[0].level


def _applications(sim: Simulator) -> int:
    return sim.call(lambda: len(sim.world.apps))


def test_a_look_at_the_simulator(make_sim: MakeSim) -> None:
    sim = make_sim()
    result = ucwa_nb.preflight(sim.url)
    assert result.ok, result
    assert _finding(result, "root", "X-MS-UcwaVersion")[0] == "1.7"
    assert _finding(result, "root", "xframe")[0].endswith("/autodiscover/xframe/xframe.html")
    grants, means, _ = _finding(result, "challenge", "grant types")
    assert grants == "urn:microsoft.rtc:windows, urn:microsoft.rtc:anonmeeting, password"
    assert "uses the password grant" in means
    assert _finding(result, "challenge", "token URL")[0] == sim.base_url + \
        "/WebTicket/oauthtoken"
    assert _finding(result, "windows", "handshake")[0] == "Negotiate, NTLM"
    assert _finding(result, "autodiscovery", "plain HTTP")[2] == "warn"
    # read-only: no application, no credential of any kind sent
    assert _applications(sim) == 0
    for row in result.log.rows:
        assert not [v for n, v in row.request_headers if n.lower() == "authorization"]
        assert "password=" not in (row.request_body or "")
    text = str(result)
    assert "grant types" in text
    assert "<td>" in result._repr_html_()
    assert list(result.to_frame().columns) == ["step", "what", "value", "means", "level"]


def test_a_server_with_windows_sign_in_only(make_sim: MakeSim) -> None:
    result = ucwa_nb.preflight(make_sim(password_grant=False, windows_auth="ntlm").url)
    assert "this server offers only Windows sign-in" in \
        _finding(result, "challenge", "grant types")[1]
    value, means, _ = _finding(result, "windows", "handshake")
    assert value == "NTLM"
    assert "from Linux" in means


def test_sign_in_when_asked_creates_nothing(make_sim: MakeSim) -> None:
    sim = make_sim(password_grant=False)
    result = ucwa_nb.preflight(sim.url, username="CONTOSO\\alice", password="ucwa-demo")
    assert _finding(result, "sign-in", "CONTOSO\\alice")[0] == \
        "urn:microsoft.rtc:windows grant"
    assert _applications(sim) == 0
    refused = ucwa_nb.preflight(sim.url, username="CONTOSO\\alice", password="Not-it-4321")
    assert not refused.ok
    assert "Not-it-4321" not in str(refused)


def test_by_domain_it_says_which_name_answered(make_sim: MakeSim) -> None:
    sim = make_sim()
    router = Router(sim.base_url, {"lyncdiscover.contoso.com": "sim"})
    with httpx.Client(transport=router, timeout=5.0) as client:
        result = ucwa_nb.preflight("contoso.com", http_client=client)
    value, means, _ = _finding(result, "autodiscovery", "answered")
    assert value == "https://lyncdiscover.contoso.com/"  # the router answers HTTPS too
    assert "the external name answered after 2 failed attempt(s)" in means
    with httpx.Client(transport=Router(sim.base_url, {}), timeout=5.0) as client:
        nowhere = ucwa_nb.preflight("fabrikam.com", http_client=client)
    assert not nowhere.ok
    assert _finding(nowhere, "autodiscovery", "no server found")[2] == "fail"


@pytest.fixture
def tls_sim(tmp_path: Path) -> Iterator[tuple[LoopbackServer, Path]]:
    ca = trustme.CA()
    server = LoopbackServer(create_app(World(fast_scenario())), cert=ca.issue_cert("127.0.0.1"),
                            tmp=tmp_path)
    bundle = tmp_path / "corp-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    try:
        yield server, bundle
    finally:
        server.stop()


def test_tls_with_and_without_the_internal_ca(tls_sim: tuple[LoopbackServer, Path]) -> None:
    server, bundle = tls_sim
    root = server.url("/autodiscover/autodiscoverservice.svc/root")
    trusted = ucwa_nb.preflight(root, verify=str(bundle))
    value, means, level = _finding(trusted, "tls", "127.0.0.1")
    assert level == "ok"
    assert "issued by" in value
    assert "127.0.0.1" in means
    assert _finding(trusted, "tls", "expires")[2] == "ok"
    # the root cannot even be read without the CA: the finding says what to pass
    untrusted = ucwa_nb.preflight(root)
    assert not untrusted.ok
    value, means, _ = _finding(untrusted, "tls", "127.0.0.1")
    assert "verify='corp-ca.pem'" in means


def test_a_token_url_on_another_host_is_flagged_and_not_probed(tmp_path: Path) -> None:
    evil = LoopbackServer(fake_ucwa(), host="127.0.0.2")
    async def challenge(request: Request) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": (
            f'MsRtcOAuth href="{evil.url("/token")}",grant_type="urn:microsoft.rtc:windows"')})
    home = LoopbackServer(fake_ucwa(user=challenge))
    try:
        result = ucwa_nb.preflight(home.url("/root"), username="CONTOSO\\alice",
                                   password="hostile-test-password")
    finally:
        home.stop()
        evil.stop()
    _value, means, level = _finding(result, "challenge", "token URL")
    assert level == "fail"
    assert "will refuse to send credentials there" in means
    assert evil.seen == []


def test_the_command(make_sim: MakeSim, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    sim = make_sim()
    assert ucwa_nb_command(["preflight", sim.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Preflight of {sim.url}")
    assert "grant types: urn:microsoft.rtc:windows" in out
    monkeypatch.setenv("UCWA_TEST_PASSWORD", "ucwa-demo")
    assert ucwa_nb_command(["preflight", sim.url, "--username", "alice@contoso.com",
                            "--password-env", "UCWA_TEST_PASSWORD"]) == 0
    assert "password grant" in capsys.readouterr().out
    assert ucwa_nb_command(["preflight", sim.url, "--username", "x",
                            "--password-env", "UCWA_NOT_SET_ANYWHERE"]) == 2
    assert ucwa_nb_command(["preflight", "http://127.0.0.1:9/nothing", "--timeout",
                            "2"]) == 1
