"""Windows sign-in from the client: which grant ``connect()`` picks, the Negotiate/NTLM
handshake against the simulator's real acceptor (one connection, both schemes, the password
grant on and off), what a refusal says, and hostile servers on loopback that ask for a
handshake where it must not go."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from support import MakeSim, fast_scenario, fast_scenario_dict

import ucwa_nb
from ucwa_nb import ExchangeLog, Session, Simulator
from ucwa_nb.client.auth import choose_grant
from ucwa_nb.client.errors import SignInError, UntrustedHostError
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario_loader import scenario_from_dict

from .hostile import Handler, LoopbackServer, answer, fake_ucwa

WINDOWS = "urn:microsoft.rtc:windows"
ALL = (WINDOWS, "urn:microsoft.rtc:anonmeeting", "password")
PASSWORD = "ucwa-demo"
Serve = Callable[..., LoopbackServer]


def _open(url: str, sessions: list[Session], **kwargs: Any) -> Session:
    session = ucwa_nb.connect(url, poll_timeout=5, timeout=5.0, **kwargs)
    sessions.append(session)
    return session


# --------------------------------------------------------------------------- the choice


@pytest.mark.parametrize(("offered", "auth", "has_password", "chosen"), [
    (ALL, "auto", True, "password"),
    (ALL, "auto", False, WINDOWS),
    ((WINDOWS,), "auto", True, WINDOWS),
    (("password",), "auto", True, "password"),
    (ALL, "windows", True, WINDOWS),
    ((WINDOWS,), "password", True, "password"),  # forced: the server's answer will say
])
def test_the_grant_connect_picks(offered: tuple[str, ...], auth: Any, has_password: bool,
                                 chosen: str) -> None:
    assert choose_grant(offered, auth, has_password) == chosen


@pytest.mark.parametrize(("offered", "has_password", "says"), [
    (("password",), False, "pass username= and password="),
    (("urn:microsoft.rtc:anonmeeting",), True, "pass token="),
    ((), True, "no grant at all"),
])
def test_a_server_offering_neither_is_named(offered: tuple[str, ...], has_password: bool,
                                            says: str) -> None:
    with pytest.raises(SignInError) as info:
        choose_grant(offered, "auto", has_password)
    assert says in str(info.value)
    assert "does not offer the password grant" in str(info.value)
    assert info.value.code == "unsupported_grant_type"


# --------------------------------------------------------------------------- the simulator


@pytest.mark.parametrize("username", ["CONTOSO\\alice", "alice@contoso.com"])
@pytest.mark.parametrize("windows_auth", ["negotiate", "ntlm"])
def test_windows_sign_in(make_sim: MakeSim, sessions: list[Session],
                         username: str, windows_auth: str) -> None:
    sim = make_sim(windows_auth=windows_auth)
    session = _open(sim.url, sessions, username=username, password=PASSWORD, auth="windows")
    assert session.me is not None
    assert session.me.get("uri") == "sip:alice@contoso.com"
    token_rows = session.log.filter(rel="token")
    assert token_rows.status.tolist() == [401, 401, 200]
    sent = {value.split(" ")[0] for headers in token_rows.request_headers
            for name, value in headers if name.lower() == "authorization"}
    assert sent == {"Negotiate" if windows_auth == "negotiate" else "NTLM"}
    body = token_rows.request_body.iloc[-1]
    assert body == "grant_type=urn%3Amicrosoft.rtc%3Awindows"  # no username, no password


def test_the_password_grant_off_then_windows(make_sim: MakeSim,
                                             sessions: list[Session]) -> None:
    sim = make_sim(password_grant=False)
    with pytest.raises(SignInError) as info:
        _open(sim.url, sessions, username="alice@contoso.com", password=PASSWORD,
              auth="password")
    assert info.value.status == 400
    assert info.value.code == "unsupported_grant_type"
    assert "try auth='windows'" in str(info.value)
    # auto: the challenge does not offer the password grant, so Windows sign-in it is
    session = _open(sim.url, sessions, username="alice@contoso.com", password=PASSWORD)
    assert session.log.filter(rel="token").status.tolist() == [401, 401, 200]


def test_the_password_grant_is_preferred_when_offered(make_sim: MakeSim,
                                                      sessions: list[Session]) -> None:
    session = _open(make_sim().url, sessions, username="alice@contoso.com", password=PASSWORD)
    assert session.log.filter(rel="token").status.tolist() == [200]


@pytest.mark.parametrize("username", ["CONTOSO\\alice", "FABRIKAM\\alice"])
def test_a_refused_handshake(make_sim: MakeSim, username: str) -> None:
    sim = make_sim()
    password = PASSWORD if username.startswith("FABRIKAM") else "Wr0ng-pa55-for-the-test"
    log = ExchangeLog()
    with pytest.raises(SignInError) as info:
        ucwa_nb.connect(sim.url, username=username, password=password, auth="windows",
                        log=log, timeout=5.0)
    assert info.value.code == "WindowsSignInRefused"
    assert "wrong password, an unknown user or domain" in str(info.value)
    assert password not in str(info.value)
    assert [r.status for r in log.rows if r.rel == "token"] == [401, 401, 401]


class _Recorder:
    """An ASGI wrapper that notes the client port of every token request, and every
    handshake token that crossed the wire (Authorization and WWW-Authenticate)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.ports: list[int] = []
        self.tokens: set[str] = set()

    def _note(self, value: bytes) -> None:
        scheme, _, token = value.decode("latin-1").partition(" ")
        if scheme in ("Negotiate", "NTLM") and token:
            self.tokens.add(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/oauthtoken"):
            await self.app(scope, receive, send)
            return
        self.ports.append(scope["client"][1])
        for name, value in scope["headers"]:
            if name == b"authorization":
                self._note(value)

        async def noting(message: Any) -> None:
            for name, value in message.get("headers", []):
                if name.lower() == b"www-authenticate":
                    self._note(value)
            await send(message)

        await self.app(scope, receive, noting)


def test_the_handshake_stays_on_one_connection(serve: Serve, sessions: list[Session],
                                               tmp_path: Path) -> None:
    app = _Recorder(create_app(World(fast_scenario())))
    server = serve(app)
    url = server.url("/autodiscover/autodiscoverservice.svc/root")
    session = _open(url, sessions, username="CONTOSO\\alice", password=PASSWORD,
                    auth="windows")
    assert len(app.ports) == 3
    assert len(set(app.ports)) == 1
    # and none of its tokens (NTLM messages carry password hashes) is kept anywhere
    assert len(app.tokens) == 4  # NEGOTIATE, CHALLENGE, AUTHENTICATE, the final answer
    session.log.to_har(tmp_path / "windows.har")
    texts = [session.log.df.astype(str).to_csv(), (tmp_path / "windows.har").read_text(),
             repr(session.log.rows)]
    for text in texts:
        assert "Negotiate [REDACTED]" in text
        for token in app.tokens:
            assert token not in text
            assert token[:24] not in text


# --------------------------------------------------------------------------- hostile servers


def _challenge(token_url: str, grants: str = WINDOWS) -> Handler:
    async def user(request: Request) -> Response:
        return Response(status_code=401, headers={
            "WWW-Authenticate": f'MsRtcOAuth href="{token_url}",grant_type="{grants}"'})
    return user


def _asks_for_negotiate() -> Handler:
    async def token(request: Request) -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "Negotiate"})
    return token


