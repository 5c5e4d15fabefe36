"""Faults on the event channel: polls reset and held back, the simulator restarting in the
middle of a run, and a server gone for good.

What is proven: clients recover without losing an event (every call still reaches exactly one
completed event, with its planned outcome; batches are taken ack after ack, none twice) or a
log row (every exchange on the wire, failed ones included, is a row of the session's log).
The simulator's fault modes are checked on their own first: a dropped poll is a real TCP
reset, the batch it carried is sent again for the same ack, a held poll outlives the
client's read timeout, and fates are seeded.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from support import wait_until

from ucwa_nb import Session, Simulator, parse
from ucwa_nb.client.trust import bearer_of
from ucwa_nb.protocol import Events
from ucwa_nb.sim import PollFaultSpec, ScenarioError
from ucwa_nb.sim.faults import PollFaults
from ucwa_nb.sim.scenario_loader import scenario_from_dict

from .classroom import (
    SEED,
    SSL_CONTEXT,
    Attendee,
    Audit,
    Classroom,
    MakeRoom,
    Room,
    audit,
    build_classroom,
)

# The client waits poll_timeout + read_grace for an answer: a held poll costs 1.5 s.
POLL_TIMEOUT = 1.0
READ_GRACE = 0.5
DROP_RATE = 0.05
HOLD_RATE = 0.02
DOWNTIME = 0.3  # of each restart: the port refuses connections meanwhile
WAIT = 10.0  # s: longer than the fast tests' waits, for runs with many sessions


def _sum(audits: list[Audit]) -> Counter[str]:
    return sum((a.failed_polls for a in audits), Counter())


# --------------------------------------------------------------------------- fault modes


def test_poll_fates_are_seeded_and_near_their_rates() -> None:
    spec = PollFaultSpec(drop_rate=DROP_RATE, hold_rate=HOLD_RATE, seed=SEED)
    grid = [(f"attendee{u:02d}@contoso.com", ack) for u in range(20) for ack in range(1, 201)]
    first = PollFaults(spec)
    fates = [first.fate(user, ack) for user, ack in grid]
    # Same seed, other arrival order: the same poll meets the same fate.
    again = PollFaults(spec)
    assert {key: again.fate(*key) for key in reversed(grid)} == dict(zip(grid, fates,
                                                                        strict=True))
    counts = Counter(fates)
    assert 0.04 < counts["drop"] / len(grid) < 0.06, counts
    assert 0.01 < counts["hold"] / len(grid) < 0.03, counts
    assert first.stats()["dropped"] == counts["drop"]
    assert first.stats()["held"] == counts["hold"]
    # A poll asked again is drawn again, so a dropped poll is not dropped forever.
    retried = [first.fate(user, ack) for (user, ack), fate in zip(grid, fates, strict=True)
               if fate == "drop"]
    assert retried.count("pass") > len(retried) // 2
    other = PollFaults(PollFaultSpec(drop_rate=DROP_RATE, hold_rate=HOLD_RATE, seed=SEED + 1))
    assert [other.fate(user, ack) for user, ack in grid] != fates


def test_poll_faults_from_a_scenario_table() -> None:
    data = build_classroom(1, 4).data
    scenario = scenario_from_dict({**data, "poll_faults": {
        "drop_rate": 0.05, "hold_rate": 0.01, "hold_for": 40, "seed": 7}})
    assert scenario.poll_faults == PollFaultSpec(0.05, 0.01, 40.0, 7)
    with Simulator(scenario) as sim:
        assert sim.poll_faults.spec == scenario.poll_faults
        sim.inject_poll_faults()  # off again
        assert not sim.poll_faults.active
    for table, message in [({"drop_rate": 1.5}, "drop_rate must be a number from 0 to 1"),
                           ({"drop_rate": 0.6, "hold_rate": 0.6}, "must not exceed 1"),
                           ({"hold_for": "long"}, "poll_faults.hold_for must be a number"),
                           ({"seed": 1.5}, "poll_faults.seed must be an integer"),
                           ({"reset": 0.1}, "unknown key")]:
        with pytest.raises(ScenarioError, match=message):
            scenario_from_dict({**data, "poll_faults": table})
    with pytest.raises(ValueError, match="hold_rate"):
        Simulator(scenario, start=False).inject_poll_faults(hold_rate=-0.1)


@pytest.fixture
def raw() -> Iterator[tuple[Simulator, Session]]:
    """A simulator and a signed-in session with an application but no event thread, whose
    polls the test makes itself."""
    classroom = build_classroom(1, 4)
    sim = Simulator(classroom.scenario)
    client = httpx.Client(timeout=httpx.Timeout(5.0), verify=SSL_CONTEXT, trust_env=False)
    session = Session(client)
    try:
        user, password = next(iter(classroom.passwords.items()))
        session.sign_in(sim.url, username=user, password=password, token=None)
        session.create_application()
        yield sim, session
    finally:
        session.close()
        client.close()
        sim.stop()


def _poll(session: Session, ack: int, read: float = 5.0) -> httpx.Response:
    # A URL builder: httpx's params= would replace the query, ack included.
    url = httpx.URL(session.channel_host.events_href()).copy_merge_params(
        {"ack": str(ack), "timeout": "1"})
    return session.http_client.get(url, timeout=httpx.Timeout(5.0, read=read))


def _batch(response: httpx.Response) -> Events:
    assert response.status_code == 200, response.text
    batch = parse(response.content, response.headers.get("content-type"))
    assert isinstance(batch, Events)
    return batch


def test_a_dropped_poll_is_a_tcp_reset_and_its_batch_comes_again(
        raw: tuple[Simulator, Session]) -> None:
    sim, session = raw
    assert _batch(_poll(session, 1)).senders == []  # timeout: an empty batch 1
    call = session.prepare_continue_phone_audio(session.conversation_logs()[0]).send()
    sim.inject_poll_faults(drop_rate=1.0, seed=SEED)
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        _poll(session, 2)  # batch 2 (started, ...) was formed, then the connection reset
    sim.inject_poll_faults()
    batch = _batch(_poll(session, 2))  # ack semantics: the same batch again
    assert (batch.href("self") or "").endswith("ack=2")
    started = [e for _, e in batch.all_events() if e.type == "started"]
    assert [e.resource.get("operationId") for e in started if e.resource] == \
        [call.operation_id]
    assert sim.poll_fault_stats()["dropped"] == 1


def test_a_held_poll_outlives_the_read_timeout_and_is_asked_again(
        raw: tuple[Simulator, Session]) -> None:
    sim, session = raw
    sim.inject_poll_faults(hold_rate=1.0, seed=SEED)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _poll(session, 1, read=1.5)
    assert time.monotonic() - started >= 1.5
    wait_until(lambda: sim.poll_fault_stats()["hung_up"] == 1, WAIT,
               what="the server to see the hang-up")
    sim.inject_poll_faults()
    assert (_batch(_poll(session, 1)).href("next") or "").endswith("ack=2")
    assert sim.poll_fault_stats() == {
        "polls": 1, "dropped": 0, "held": 1, "hung_up": 1,
        "by_user": {"attendee01@contoso.com": {"dropped": 0, "held": 1, "hung_up": 1}}}


def test_held_polls_are_released_when_the_simulator_stops(
        raw: tuple[Simulator, Session]) -> None:
    sim, session = raw
    sim.inject_poll_faults(hold_rate=1.0, hold_for=60.0, seed=SEED)
    answers: list[int] = []
    poller = threading.Thread(target=lambda: answers.append(_poll(session, 1, 30).status_code))
    poller.start()
    time.sleep(1.3)  # the poll's 1 s timeout has formed its batch; the answer is held
    started = time.monotonic()
    sim.stop()
    poller.join(5)
    assert answers == [200]  # the held answer was sent, not lost
    assert time.monotonic() - started < 2.0


# --------------------------------------------------------------------------- a class under faults


def _flaky_class(make_room: MakeRoom) -> tuple[Classroom, Room, Simulator, list[Attendee]]:
    """10 attendees signed in, 12 calls each to place, 5 % of polls reset, 2 % held."""
    classroom = build_classroom(10, 12, adds_per_user=3)
    room = make_room(classroom)
    sim = room.simulator
    assert sim is not None
    attendees = room.connect_all(poll_timeout=POLL_TIMEOUT, read_grace=READ_GRACE)
    sim.inject_poll_faults(drop_rate=DROP_RATE, hold_rate=HOLD_RATE, seed=SEED)
    return classroom, room, sim, attendees


def test_dropped_and_held_polls_lose_no_event_and_no_log_row(
        make_room: MakeRoom, figures: Callable[[str], None]) -> None:
    classroom, room, sim, attendees = _flaky_class(make_room)
    started = time.monotonic()
    room.run(timeout=90.0)
    elapsed = time.monotonic() - started
    room.close_sessions()
    stats = sim.poll_fault_stats()
    # Held polls end when their client gives up; the server notices a moment later.
    wait_until(lambda: sim.poll_fault_stats()["hung_up"] == stats["held"], WAIT,
               what="every held poll's client to hang up")
    stats = sim.poll_fault_stats()
    assert stats["dropped"] >= 5, stats
    assert stats["held"] >= 2, stats
    audits = [audit(attendee) for attendee in attendees]
    # Each dropped poll is a ReadError row, each held one a ReadTimeout row, user by user:
    # none went unlogged, and nothing else failed (but the last poll, released by the
    # session's DELETE with 404, unless that one was dropped or held).
    for attendee, result in zip(attendees, audits, strict=True):
        mine = stats["by_user"].get(attendee.user, {"dropped": 0, "hung_up": 0})
        failed = Counter(result.failed_polls)
        assert failed.pop("404", 0) <= 1
        assert failed == Counter({"ReadError": mine["dropped"],
                                  "ReadTimeout": mine["hung_up"]}) - Counter(), \
            (attendee.user, result.failed_polls, mine)
    figures(f"faults: {classroom.calls} calls by 10 users in {elapsed:.1f} s with "
            f"{stats['polls']} polls, {stats['dropped']} reset, {stats['held']} held past "
            f"the read timeout: all recovered, every one a log row")


def test_a_restart_in_the_middle_of_a_run_loses_no_event(
        make_room: MakeRoom, figures: Callable[[str], None]) -> None:
    classroom, room, sim, attendees = _flaky_class(make_room)
    restarted_at: list[int] = []
    ringing: list[int] = []

    def restart_twice() -> None:
        for share in (1 / 3, 2 / 3):
            target = share * classroom.calls
            wait_until(lambda: room.completed_calls() >= target,  # noqa: B023 (used at once)
                       what=f"{share:.0%} of the calls", timeout=60.0)
            port = sim.port
            ringing.append(sum(row["status"] is None for row in sim.activity()))
            sim.restart(downtime=DOWNTIME)
            assert sim.port == port
            restarted_at.append(room.completed_calls())

    started = time.monotonic()
    room.run(placed_on_server=room.placed_on_server, meanwhile=restart_twice, timeout=90.0)
    elapsed = time.monotonic() - started
    assert sim.restarts == 2
    room.close_sessions()
    audits = [audit(attendee) for attendee in attendees]
    failed = _sum(audits)
    # Each restart answers the parked polls 503, then refuses connections for a while.
    assert failed["503"] + failed["ConnectError"] >= 2, failed
    retried = sum(len(p.failed_attempts) for a in attendees for p in a.placed)
    orphans = sum(p.call is None for a in attendees for p in a.placed)
    stats = sim.poll_fault_stats()
    figures(f"restarts: {classroom.calls} calls by 10 users in {elapsed:.1f} s through 2 "
            f"restarts (after {restarted_at} calls, {ringing} ringing at the time, "
            f"{DOWNTIME} s down) and {stats['dropped']} "
            f"reset + {stats['held']} held polls; failed polls {dict(failed)}; "
            f"{retried} call requests retried, {orphans} taken by the server although "
            f"the client saw an error")


def test_a_call_rings_on_through_a_restart(make_room: MakeRoom) -> None:
    classroom = build_classroom(1, 1, adds_per_user=0)
    data = classroom.data
    slow = data["contacts"][0]
    slow.update(behaviour="answers", after=2.0)  # the callee's phone rings through the restart
    for log in data["users"][0]["conversation_logs"]:
        log["recipients"] = [slow["uri"]]
    room = make_room(dataclasses.replace(classroom, scenario=scenario_from_dict(data)))
    sim = room.simulator
    assert sim is not None
    (attendee,) = room.connect_all(poll_timeout=POLL_TIMEOUT, read_grace=READ_GRACE)
    session = attendee.session
    token = bearer_of(session.http_client).token
    call = session.continue_phone_audio(session.conversation_logs()[0])
    wait_until(lambda: call.state == "Alerting", WAIT, what="the callee's phone to ring")
    sim.restart(downtime=DOWNTIME)
    assert not call.done  # the restart took less than the ring
    restarted = datetime.now(UTC)
    call.wait(WAIT)
    assert call.status == "Success"
    assert [e.type for e in call.events] == ["started", "updated", "updated", "completed"]
    assert call.events[-1].time > restarted
    assert bearer_of(session.http_client).token == token  # same token still valid
    channel = session.event_channel
    assert channel is not None
    assert any("503" in e or "ConnectError" in e for e in channel.errors)
    wait_until(lambda: channel.state == "polling", WAIT, what="the channel to poll again")


def test_stop_during_a_restart_stops_for_good() -> None:
    sim = Simulator(build_classroom(1, 1).scenario)
    failures: list[BaseException] = []

    def restart() -> None:
        try:
            sim.restart(downtime=1.0)
        except BaseException as exc:  # what the restarting thread saw
            failures.append(exc)

    restarter = threading.Thread(target=restart)
    restarter.start()
    wait_until(lambda: sim.world.restarting, WAIT, what="the restart to begin")
    started = time.monotonic()
    sim.stop()
    restarter.join(5)
    assert time.monotonic() - started < 3.0
    assert not sim.running
    assert sim.restarts == 0
    assert [str(e) for e in failures] == [
        "the simulator did not restart: stop() was called during the restart"]


# --------------------------------------------------------------------------- gone for good


def test_a_client_whose_server_is_gone_says_so_and_keeps_its_log(make_room: MakeRoom,
                                                                 tmp_path: Path) -> None:
    classroom = build_classroom(1, 3, adds_per_user=1)
    room = make_room(classroom)
    sim = room.simulator
    assert sim is not None
    (attendee,) = room.connect_all(poll_timeout=POLL_TIMEOUT, read_grace=READ_GRACE)
    attendee.run(classroom.plans[attendee.user])
    session = attendee.session
    channel = session.event_channel
    assert channel is not None
    assert repr(channel).startswith("<EventChannel polling, ")
    before = session.log.df.copy()
    token = bearer_of(session.http_client).token or ""
    password = classroom.passwords[attendee.user]
    logs = session.conversation_logs()

    sim.stop()  # for good
    wait_until(lambda: channel.failures_in_a_row >= 2, WAIT, what="the channel to fail twice")
    assert channel.state == "retrying"
    assert channel.alive  # it keeps trying, with back-off, in case the server comes back
    assert channel.failing_since is not None
    assert channel.last_error is not None
    assert "ConnectError" in channel.last_error
    assert f"GET {sim.base_url}/ucwa/oauth/v1/applications/" in channel.last_error
    assert "event channel retrying" in repr(session)
    assert "retrying, " in repr(channel)

    with pytest.raises(httpx.ConnectError) as failure:
        session.continue_phone_audio(logs[0])
    message = str(failure.value)
    assert "Connection refused" in message  # the cause
    assert f"(POST {sim.base_url}/ucwa/oauth/v1/applications/" in message  # the URL
    assert "continuePhoneAudio" in message
    assert "no event poll has been answered since" in message
    everything = message + repr(session) + repr(channel) + " ".join(channel.errors)
    assert token not in everything
    assert password not in everything

    started = time.monotonic()
    session.close()
    assert time.monotonic() - started < 2.0
    assert not channel.alive
    assert repr(channel).startswith("<EventChannel stopped, ")
    after = session.log.df
    # Nothing recorded before is lost or changed; what failed since is there, with its error.
    columns = ["seq", "kind", "method", "url", "rel", "status", "operation_id", "event_type"]
    assert after.iloc[: len(before)][columns].equals(before[columns])
    since = after.iloc[len(before):]
    # Polls since: maybe one answered just before the stop, the parked one answered 503 by
    # the stopping server, then failures that say how they failed.
    assert set(since[since.rel == "events"].status.dropna()) <= {200, 503}
    assert since[since.status.isna()].error.notna().all()
    mine = since[since.rel.isin(["continuePhoneAudio", "application"])]
    assert mine.rel.tolist() == ["continuePhoneAudio", "application"]  # the POST, the DELETE
    assert mine.error.str.startswith("ConnectError: ").all()
    assert (since.rel == "events").sum() >= 2
    audit(attendee)  # and the log still matches the wire, row for row
    har = tmp_path / "gone.har"
    session.log.to_har(har)  # and can still be exported
    text = har.read_text("utf-8")
    assert len(json.loads(text)["log"]["entries"]) == (after.kind == "http").sum()
    assert token not in text
