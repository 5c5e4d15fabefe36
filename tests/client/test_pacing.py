"""Issue 25: the client copes with the server's pacing. A 429 with Retry-After at sign-in
or at application creation is waited out within connect()'s deadline and shown; past it, a
clear error (client/pacing.py)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from support import ALICE, HookTransport, MakeSim

import ucwa_nb
from ucwa_nb.client import PacingWarning
from ucwa_nb.client.pacing import Pacing, retry_after


def _answer(status: int, retry: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry} if retry is not None else {}
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x/"))


def test_a_throttled_sign_in_is_waited_out_and_shown(make_sim: MakeSim) -> None:
    sim = make_sim(signin_burst_per_account=1, signin_rate_per_account=1.0)
    ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], poll_timeout=5).close()
    with pytest.warns(PacingWarning, match=r"pacing signing in \(429 Retry-After: 1 s\)"):
        session = ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1],
                                  poll_timeout=5)
    try:
        [(step, seconds)] = session.pacing.waits
        assert step == "signing in"
        assert 1.0 <= seconds <= 1.25
        assert "waited 1." in repr(session)
        statuses = [row.status for row in session.log.rows if row.rel == "token"]
        assert statuses == [429, 200]  # the 429 is in the log like every exchange
    finally:
        session.close()


def test_a_wait_past_the_deadline_raises_saying_how_long(make_sim: MakeSim) -> None:
    sim = make_sim(signin_burst_per_account=1, signin_rate_per_account=0.01)
    ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], poll_timeout=5).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PacingWarning)  # nothing is waited
        with pytest.raises(ucwa_nb.SignInError) as raised:
            ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1], timeout=5)
    assert raised.value.status == 429
    assert "asked to wait 100 s before signing in again" in str(raised.value)
    assert "past the 5 s that connect() waits" in str(raised.value)


def test_a_throttled_application_creation_is_waited_out(make_sim: MakeSim) -> None:
    sim = make_sim()
    transport = HookTransport()
    refused: list[int] = []

    def busy(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/applications") \
                and not refused:
            refused.append(1)
            return httpx.Response(429, headers={"Retry-After": "1"}, json={
                "code": "TooManyRequests", "message": "busy"}, request=request)
        return None

    transport.before.append(busy)
    with httpx.Client(transport=transport) as client:
        with pytest.warns(PacingWarning, match="creating the application"):
            session = ucwa_nb.connect(sim.url, username=ALICE[0], password=ALICE[1],
                                      http_client=client, poll_timeout=5)
        try:
            assert [step for step, _ in session.pacing.waits] == ["creating the application"]
            assert session.application_url is not None
        finally:
            session.close()


def test_retry_after_takes_seconds_or_a_date_and_nothing_absurd() -> None:
    assert retry_after(_answer(429, "3")) == 3.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= (retry_after(_answer(429, in_a_minute)) or 0) <= 60
    assert retry_after(_answer(429)) is None
    assert retry_after(_answer(429, "soon")) is None
    assert retry_after(_answer(429, "9" * 30)) is None  # past a day: not believed


def test_pacing_waits_within_its_budget_only() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacing = Pacing(10.0, sleep=sleep, now=lambda: clock[0])
    with pytest.warns(PacingWarning):
        assert pacing.wait(_answer(429, "4"), "signing in")
    assert not pacing.wait(_answer(400, "4"), "signing in")  # not a 429
    assert not pacing.wait(_answer(429), "signing in")  # no Retry-After
    assert not pacing.wait(_answer(429, "9"), "signing in")  # past the 10 s
    assert pacing.refused is not None
    assert "asked to wait 9 s" in pacing.refused
    assert len(slept) == 1
    assert 4.0 <= slept[0] <= 5.0
    assert pacing.describe().startswith("waited 4.")
