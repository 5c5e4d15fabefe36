"""The client's event channel: order, recovery from lost polls, replaced polls, expired
applications, failures that stay visible, and stopping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
from support import (
    JOHN,
    MARIA,
    SUCCESS_TYPES,
    WAIT,
    FaultyPolls,
    HookTransport,
    MakeSession,
    MakeSim,
    is_event_poll,
    wait_until,
)

from ucwa_nb import PhoneAudioCall, Session, Simulator
from ucwa_nb.client import EventChannel
from ucwa_nb.client.channel import MAX_BACKOFF
from ucwa_nb.protocol import Events


def _types(call: PhoneAudioCall) -> list[str]:
    return [e.type for e in call.events]


def _place_and_complete(session: Session, index: int = 0, to: str = JOHN) -> PhoneAudioCall:
    call = session.add_phone_audio(session.conversations()[index], to=to)
    return call.wait(WAIT)


def test_batches_are_processed_in_order(session: Session) -> None:
    assert session.event_channel is not None
    call = _place_and_complete(session)
    assert _types(call) == SUCCESS_TYPES
    assert session.event_channel.batches >= 2
    assert session.event_channel.errors == []
    assert session.event_channel.failures_in_a_row == 0
    df = session.log.df
    polls = df[(df.kind == "http") & (df.rel == "events")]
    acks = [int(url.split("ack=")[1].split("&")[0]) for url in polls.url]
    assert acks == list(range(1, len(acks) + 1))  # next links followed one after another
    assert polls.url.str.contains("timeout=5").all()
    # each event row follows the poll that carried it
    events = df[df.kind == "event"]
    for row in events.itertuples():
        carrier = df[(df.kind == "http") & (df.url == row.url)]
        assert len(carrier) == 1
        assert carrier.seq.iloc[0] < row.seq


def test_recovers_when_event_responses_are_lost(hooked_session: Session,
                                               transport: HookTransport) -> None:
    session = hooked_session
    faults = FaultyPolls(transport)
    faults.lose = 2  # the server formed the batch, the client never saw it
    call = _place_and_complete(session)
    assert faults.failed == ["read", "read"]
    # ack semantics: the same batch is asked for again, so nothing is lost nor doubled
    assert _types(call) == SUCCESS_TYPES
    assert call.status == "Success"
    assert session.event_channel is not None
    assert session.event_channel.alive
    assert sum("ReadError" in e for e in session.event_channel.errors) == 2
    assert session.event_channel.failures_in_a_row == 0
    failed = session.log.df
    failed = failed[(failed.rel == "events") & failed.error.notna()]
    assert len(failed) == 2
    assert failed.status.isna().all()
    assert failed.error.str.contains("ReadError").all()


def test_recovers_when_polls_cannot_connect(hooked_session: Session,
                                           transport: HookTransport) -> None:
    session = hooked_session
    faults = FaultyPolls(transport)
    conversation = session.conversations()[0]
    faults.refuse = 2
    # the parked poll ends when the call's first events come; the next two polls fail
    call = session.add_phone_audio(conversation, to=JOHN)
    call.wait(WAIT)
    assert faults.failed == ["connect", "connect"]
    assert _types(call) == SUCCESS_TYPES
    assert session.event_channel is not None
    assert sum("ConnectError" in e for e in session.event_channel.errors) == 2
    assert session.event_channel.last_error is not None
    assert session.event_channel.alive


def test_an_unreadable_answer_is_noted_and_asked_again(hooked_session: Session,
                                                      transport: HookTransport) -> None:
    session = hooked_session
    replaced: list[str] = []

    def proxy_page(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if is_event_poll(request) and not replaced and b"phoneAudioInvitation" in \
                response.read():
            replaced.append(str(request.url))
            return httpx.Response(200, headers={"Content-Type": "text/html"},
                                  content=b"<html>proxy says hello</html>", request=request)
        return None

    transport.after.append(proxy_page)
    call = _place_and_complete(session)
    assert len(replaced) == 1
    assert _types(call) == SUCCESS_TYPES
    assert session.event_channel is not None
    assert any("event batch" in e for e in session.event_channel.errors)


def test_replaced_poll_is_logged_and_the_channel_carries_on(session: Session) -> None:
    channel = session.event_channel
    assert channel is not None
    # A second GET on the current events href, as another client of the same application
    # would send: one of the two polls is answered 409 PGetReplaced. Repeat until it was
    # the client's (ours may come first, before the client's poll is parked).
    raw_answers: list[int] = []
    for _ in range(20):
        response = session.http_client.get(channel.href, params={"timeout": "1"},
                                           headers={"Accept": "application/json"})
        raw_answers.append(response.status_code)
        if any("PGetReplaced" in e for e in channel.errors):
            break
    assert any("PGetReplaced" in e for e in channel.errors), raw_answers
    df = session.log.df
    replaced = df[(df.rel == "events") & (df.status == 409)]
    assert len(replaced) >= 1
    assert set(replaced.subcode) == {"PGetReplaced"}
    assert channel.alive
    call = _place_and_complete(session)
    assert _types(call) == SUCCESS_TYPES


def _assert_recreated(session: Session, old_app: str, status: int = 404,
                      subcode: str = "ApplicationNotFound") -> None:
    channel = session.event_channel
    assert channel is not None
    wait_until(lambda: channel.recreated == 1, what="the application to be re-created")
    assert session.application_url != old_app
    assert any(subcode in e for e in channel.errors)
    df = session.log.df
    gone = df[(df.rel == "events") & (df.status == status)]
    assert gone.subcode.tolist() == [subcode]
    again = df[(df.rel == "applications") & (df.seq > gone.seq.iloc[0])]
    assert again.status.tolist() == [201]


def test_application_deleted_behind_the_clients_back(session: Session) -> None:
    old_app = session.application_url
    assert old_app is not None
    conversation = session.conversations()[0]
    assert session.http_client.delete(old_app).status_code == 204
    _assert_recreated(session, old_app)
    # a conversation object from before still works: the session finds it again by thread
    call = session.add_phone_audio(conversation, to=JOHN).wait(WAIT)
    assert call.status == "Success"
    assert _types(call) == SUCCESS_TYPES
    assert call.location is not None
    assert call.location.startswith(session.application_url or "?")
    # and later calls on fresh objects too
    logs = session.conversation_logs()
    assert session.continue_phone_audio(logs[0]).wait(WAIT).status == "Success"


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_application_expires_while_the_channel_is_paused(make_sim: MakeSim,
                                                        make_session: MakeSession) -> None:
    sim = make_sim(application_expiry=0.3)
    transport = HookTransport()
    paused = threading.Event()
    resume = threading.Event()
    held: list[str] = []

    def hold_polls(request: httpx.Request) -> None:
        if is_event_poll(request) and paused.is_set():
            held.append(str(request.url))
            assert resume.wait(WAIT), "the test never resumed the channel"

    transport.before.append(hold_polls)
    session = make_session(sim, transport=transport, poll_timeout=1.0)
    old_app = session.application_url
    assert old_app is not None
    paused.set()  # the parked poll ends within 1 s; the next one is held back
    wait_until(lambda: held, what="a poll to be held")
    time.sleep(0.6)  # twice the expiry, nobody polling: the server deletes the application
    paused.clear()
    resume.set()
    # Expired for inactivity: 410 Gone (GenericSynchronousErrors, ApplicationDashboard).
    _assert_recreated(session, old_app, 410, "InactiveApplicationExpired")
    call = _place_and_complete(session, index=1, to=MARIA)
    assert call.status == "Failure"
    assert _types(call)[0] == "started"


def test_delivery_failure_is_visible_and_not_fatal(session: Session,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = session.channel_host.deliver
    failures: list[int] = []

    def flaky(batch: Events, response: httpx.Response) -> None:
        if not failures:
            failures.append(1)
            raise RuntimeError("a bug while delivering")
        real(batch, response)

    monkeypatch.setattr(session.channel_host, "deliver", flaky)
    call = _place_and_complete(session)
    assert failures == [1]
    assert session.event_channel is not None
    assert session.event_channel.alive
    assert any("RuntimeError: a bug while delivering" in e for e in session.event_channel.errors)
    assert _types(call) == SUCCESS_TYPES  # the batch was asked for again


def test_a_broken_listener_does_not_stop_delivery(session: Session) -> None:
    conversation = session.conversations()[0]
    call = session.add_phone_audio(conversation, to=JOHN)
    seen: list[str] = []

    def broken(c: PhoneAudioCall) -> None:
        seen.append(c.progress)
        raise ValueError("listener bug")

    unsubscribe = call.on_change(broken)
    call.wait(WAIT)
    unsubscribe()
    assert call.status == "Success"
    assert seen
    assert seen[-1] == "connected"


def test_simulator_going_away_is_noted_and_close_is_prompt(make_sim: MakeSim,
                                                          make_session: MakeSession) -> None:
    sim: Simulator = make_sim()
    session = make_session(sim)
    channel = session.event_channel
    assert channel is not None
    sim.stop()
    wait_until(lambda: channel.errors, what="the channel to notice")
    assert channel.alive  # keeps trying, with back-off
    started = time.monotonic()
    session.close()
    assert time.monotonic() - started < 2.0
    assert not channel.alive
    # 503 for the parked poll, then whatever a stopping server answers (refused, 500)
    assert all(e.startswith("event poll") for e in channel.errors), channel.errors


class _IdleHost:
    """A ChannelHost for a channel that is never started: only its clock is asked."""

    def request_events(self, href: str, *, poll_timeout: float,
                       read_grace: float) -> httpx.Response:
        raise AssertionError("the channel was not started")

    def events_href(self) -> str:
        raise AssertionError("the channel was not started")

    def recreate_application(self) -> str:
        raise AssertionError("the channel was not started")

    def deliver(self, batch: Events, response: httpx.Response) -> None:
        raise AssertionError("the channel was not started")

    def now(self) -> datetime:
        return datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_backoff_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    channel = EventChannel(_IdleHost(), "http://127.0.0.1:9/never", jitter=lambda: 1.0)
    delays: list[float] = []

    def wait(delay: float) -> bool:
        delays.append(delay)
        return False

    monkeypatch.setattr(channel._stop, "wait", wait)
    for _ in range(12):
        channel._backoff()
    assert delays[:6] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert max(delays) == MAX_BACKOFF
    assert delays[-1] == MAX_BACKOFF
    assert channel.failures_in_a_row == 12


def test_stop_without_start_and_twice() -> None:
    channel = EventChannel(_IdleHost(), "http://127.0.0.1:9/never")
    assert not channel.alive
    channel.stop(timeout=0.1)
    channel.stop(timeout=0.1)
    assert channel.stopping
