"""The client pointed at a hostile server (issue 12): credentials stay home, nothing hangs or
grows without bound, nothing is lost from the log, nothing raw is thrown.

Every server here is real (uvicorn on loopback: 127.0.0.1 is "the server", 127.0.0.2 "another
host"), TLS is real (``trustme`` certificates), and every test is bounded in time.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import httpx
import pytest
import trustme
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from support import ALICE, fast_scenario, wait_until

import ucwa_nb
from ucwa_nb import ExchangeLog, Session, UcwaError
from ucwa_nb.client.errors import DiscoveryError, SignInError, UntrustedHostError
from ucwa_nb.client.hooks import LOG_BODY_LIMIT, READ_LIMIT
from ucwa_nb.sim.app import create_app
from ucwa_nb.sim.rules.world import World

from .hostile import TOKEN, Handler, LoopbackServer, answer, fake_ucwa, streamed

PASSWORD = "hostile-test-password-42"
Serve = Callable[..., LoopbackServer]


def _connect(url: str, opened: list[Session], **kwargs: object) -> Session:
    kwargs.setdefault("timeout", 5.0)
    session = ucwa_nb.connect(url, username="alice@contoso.com", password=PASSWORD,
                              poll_timeout=5, **kwargs)  # type: ignore[arg-type]
    opened.append(session)
    return session


def _challenge(token_url: str) -> Handler:
    async def user(request: Request) -> Response:
        return Response(status_code=401, headers={
            "WWW-Authenticate": f'MsRtcOAuth href="{token_url}",grant_type="password"'})
    return user


def _nothing_secret_reached(evil: LoopbackServer) -> None:
    for method, path, authorization, body in evil.seen:
        assert authorization is None, (method, path)
        assert PASSWORD.encode() not in body


# --------------------------------------------------------------------------- credentials


def test_a_user_link_on_another_host_gets_no_password(serve: Serve) -> None:
    evil = serve(fake_ucwa(), host="127.0.0.2")
    home = serve(fake_ucwa(root=answer({"_links": {"user": {"href": evil.url("/user")}}})))
    with pytest.raises(UntrustedHostError, match=r"127\.0\.0\.2") as info:
        _connect(home.url("/root"), [])
    assert PASSWORD not in str(info.value)
    assert evil.seen == []  # refused before anything was sent


def test_a_challenge_naming_another_host_gets_no_password(serve: Serve) -> None:
    evil = serve(fake_ucwa(), host="127.0.0.2")
    home = serve(fake_ucwa(user=_challenge(evil.url("/token"))))
    log = ExchangeLog()
    with pytest.raises(UntrustedHostError, match=r"password is not sent to 127\.0\.0\.2"):
        _connect(home.url("/root"), [], log=log)
    assert evil.seen == []
    # the 401, then the refusal (no status: nothing sent), and no token request
    assert [(r.rel, r.status) for r in log.rows] == [("root", 200), ("user", 401), ("user", None)]
    assert (log.rows[-1].error or "").startswith("UntrustedHostError")


def test_links_on_another_host_get_no_token(serve: Serve, sessions: list[Session]) -> None:
    evil = serve(fake_ucwa(), host="127.0.0.2")
    app = {"_links": {"self": {"href": "/app"}, "events": {"href": evil.url("/app/events")}},
           "_embedded": {"communication": {"_links": {
               "self": {"href": "/app/communication"},
               "conversations": {"href": evil.url("/app/conversations")}}}}}
    home = serve(fake_ucwa(applications=answer(app, 201)))
    session = _connect(home.url("/root"), sessions)
    with pytest.raises(UntrustedHostError, match=r"token is not sent to 127\.0\.0\.2"):
        session.conversations()
    with pytest.raises(UntrustedHostError):  # a raw call through the session's client too
        session.http_client.get(evil.url("/app/conversations"))
    channel = session.event_channel
    assert channel is not None
    wait_until(lambda: channel.errors, what="the channel to refuse its events link")
    assert "127.0.0.2" in (channel.last_error or "")
    _nothing_secret_reached(evil)
    assert evil.seen == []
    refused = session.log.filter(rel="conversations")
    assert refused.error.iloc[0].startswith("UntrustedHostError")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _client_trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_an_https_simulator_signs_in_and_calls(ca: trustme.CA, serve: Serve,
                                               sessions: list[Session]) -> None:
    server = serve(create_app(World(fast_scenario())), cert=ca.issue_cert("127.0.0.1"))
    session = ucwa_nb.connect(server.origin + "/autodiscover/autodiscoverservice.svc/root",
                              username=ALICE[0], password=ALICE[1], poll_timeout=5,
                              verify=_client_trusting(ca))
    sessions.append(session)
    assert session.application_url is not None
    assert session.application_url.startswith("https://127.0.0.1:")
    assert session.conversations()
    assert set(session.log.df.url.str[:8]) == {"https://"}


def test_no_downgrade_from_https_to_http(ca: trustme.CA, serve: Serve) -> None:
    plain = serve(fake_ucwa())  # same host, plain HTTP
    home = serve(fake_ucwa(user=_challenge(plain.url("/token"))),
                 cert=ca.issue_cert("127.0.0.1"))
    with pytest.raises(UntrustedHostError, match="never goes over plain HTTP"):
        _connect(home.url("/root"), [], verify=_client_trusting(ca))
    assert plain.seen == []
    home2 = serve(fake_ucwa(root=answer({"_links": {"user": {"href": plain.url("/user")}}})),
                  cert=ca.issue_cert("127.0.0.1"))
    with pytest.raises(UntrustedHostError, match="plain HTTP"):
        _connect(home2.url("/root"), [], verify=_client_trusting(ca))
    assert plain.seen == []


# --------------------------------------------------------------------------- bounded


def test_a_huge_answer_is_cut_and_said(serve: Serve, sessions: list[Session]) -> None:
    mib = b"[" + b" " * (1024 * 1024 - 1)
    home = serve(fake_ucwa(conversations=streamed(mib, 3 * READ_LIMIT // len(mib))))
    session = _connect(home.url("/root"), sessions)
    with pytest.raises(UcwaError, match="ResponseTooLarge") as info:
        session.conversations()
    assert info.value.status == 200
    row = session.log.filter(rel="conversations").iloc[-1]
    assert len(row.response_body) <= LOG_BODY_LIMIT
    assert f"past {READ_LIMIT} bytes" in row.error
    assert f"{LOG_BODY_LIMIT} of " in row.error


def test_a_drip_does_not_outlast_the_timeout(serve: Serve, sessions: list[Session]) -> None:
    # a byte every 0.2 s: httpx's per-read timeout (1 s) never trips on its own
    home = serve(fake_ucwa(conversations=streamed(b" ", 100, pause=0.2)))
    session = _connect(home.url("/root"), sessions, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout, match="within the timeout"):
        session.conversations()
    assert time.monotonic() - started < 2.5
    assert "not complete within the timeout" in session.log.df.error.iloc[-1]


def _count(server: LoopbackServer, what: str) -> int:
    return sum(1 for method, path, _, _ in server.seen if f"{method} {path}" == what)


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_application_not_found_forever_does_not_flood(serve: Serve,
                                                      sessions: list[Session]) -> None:
    gone = answer({"code": "NotFound", "subcode": "ApplicationNotFound",
                   "message": "gone"}, 404)
    home = serve(fake_ucwa(events=gone))
    session = _connect(home.url("/root"), sessions)
    time.sleep(2.0)  # a fixed window on purpose: the test counts what the client sends in it
    created = _count(home, "POST /applications")
    assert 2 <= created <= 6, created  # it was 58 in 5 s
    channel = session.event_channel
    assert channel is not None
    assert channel.state == "retrying"
    assert channel.failures_in_a_row >= created - 1


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
@pytest.mark.parametrize("batch", [
    {"_links": {"next": {"href": "/app/events?ack=2"}}},  # at once, no events
    {"_links": {"self": {"href": "/app/events"}}},         # no next link
], ids=["instant-next", "no-next"])
def test_polls_answered_at_once_do_not_spin(serve: Serve, sessions: list[Session],
                                            batch: dict[str, object]) -> None:
    home = serve(fake_ucwa(events=answer(batch)))
    session = _connect(home.url("/root"), sessions)
    time.sleep(2.0)  # a fixed window on purpose: the test counts what the client sends in it
    polls = _count(home, "GET /app/events")
    assert 2 <= polls <= 8, polls
    assert session.event_channel is not None
    assert session.event_channel.state == "retrying"
    assert len(session.log.filter(rel="events")) == polls  # one row per poll, no more


# --------------------------------------------------------------------------- the log


DEEP = b"[" * 100_000


def test_a_deeply_nested_error_is_a_ucwa_error_and_logged(serve: Serve,
                                                          sessions: list[Session]) -> None:
    home = serve(fake_ucwa(conversations=answer(raw=DEEP, status=500)))
    session = _connect(home.url("/root"), sessions)
    with pytest.raises(UcwaError) as info:
        session.conversations()
    assert info.value.status == 500
    assert session.log.rows[-1].status == 500


def test_a_deeply_nested_token_error_is_a_sign_in_error(serve: Serve) -> None:
    home = serve(fake_ucwa(token=answer(raw=DEEP, status=400)))
    log = ExchangeLog()
    with pytest.raises(SignInError) as info:
        _connect(home.url("/root"), [], log=log)
    assert info.value.status == 400
    assert log.rows[-1].rel == "token"
    assert log.rows[-1].status == 400


def test_a_bad_location_is_logged(serve: Serve, sessions: list[Session]) -> None:
    home = serve(fake_ucwa(conversations=answer(
        {"_links": {"self": {"href": "/app/conversations"}}},
        headers={"Location": "http://[oops/"})))
    session = _connect(home.url("/root"), sessions)
    session.conversations()
    row = session.log.rows[-1]
    assert row.rel == "conversations"
    assert "Location" in (row.error or "")


def test_followed_redirects_are_logged(serve: Serve, sessions: list[Session]) -> None:
    moved = answer(raw=b"", status=307, headers={"Location": "/app/conversations2"})
    home = serve({**fake_ucwa(conversations=moved),
                  "/app/conversations2": answer({"_links": {"self": {"href": "/x"}}})})
    with httpx.Client(follow_redirects=True, timeout=5.0) as client:
        session = _connect(home.url("/root"), sessions, http_client=client)
        session.http_client.get(home.url("/app/conversations"))
        assert [r.status for r in session.log.rows[-2:]] == [307, 200]
        assert (session.log.rows[-1].url or "").endswith("/app/conversations2")
        session.close()


# --------------------------------------------------------------------------- secrets


def test_a_message_quoting_the_token_is_redacted(serve: Serve,
                                                 sessions: list[Session]) -> None:
    async def quoting(request: Request) -> Response:
        return JSONResponse({"code": "BadRequest", "message": "you sent "
                             + request.headers.get("authorization", "")}, 400)
    home = serve(fake_ucwa(conversations=quoting))
    session = _connect(home.url("/root"), sessions)
    with pytest.raises(UcwaError) as info:
        session.conversations()
    bare = TOKEN.removeprefix("cwt=")
    for text in (str(info.value), repr(info.value), info.value.message or ""):
        assert bare not in text
    assert "you sent Bearer" in str(info.value)


def test_a_wrong_password_is_a_sign_in_error_without_the_password(serve: Serve) -> None:
    async def echoing(request: Request) -> Response:
        form = (await request.body()).decode()
        return JSONResponse({"error": "invalid_grant",
                             "error_description": f"bad credentials in {form}"}, 400)
    home = serve(fake_ucwa(token=echoing))
    with pytest.raises(SignInError) as info:
        _connect(home.url("/root"), [])
    error = info.value
    assert isinstance(error, UcwaError)
    assert isinstance(error, DiscoveryError)
    assert (error.status, error.code) == (400, "invalid_grant")
    assert error.message is not None
    assert error.message.startswith("bad credentials")
    assert PASSWORD not in str(error)
    assert PASSWORD not in repr(error)
    assert str(error).startswith("sign-in refused: 400 invalid_grant")


def test_scenario_and_user_reprs_hide_passwords() -> None:
    scenario = fast_scenario()
    for text in (repr(scenario), repr(scenario.demo_user), str(scenario.users)):
        for user in scenario.users:
            assert user.password not in text
