"""Windows sign-in at the simulator's token endpoint, over real sockets, with pyspnego as the
client (as a real Windows client would speak NTLM): the handshake on one connection, what
each bad input gets, the password grant turned off, and the acceptor's bounds."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

import httpx
import pytest
import spnego
from support import Lab, fast_scenario, fast_scenario_dict

from ucwa_nb import Simulator
from ucwa_nb.sim import ScenarioError
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.rules.windows import WindowsAcceptor, netbios_domain
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario_loader import scenario_from_dict

WINDOWS = {"grant_type": "urn:microsoft.rtc:windows"}
TOKEN_PATH = "/WebTicket/oauthtoken"


def one_connection() -> httpx.Client:
    return httpx.Client(timeout=10, transport=httpx.HTTPTransport(
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)))


def _header(scheme: str, token: bytes) -> dict[str, str]:
    return {"Authorization": f"{scheme} {base64.b64encode(token).decode()}"}


def _server_token(response: httpx.Response, scheme: str) -> bytes:
    value = response.headers["www-authenticate"]
    name, _, token = value.partition(" ")
    assert name == scheme
    return base64.b64decode(token)


def handshake(client: httpx.Client, url: str, user: str, password: str,
              scheme: str = "Negotiate", second: httpx.Client | None = None
              ) -> httpx.Response:
    """The whole handshake; ``second``: the AUTHENTICATE message goes on another client
    (another connection), as a client that dropped its connection would send it."""
    context = spnego.client(user, password, hostname="fe1.contoso.com", service="HTTP",
                            protocol=scheme.lower())
    challenged = client.post(url, data=WINDOWS, headers=_header(scheme, context.step() or b""))
    assert challenged.status_code == 401
    answer = context.step(_server_token(challenged, scheme)) or b""
    return (second or client).post(url, data=WINDOWS, headers=_header(scheme, answer))


def token_url(sim: Simulator) -> str:
    return sim.base_url + TOKEN_PATH


def test_the_windows_grant_asks_for_the_handshake(sim: Simulator) -> None:
    response = httpx.post(token_url(sim), data=WINDOWS)
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]


@pytest.mark.parametrize(("user", "scheme"), [
    ("CONTOSO\\alice", "Negotiate"), ("alice@contoso.com", "Negotiate"),
    ("CONTOSO\\alice", "NTLM"), ("alice@contoso.com", "NTLM")])
def test_a_handshake_on_one_connection_signs_in(sim: Simulator, user: str,
                                                scheme: str) -> None:
    with one_connection() as client:
        signed_in = handshake(client, token_url(sim), user, "ucwa-demo", scheme)
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
        assert token.startswith("cwt=")
        me = client.get(sim.base_url + "/autodiscover/autodiscoverservice.svc/root/oauth/user",
                        headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


def test_raw_ntlm_inside_negotiate_is_taken(sim: Simulator) -> None:
    # Clients (curl, .NET) often send a bare NTLM message under the Negotiate scheme.
    context = spnego.client("CONTOSO\\alice", "ucwa-demo", hostname="fe1", service="HTTP",
                            protocol="ntlm")
    with one_connection() as client:
        challenged = client.post(token_url(sim), data=WINDOWS,
                                 headers=_header("Negotiate", context.step() or b""))
        answer = context.step(_server_token(challenged, "Negotiate")) or b""
        signed_in = client.post(token_url(sim), data=WINDOWS,
                                headers=_header("Negotiate", answer))
    assert signed_in.status_code == 200


def test_a_handshake_split_over_two_connections_fails(sim: Simulator,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ucwa_nb.sim")
    with one_connection() as first, one_connection() as second:
        first.get(sim.url)  # both connections open: the second one is surely another
        second.get(sim.url)
        refused = handshake(first, token_url(sim), "CONTOSO\\alice", "ucwa-demo",
                            second=second)
    assert refused.status_code == 401
    assert refused.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]
    assert "no handshake in progress on this connection" in caplog.text


@pytest.mark.parametrize(("user", "password", "why"), [
    ("CONTOSO\\alice", "not-her-password", "wrong password"),
    ("FABRIKAM\\alice", "ucwa-demo", "unknown user or domain"),
    ("CONTOSO\\nobody", "ucwa-demo", "unknown user or domain")])
def test_bad_credentials_get_a_fresh_challenge(sim: Simulator, user: str, password: str,
                                               why: str,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ucwa_nb.sim")
    with one_connection() as client:
        refused = handshake(client, token_url(sim), user, password)
    assert refused.status_code == 401
    assert refused.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]
    assert why in caplog.text
    assert password not in caplog.text


@pytest.mark.parametrize("authorization", [
    "Negotiate not-base64!!", "Negotiate " + base64.b64encode(b"garbage" * 10).decode(),
    "NTLM " + base64.b64encode(b"NTLMSSP\x00\x03\x00\x00\x00" + b"x" * 40).decode(),
    "NTLM " + base64.b64encode(b"NTLMSSP\x00\x01\x00\x00\x00").decode(),
    "Negotiate " + base64.b64encode(b"\x60\x82\xff\xff").decode()])
def test_a_garbage_token_gets_a_fresh_challenge(sim: Simulator, authorization: str) -> None:
    response = httpx.post(token_url(sim), data=WINDOWS,
                          headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]


def test_a_one_megabyte_token_is_refused_not_failed(sim: Simulator) -> None:
    huge = "Negotiate " + base64.b64encode(os.urandom(768 * 1024)).decode()
    try:
        response = httpx.post(token_url(sim), data=WINDOWS, headers={"Authorization": huge})
    except httpx.TransportError:
        pass  # h11 refused the header block and closed the connection: no 500 either
    else:
        assert 400 <= response.status_code < 500
    with one_connection() as client:  # and the server still signs people in
        assert handshake(client, token_url(sim), "CONTOSO\\alice",
                         "ucwa-demo").status_code == 200


async def _call_app(headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
    app = create_app(World(fast_scenario()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": TOKEN_PATH, "raw_path":
             TOKEN_PATH.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent  # type: ignore[misc]
                       if m["type"] == "http.response.body")
    assert isinstance(status, int)
    return status, content


def test_a_token_past_the_header_limit_is_an_oauth_error() -> None:
    # Through the ASGI app directly: h11 in front of a real socket refuses it earlier.
    body = b"grant_type=urn%3Amicrosoft.rtc%3Awindows"
    status, content = asyncio.run(_call_app(
        [(b"authorization", b"NTLM " + b"A" * 20_000),
         (b"content-type", b"application/x-www-form-urlencoded"),
         (b"content-length", str(len(body)).encode())], body))
    assert status == 400
    assert json.loads(content) == {"error": "invalid_request"}


def test_negotiate_where_only_ntlm_is_offered(lab: Lab) -> None:
    sim = lab.start(windows_auth="ntlm")
    assert httpx.post(token_url(sim), data=WINDOWS).headers.get_list(
        "www-authenticate") == ["NTLM"]
    context = spnego.client("CONTOSO\\alice", "ucwa-demo", hostname="fe1", service="HTTP",
                            protocol="negotiate")
    with one_connection() as client:
        refused = client.post(token_url(sim), data=WINDOWS,
                              headers=_header("Negotiate", context.step() or b""))
        assert refused.status_code == 401
        assert refused.headers.get_list("www-authenticate") == ["NTLM"]
        assert handshake(client, token_url(sim), "CONTOSO\\alice", "ucwa-demo",
                         "NTLM").status_code == 200


def test_the_windows_grant_takes_no_username_or_password(sim: Simulator) -> None:
    response = httpx.post(token_url(sim), data={**WINDOWS, "username": "alice@contoso.com"})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def _challenge_grants(sim: Simulator) -> str:
    response = httpx.get(sim.base_url + "/autodiscover/autodiscoverservice.svc/root/oauth/user")
    header = next(v for v in response.headers.get_list("www-authenticate")
              if v.startswith("MsRtcOAuth"))
    return header.split('grant_type="')[1].rstrip('"')


def test_the_password_grant_turned_off(lab: Lab) -> None:
    sim = lab.start(password_grant=False)
    assert _challenge_grants(sim) == "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting"
    refused = httpx.post(token_url(sim), data={"grant_type": "password",
                                               "username": "alice@contoso.com",
                                               "password": "ucwa-demo"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "unsupported_grant_type"}
    with one_connection() as client:
        assert handshake(client, token_url(sim), "CONTOSO\\alice",
                         "ucwa-demo").status_code == 200


def test_windows_sign_in_turned_off(lab: Lab) -> None:
    sim = lab.start(windows_auth="off")
    assert _challenge_grants(sim) == "urn:microsoft.rtc:anonmeeting,password"
    refused = httpx.post(token_url(sim), data=WINDOWS,
                         headers={"Authorization": "Negotiate " + "A" * 40})
    assert refused.status_code == 400
    assert refused.json() == {"error": "unsupported_grant_type"}


def test_the_user_file_is_private_and_removed() -> None:
    before = os.environ.get("NTLM_USER_FILE")
    sim = Simulator(fast_scenario())
    try:
        with one_connection() as client:
            assert handshake(client, token_url(sim), "CONTOSO\\alice",
                             "ucwa-demo").status_code == 200
        files = list(Path(tempfile.gettempdir()).glob("ucwa-nb-ntlm-*"))
        mine = [f for f in files if f.read_text().startswith("CONTOSO:alice:")]
        assert mine
        assert stat.S_IMODE(mine[0].stat().st_mode) == 0o600
        assert os.environ.get("NTLM_USER_FILE") == before  # put back after each step
    finally:
        sim.stop()
    assert not any(f.exists() for f in mine)


def test_two_simulators_with_different_passwords_side_by_side(lab: Lab) -> None:
    data = fast_scenario_dict()
    data["users"][0]["password"] = "another-password"
    first, second = lab.start(), lab.start(scenario_from_dict(data))
    with one_connection() as client:
        assert handshake(client, token_url(first), "CONTOSO\\alice",
                         "ucwa-demo").status_code == 200
        assert handshake(client, token_url(second), "CONTOSO\\alice",
                         "ucwa-demo").status_code == 401
        assert handshake(client, token_url(second), "CONTOSO\\alice",
                         "another-password").status_code == 200


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _negotiate() -> bytes:
    return spnego.client("CONTOSO\\alice", "x", hostname="h", service="HTTP",
                         protocol="ntlm").step() or b""


def test_half_open_handshakes_are_bounded() -> None:
    clock = _Clock()
    scenario = fast_scenario({"max_windows_handshakes": 10,
                              "max_windows_handshakes_per_address": 3,
                              "windows_handshake_timeout": 5.0})
    acceptor = WindowsAcceptor(scenario, scenario.server, clock)
    try:
        for port in range(20):  # one address: at most 3 of its handshakes are kept
            assert acceptor.step(("10.0.0.1", port), "NTLM", _negotiate()).kind == "continue"
        assert len(acceptor) == 3
        assert acceptor.pending(("10.0.0.1", 19))
        assert not acceptor.pending(("10.0.0.1", 0))
        for n in range(20):  # many addresses: 10 in all, the oldest dropped
            acceptor.step((f"10.0.1.{n}", 1), "NTLM", _negotiate())
        assert len(acceptor) == 10
        clock.now += 6  # older than the timeout: forgotten
        acceptor.sweep()
        assert len(acceptor) == 0
    finally:
        acceptor.close()


def test_netbios_domain() -> None:
    assert netbios_domain("alice@contoso.com") == "CONTOSO"
    assert netbios_domain("bob@eu.fabrikam.example") == "EU"


def test_windows_auth_must_be_known() -> None:
    with pytest.raises(ScenarioError, match="windows_auth must be one of"):
        fast_scenario({"windows_auth": "kerberos"})


def test_refused_handshakes_are_rate_limited(lab: Lab) -> None:
    sim = lab.start(signin_failures_per_account=2, signin_failure_rate_per_account=0.001)
    with one_connection() as client:
        for _ in range(2):
            assert handshake(client, token_url(sim), "CONTOSO\\alice",
                             "not-her-password").status_code == 401
        throttled = handshake(client, token_url(sim), "CONTOSO\\alice", "ucwa-demo")
    assert throttled.status_code == 429
    assert throttled.json() == {"error": "invalid_grant"}
    assert "Retry-After" in throttled.headers