def test_a_handshake_asked_from_another_host_sends_nothing(serve: Serve) -> None:
    evil = serve(fake_ucwa(token=_asks_for_negotiate()), host="127.0.0.2")
    home = serve(fake_ucwa(user=_challenge(evil.url("/token"))))
    log = ExchangeLog()
    with pytest.raises(UntrustedHostError, match=r"password is not sent to 127\.0\.0\.2"):
        ucwa_nb.connect(home.url("/root"), username="CONTOSO\\alice", password=PASSWORD,
                        log=log, timeout=5.0)
    assert evil.seen == []  # not even the bare POST that would start the handshake
    assert not [r for r in log.rows if r.rel == "token"]


def test_no_handshake_over_a_downgrade(serve: Serve, tmp_path: Path) -> None:
    ca = trustme.CA()
    plain = serve(fake_ucwa(token=_asks_for_negotiate()))
    home = serve(fake_ucwa(user=_challenge(plain.url("/token"))),
                 cert=ca.issue_cert("127.0.0.1"))
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with pytest.raises(UntrustedHostError, match="never goes over plain HTTP"):
        ucwa_nb.connect(home.url("/root"), username="CONTOSO\\alice", password=PASSWORD,
                        verify=str(bundle), timeout=5.0)
    assert plain.seen == []


def test_a_token_endpoint_that_leads_on_is_cut_short(serve: Serve) -> None:
    rounds: list[str | None] = []

    async def token(request: Request) -> Response:
        rounds.append(request.headers.get("authorization"))
        junk = base64.b64encode(b"NTLMSSP\x00\x02\x00\x00\x00" + b"\xff" * 60).decode()
        return Response(status_code=401, headers={"WWW-Authenticate": f"NTLM {junk}"})

    server = serve(fake_ucwa(user=_challenge("/token"), token=token))
    with pytest.raises(SignInError, match="WindowsSignIn"):
        ucwa_nb.connect(server.url("/root"), username="CONTOSO\\alice", password=PASSWORD,
                        timeout=5.0)
    assert 1 <= len(rounds) <= 6


def test_a_refusal_names_what_was_offered(serve: Serve) -> None:
    server = serve(fake_ucwa(
        user=_challenge("/token", "urn:microsoft.rtc:windows"),
        token=answer({"error": "unsupported_grant_type"}, 400)))
    with pytest.raises(SignInError) as info:
        ucwa_nb.connect(server.url("/root"), username="alice", password=PASSWORD,
                        auth="password", timeout=5.0)
    message = str(info.value)
    assert "its challenge offers: urn:microsoft.rtc:windows" in message
    assert json.dumps(PASSWORD) not in message
    assert PASSWORD not in message


def test_two_simulators_in_one_process(sessions: list[Session]) -> None:
    data = fast_scenario_dict()
    data["users"][0]["password"] = "a-different-password"
    other = Simulator(scenario_from_dict(data))
    first = Simulator(fast_scenario())
    try:
        _open(first.url, sessions, username="CONTOSO\\alice", password=PASSWORD,
              auth="windows")
        _open(other.url, sessions, username="CONTOSO\\alice",
              password="a-different-password", auth="windows")
    finally:
        for session in sessions:
            session.close()
        first.stop()
        other.stop()
