"""The session's own client over a borrowed one (``client/transport.py``): the borrowed client
is left as it was found, and every body is read within READ_LIMIT and the deadline."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from support import ALICE, HookTransport, MakeSim

import ucwa_nb
from ucwa_nb import Session
from ucwa_nb.client.transport import READ_LIMIT, BoundedRead, outcome_of

Hooks = dict[str, list[Callable[..., object]]]


def _seen(client: httpx.Client) -> tuple[object, Hooks]:
    """What a session could have changed on a client: its auth and its event hooks."""
    return client.auth, {name: list(hooks) for name, hooks in client.event_hooks.items()}


@pytest.fixture
def borrowed() -> Iterator[tuple[httpx.Client, HookTransport, list[httpx.Request]]]:
    """A caller's client with a transport and a request hook of its own: (client, transport,
    the requests the hook saw)."""
    transport = HookTransport()
    hooked: list[httpx.Request] = []
    with httpx.Client(transport=transport, timeout=10.0,
                      event_hooks={"request": [hooked.append]}) as client:
        yield client, transport, hooked


def _connect(sim_url: str, client: httpx.Client) -> Session:
    return ucwa_nb.connect(sim_url, username=ALICE[0], password=ALICE[1], http_client=client,
                           poll_timeout=1.0)


def test_a_borrowed_client_is_left_as_it_was(
        make_sim: MakeSim, borrowed: tuple[httpx.Client, HookTransport, list[httpx.Request]],
        ) -> None:
    client, transport, hooked = borrowed
    sim = make_sim()
    before = _seen(client)
    first = _connect(sim.url, client)
    assert _seen(client) == before
    second = _connect(sim.url, client)  # a second session on the same client
    assert _seen(client) == before
    # The caller's transport and hooks still see every request, with the session's token.
    assert len(hooked) == len(transport.sent) > 0
    assert any("authorization" in r.headers for r in hooked)
    first.close()
    second.close()
    assert _seen(client) == before
    assert not client.is_closed  # the caller's to close
    assert first.http_client.is_closed  # the session's own
    rows = (len(first.log), len(second.log))
    response = client.get(sim.url)
    assert response.status_code == 200
    assert (len(first.log), len(second.log)) == rows  # no session logs the caller's call
    assert "authorization" not in transport.sent[-1].headers


def test_two_sessions_on_one_client_log_their_own_exchanges(
        make_sim: MakeSim, borrowed: tuple[httpx.Client, HookTransport, list[httpx.Request]],
        ) -> None:
    client, _, _ = borrowed
    sim = make_sim()
    first = _connect(sim.url, client)
    second = _connect(sim.url, client)
    try:
        assert first.application_url != second.application_url
        first.conversations()
        raw = second.http_client.get(second.application_url or "",
                                     headers={"Accept": "application/json"})
        assert raw.status_code == 200
        first_urls = set(first.log.df.url)
        second_urls = set(second.log.df.url)
        assert not any(url.startswith(second.application_url or "-") for url in first_urls)
        assert not any(url.startswith(first.application_url or "-") for url in second_urls)
        assert any("/conversations" in url for url in first_urls)
        assert not any("/conversations" in url for url in second_urls)
        assert second.application_url in second_urls  # the raw call, logged
    finally:
        first.close()
        second.close()


def test_raw_calls_after_close_are_refused(make_sim: MakeSim) -> None:
    session = ucwa_nb.connect(make_sim().url, username=ALICE[0], password=ALICE[1],
                              poll_timeout=1.0)
    session.close()
    rows = len(session.log)
    with pytest.raises(RuntimeError, match="closed"):
        session.http_client.get(session.application_url or "")
    assert len(session.log) == rows


# --------------------------------------------------------------------------- BoundedRead


def _read(answer: Callable[[httpx.Request], httpx.Response], timeout: float = 5.0,
          ) -> tuple[httpx.Response, httpx.Request]:
    request = httpx.Request("GET", "http://server.test/x",
                            extensions={"timeout": {"read": timeout}})
    response = BoundedRead(httpx.MockTransport(answer)).handle_request(request)
    response.read()
    return response, request


def test_a_compressed_body_is_handed_on_as_sent() -> None:
    body = b'{"a": 1}' * 1000
    response, request = _read(lambda _: httpx.Response(
        200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    assert response.content == body
    assert response.headers["content-encoding"] == "gzip"  # the log shows what came
    assert outcome_of(request) is None


def test_a_gzip_bomb_counts_at_its_real_size() -> None:
    bomb = gzip.compress(b"\0" * (3 * READ_LIMIT))  # some kilobytes on the wire

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(bomb), 512):
            yield bomb[start:start + 512]

    response, request = _read(lambda _: httpx.Response(
        200, content=chunks(), headers={"Content-Encoding": "gzip"}))
    outcome = outcome_of(request)
    assert outcome is not None
    assert outcome.why == "too_large"
    assert outcome.read > READ_LIMIT
    assert len(response.content) <= READ_LIMIT


def test_a_body_that_does_not_decode_is_cut_short() -> None:
    response, request = _read(lambda _: httpx.Response(
        200, content=iter([b"not gzip at all"]), headers={"Content-Encoding": "gzip"}))
    outcome = outcome_of(request)
    assert outcome is not None
    assert outcome.why == "failed"
    assert response.content == b""


def test_a_body_past_the_deadline_is_cut_short() -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(20):
            time.sleep(0.02)
            yield b" "

    response, request = _read(lambda _: httpx.Response(200, content=drip()), timeout=0.1)
    outcome = outcome_of(request)
    assert outcome is not None
    assert outcome.why == "too_slow"
    assert 0 < len(response.content) < 20


@pytest.mark.parametrize("size", [6, READ_LIMIT + 1])
def test_a_body_read_by_the_callers_transport_is_handed_on(size: int) -> None:
    class Reading(httpx.BaseTransport):
        """A caller's transport that reads each answer itself (its stream is then spent)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = httpx.Response(200, content=iter([b" " * size]))
            response.read()
            return response

    request = httpx.Request("GET", "http://server.test/x")
    response = BoundedRead(Reading()).handle_request(request)
    assert len(response.content) == size
    outcome = outcome_of(request)
    assert (outcome.why if outcome else None) == ("too_large" if size > READ_LIMIT else None)
