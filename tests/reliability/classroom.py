"""A seeded classroom for the reliability tests: the scenario, each attendee's calls with the
outcome the scenario dictates, the attendees placing them, and the audit of every session's
log against what went over the wire.

Outcomes are known in advance because they are chosen through the scenario, per callee and
per phone: every contact has a behaviour and a ring delay drawn from the seed, some desk
phones (given as ``phoneNumber``, the phone rung first) are never picked up or busy, and one
recipient does not exist. ``expected_outcome`` reads them from the scenario the way
ucwa-protocol.md 2.6 describes call-via-work, independently of the simulator's code.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx
from support import wait_until

import ucwa_nb
from ucwa_nb import PhoneAudioCall, Scenario, Session, Simulator, parse
from ucwa_nb.log.exchange_log import LogRow
from ucwa_nb.protocol import Events
from ucwa_nb.sim.scenario_loader import scenario_from_dict

SEED = 20260511
CALL_WAIT = 20.0  # the longest one call may take to complete, faults included
CONNECT_TIMEOUT = httpx.Timeout(10.0)
NOBODY = "sip:nobody@contoso.com"  # in no directory: NotFound/DestinationNotFound
BEHAVIOURS = ("answers", "busy", "declines", "never_answers")
CALLEE_WEIGHTS = (0.55, 0.15, 0.15, 0.15)
SUCCESS = ("started", "updated", "updated", "completed")
FAILED_BEFORE_ALERTING = ("started", "updated", "completed")


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Outcome:
    status: Literal["Success", "Failure"]
    code: str | None = None
    subcode: str | None = None
    types: tuple[str, ...] = SUCCESS

    def __str__(self) -> str:
        return self.status if self.code is None else \
            f"{self.status} {self.code}/{self.subcode}"


@dataclass(frozen=True)
class PlannedCall:
    key: str  # unique, the stem of the operation ids: u07-c12
    user: str
    kind: Literal["addPhoneAudio", "continuePhoneAudio"]
    subject: str  # of the conversation (add) or the conversation log (continue)
    to: str | None  # add only; continue calls the log's recipient
    phone_number: str | None  # None: the user's own phone
    expected: Outcome


@dataclass(frozen=True)
class Classroom:
    scenario: Scenario
    passwords: dict[str, str]
    plans: dict[str, list[PlannedCall]]
    data: dict[str, Any]  # the scenario as scenario_from_dict takes it

    @property
    def calls(self) -> int:
        return sum(len(plan) for plan in self.plans.values())

    def outcomes(self) -> Counter[str]:
        return Counter(str(c.expected) for plan in self.plans.values() for c in plan)


def expected_outcome(scenario: Scenario, user: str, phone_number: str | None,
                     callee: str) -> Outcome:
    """Call via work: the user's phone rings first, then the callee's (protocol 2.6)."""
    spec = scenario.user(user)
    assert spec is not None
    own = spec.own_phone
    if phone_number is not None:
        own = scenario.phones.get(phone_number.removeprefix("tel:"), own)
    if own.behaviour != "answers":
        return Outcome("Failure", "LocalFailure", "PstnCallFailed", FAILED_BEFORE_ALERTING)
    contact = scenario.contact(callee)
    if contact is None:
        assert scenario.user(callee) is None, "other users answer after a fixed 0.5 s"
        return Outcome("Failure", "NotFound", "DestinationNotFound", FAILED_BEFORE_ALERTING)
    return {
        "answers": Outcome("Success"),
        "busy": Outcome("Failure", "RemoteFailure", "Busy"),
        "declines": Outcome("Failure", "RemoteFailure", "Declined"),
        "never_answers": Outcome("Failure", "Timeout", None),
    }[contact.behaviour]


def build_classroom(users: int, calls_per_user: int, *, seed: int = SEED,
                    adds_per_user: int = 4, logs_per_user: int = 4, contacts: int = 24,
                    ring_max: float = 0.03, server: dict[str, Any] | None = None
                    ) -> Classroom:
    """``users`` attendees, each with ``calls_per_user`` calls: ``adds_per_user``
    addPhoneAudio (one per conversation, so that a connected one is never reused) and the
    rest continuePhoneAudio on random conversation logs (a log can be continued again once
    its call is over). Ring delays are drawn from 0..``ring_max`` s."""
    rng = random.Random(seed)

    def delay() -> float:
        return round(rng.uniform(0.0, ring_max), 3)

    people: list[dict[str, Any]] = [
        {"uri": f"sip:callee{i:02d}@contoso.com", "name": f"Callee {i:02d}",
         "behaviour": rng.choices(BEHAVIOURS, CALLEE_WEIGHTS)[0], "after": delay()}
        for i in range(contacts)]
    # Desk phones: most are picked up, one is never answered and one is busy, both giving
    # LocalFailure/PstnCallFailed before the callee is rung.
    desks: list[dict[str, Any]] = [
        {"number": f"tel:+1425555{100 + i:04d}",
         "behaviour": "never_answers" if i == 0 else "busy" if i == 1 else "answers",
         "after": delay()}
        for i in range(6)]
    callees: list[str] = [p["uri"] for p in people] + [NOBODY]

    def callee() -> str:
        return NOBODY if rng.random() < 0.05 else rng.choice(callees[:-1])

    accounts: list[dict[str, Any]] = []
    for n in range(1, users + 1):
        accounts.append({
            "uri": f"sip:attendee{n:02d}@contoso.com",
            "password": f"reliability-{n:02d}",
            "phone": f"tel:+1425555{2000 + n:04d}",
            "own_phone": {"behaviour": "answers", "after": delay()},
            "conversations": [{"subject": f"conversation {j}", "participants": [callee()]}
                              for j in range(adds_per_user)],
            "conversation_logs": [{"subject": f"log {k}", "recipients": [callee()]}
                                  for k in range(logs_per_user)],
        })
    data: dict[str, Any] = {
        "name": "reliability classroom",
        "server": {"ring_timeout": 0.05, "min_poll_timeout": 0.2, "application_expiry": 120.0,
                   "callback_grace": 60.0, **(server or {})},
        "users": accounts, "contacts": people, "phones": desks,
    }
    scenario = scenario_from_dict(data)
    plans: dict[str, list[PlannedCall]] = {}
    for n, account in enumerate(accounts, start=1):
        user = account["uri"].removeprefix("sip:")
        kinds: list[Literal["addPhoneAudio", "continuePhoneAudio"]] = [
            "addPhoneAudio" if i < adds_per_user else "continuePhoneAudio"
            for i in range(calls_per_user)]
        rng.shuffle(kinds)
        plan = []
        adds = 0
        for c, kind in enumerate(kinds):
            phone = rng.choice(desks)["number"] if rng.random() < 0.2 else None
            if kind == "addPhoneAudio":
                subject, to = f"conversation {adds}", callee()
                adds += 1
            else:
                k = rng.randrange(logs_per_user)
                subject, to = f"log {k}", None
            target = to if to is not None else \
                account["conversation_logs"][int(subject.split()[1])]["recipients"][0]
            plan.append(PlannedCall(
                f"u{n:02d}-c{c:02d}", user, kind, subject, to, phone,
                expected_outcome(scenario, user, phone, target)))
        plans[user] = plan
    return Classroom(scenario, {a["uri"].removeprefix("sip:"): a["password"]
                                for a in accounts}, plans, data)


# --------------------------------------------------------------------------- the wire


def is_event_poll(request: httpx.Request) -> bool:
    return request.method == "GET" and request.url.path.endswith("/events")


# Every httpx transport builds an SSL context unless given one: ~0.2 s of CPU each on the
# 2-core machine, 10 s for 50 sessions. The simulator speaks plain HTTP; one context serves.
SSL_CONTEXT = ssl.create_default_context()


class Ledger(httpx.BaseTransport):
    """Every exchange as the wire saw it (method, url, status or error type), and every
    event in every answered poll: what the session's log must hold, row for row."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport(verify=SSL_CONTEXT)
        self.exchanges: list[tuple[str, str, int | None, str | None]] = []
        self.events_seen = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        try:
            response = self.inner.handle_request(request)
            response.read()  # a failure while reading the body is a failed exchange too
        except httpx.HTTPError as exc:
            with self._lock:
                self.exchanges.append((*key, None, type(exc).__name__))
            raise
        events = 0
        if is_event_poll(request) and response.status_code == 200:
            batch = parse(response.content, response.headers.get("content-type"))
            assert isinstance(batch, Events)
            events = len(batch.all_events())
        with self._lock:
            self.exchanges.append((*key, response.status_code, None))
            self.events_seen += events
        return response

    def close(self) -> None:
        self.inner.close()


# --------------------------------------------------------------------------- attendees


@dataclass
class PlacedCall:
    plan: PlannedCall
    operation_id: str
    # None when the POST failed on the way back although the server had taken it: the
    # client has no call object, but the events still reach its log.
    call: PhoneAudioCall | None
    failed_attempts: list[str] = field(default_factory=list)


@dataclass
class Attendee:
    user: str
    session: Session
    ledger: Ledger
    placed: list[PlacedCall] = field(default_factory=list)

    def run(self, plan: Iterable[PlannedCall], placed_on_server: Callable[[str], bool] | None
            = None, retry_for: float = 15.0) -> None:
        """Place the calls one after the other, each waited for.

        A call whose request fails in transit (the simulator restarting) is retried with a
        new operationId unless ``placed_on_server`` says the server took it after all.
        Without ``placed_on_server`` any failure fails the test.
        """
        session = self.session
        conversations = {c.subject: c for c in session.conversations()}
        logs = {log.subject: log for log in session.conversation_logs()}
        for planned in plan:
            failures: list[str] = []
            deadline = time.monotonic() + retry_for
            while True:
                op = f"{planned.key}-a{len(failures)}"
                try:
                    if planned.kind == "addPhoneAudio":
                        assert planned.to is not None
                        call = session.add_phone_audio(
                            conversations[planned.subject], to=planned.to,
                            phone_number=planned.phone_number, operation_id=op)
                    else:
                        call = session.continue_phone_audio(
                            logs[planned.subject], phone_number=planned.phone_number,
                            operation_id=op)
                except httpx.TransportError as exc:
                    if placed_on_server is None or time.monotonic() > deadline:
                        raise
                    failures.append(f"{type(exc).__name__}: {exc}")
                    if placed_on_server(op):
                        self.placed.append(PlacedCall(planned, op, None, failures))
                        # The next call may use the same log: wait until this one is over.
                        wait_for_completed_row(session, op)
                        break
                    time.sleep(0.1)  # a pause before trying again, not a wait for a state
                    continue
                call.wait(CALL_WAIT)
                self.placed.append(PlacedCall(planned, op, call, failures))
                break


def wait_for_completed_row(session: Session, operation_id: str,
                           timeout: float = CALL_WAIT) -> None:
    wait_until(lambda: any(r.kind == "event" and r.operation_id == operation_id
                           and r.event_type == "completed" for r in session.log.rows),
               timeout, what=f"a completed event for {operation_id} in the log")


class Server(Protocol):
    """What a Room needs of its simulator, in this process or in a child process."""

    @property
    def url(self) -> str: ...

    def activity(self) -> list[dict[str, Any]]: ...

    def stop(self) -> None: ...


START_TIMEOUT = 60.0  # spawning a Python that imports pandas, on a busy machine


class SimulatorProcess:
    """The simulator in a child process, as in a class (``ucwa-nb serve`` on the trainer's
    machine): the attendees' sessions and the server do not share a GIL. Measured on the
    2-core machine: the 1,000 calls take ~40 % less time than with both in one process."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded process
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_in_child, args=(scenario, child),
                                        name="ucwa-sim-process", daemon=True)
        self._process.start()
        child.close()
        try:
            self.url: str = self._ask(None, START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def _ask(self, command: str | None, timeout: float = 30.0) -> Any:
        if command is not None:
            self._conn.send(command)
        if not self._conn.poll(timeout):
            raise AssertionError(f"the simulator process did not answer {command!r} "
                                 f"within {timeout} s")
        return self._conn.recv()

    def activity(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._ask("activity")
        return answer

    def stop(self) -> None:
        """Stop the simulator and wait for the process; safe to call twice."""
        if self._conn.closed:
            return
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._process.join(15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()


def _serve_in_child(scenario: dict[str, Any], conn: Connection) -> None:
    sim = Simulator(scenario_from_dict(scenario))
    try:
        conn.send(sim.url)
        while conn.recv() == "activity":  # EOFError if the test process went away
            conn.send(sim.activity())
    except EOFError:
        pass
    finally:
        sim.stop()
        conn.close()


class Room:
    """A simulator and a signed-in session per attendee; ``close()`` undoes everything.

    ``separate_process``: run the simulator in a child process (load), else in this one,
    where a test can inject faults and restart it (``room.simulator``)."""

    def __init__(self, classroom: Classroom, *, separate_process: bool = False) -> None:
        self.classroom = classroom
        self.simulator: Simulator | None = None
        self.sim: Server
        if separate_process:
            self.sim = SimulatorProcess(classroom.data)
        else:
            self.sim = self.simulator = Simulator(classroom.scenario)
        self.attendees: list[Attendee] = []
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def connect_all(self, *, poll_timeout: float, read_grace: float | None = None,
                    workers: int = 16) -> list[Attendee]:
        def sign_in(user: str) -> Attendee:
            ledger = Ledger()
            client = httpx.Client(transport=ledger, timeout=CONNECT_TIMEOUT, trust_env=False)
            with self._lock:
                self._clients.append(client)
            session = ucwa_nb.connect(self.sim.url, username=user,
                                      password=self.classroom.passwords[user],
                                      http_client=client, poll_timeout=poll_timeout)
            if read_grace is not None:
                assert session.event_channel is not None
                session.event_channel.read_grace = read_grace
            attendee = Attendee(user, session, ledger)
            with self._lock:
                self.attendees.append(attendee)
            return attendee

        with ThreadPoolExecutor(workers, thread_name_prefix="sign-in") as pool:
            attendees = list(pool.map(sign_in, self.classroom.plans, timeout=60))
        if self.simulator is not None:
            # Each session's first poll left before read_grace was lowered: it must have
            # reached the server (and passed, no fault being active yet) before a test
            # injects faults, or holding it would stall the session poll_timeout + 30 s.
            world = self.simulator.world
            wait_until(lambda: self.simulator is not None and self.simulator.call(
                lambda: len(world.apps) == len(attendees) and all(
                    app.channel.polls for app in world.apps.values())),
                10.0, what="the sessions' first polls")
        return attendees

    def run(self, placed_on_server: Callable[[str], bool] | None = None,
            timeout: float = 120.0, meanwhile: Callable[[], None] | None = None) -> None:
        """Every attendee places their calls at the same time; fails after ``timeout``.
        ``meanwhile`` runs in this thread while they do (restarting the simulator, say)."""
        with ThreadPoolExecutor(len(self.attendees), thread_name_prefix="attendee") as pool:
            futures = [pool.submit(a.run, self.classroom.plans[a.user], placed_on_server)
                       for a in self.attendees]
            deadline = time.monotonic() + timeout
            if meanwhile is not None:
                try:
                    meanwhile()
                except BaseException as exc:
                    # An attendee's failure is the likelier cause: show it first.
                    for future in futures:
                        if future.done() and future.exception() is not None:
                            raise AssertionError("an attendee failed") from future.exception()
                    raise exc
            for future in futures:
                future.result(timeout=max(0.0, deadline - time.monotonic()))

    def completed_calls(self) -> int:
        return sum(len(a.placed) for a in self.attendees)

    def placed_on_server(self, operation_id: str) -> bool:
        return any(row["operation_id"] == operation_id for row in self.sim.activity())

    def close_sessions(self) -> None:
        """Close every session (in parallel: a held poll keeps one busy until it times out)."""
        sessions = [a.session for a in self.attendees]
        if sessions:
            with ThreadPoolExecutor(16, thread_name_prefix="closer") as pool:
                list(pool.map(Session.close, sessions, timeout=60))
        for client in self._clients:
            client.close()

    def close(self) -> None:
        try:
            self.close_sessions()
        finally:
            self.sim.stop()


MakeRoom = Callable[..., Room]  # the make_room fixture (conftest.py)


# --------------------------------------------------------------------------- the audit


def _ack(url: str | None) -> int:
    return int(dict(parse_qsl(urlsplit(url or "").query))["ack"])


def _channel(url: str | None) -> str:
    return urlsplit(url or "").path


@dataclass
class Audit:
    """What one session's log holds, checked against the ledger and the calls placed."""

    http_rows: int = 0
    event_rows: int = 0
    answered_polls: int = 0
    failed_polls: Counter[str] = field(default_factory=Counter)  # error type or status


def audit(attendee: Attendee) -> Audit:
    """Call after the session is closed, so that no exchange is still under way."""
    session, ledger = attendee.session, attendee.ledger
    who = attendee.user
    rows: list[LogRow] = session.log.rows
    df = session.log.df
    assert len(df) == len(rows), who
    assert df.seq.tolist() == list(range(len(rows))), who
    http = [r for r in rows if r.kind == "http"]
    events = [r for r in rows if r.kind == "event"]

    # Every exchange on the wire is a row, failed ones with their error.
    logged = Counter((r.method or "", r.url or "", r.status,
                      r.error.split(":", 1)[0] if r.error else None) for r in http)
    wire = Counter(ledger.exchanges)
    assert logged == wire, (f"{who}: log and wire differ: only in the log {logged - wire}, "
                            f"only on the wire {wire - logged}")
    assert len(events) == ledger.events_seen, who
    assert all(r.error for r in http if r.status is None), who

    # Polls: the answered ones follow next links, ack after ack, on each channel.
    polls = [r for r in http if r.rel == "events"]
    answered = [r for r in polls if r.status == 200]
    by_channel: dict[str, list[int]] = {}
    for r in answered:
        by_channel.setdefault(_channel(r.url), []).append(_ack(r.url))
    for channel, acks in by_channel.items():
        assert acks == list(range(acks[0], acks[0] + len(acks))), (who, channel, acks)
    assert session.event_channel is not None
    # A batch answered while the session was closing is logged but not delivered; then it
    # carried no event (the ledger's count of events on the wire would differ).
    assert session.event_channel.batches in (len(answered), len(answered) - 1), who
    carrier_seq = {r.url: r.seq for r in answered}
    assert len(carrier_seq) == len(answered), f"{who}: a batch was answered twice"
    last_ack = 0
    for r in events:
        assert r.url in carrier_seq, (who, r)
        assert carrier_seq[r.url] < r.seq, (who, r)
        assert _ack(r.url) >= last_ack, f"{who}: events out of order at {r}"
        last_ack = _ack(r.url)

    # Every call: its POST, and exactly its events, in order, with the expected outcome.
    placed = {p.operation_id: p for p in attendee.placed}
    by_op: dict[str, list[LogRow]] = {}
    for r in events:
        if r.rel == "phoneAudioInvitation":
            assert r.operation_id in placed, f"{who}: an event for an unknown call: {r}"
            by_op.setdefault(r.operation_id, []).append(r)
    posts = Counter(r.operation_id for r in http
                    if r.method == "POST" and r.rel in ("addPhoneAudio", "continuePhoneAudio")
                    and r.status == 201)
    assert set(posts) == {op for op, p in placed.items() if p.call is not None}, who
    assert all(n == 1 for n in posts.values()), who
    for op, p in placed.items():
        expected = p.plan.expected
        got = by_op.get(op, [])
        assert tuple(r.event_type for r in got) == expected.types, (who, op, got)
        done = got[-1]
        assert (done.event_status, done.code, done.subcode) == \
            (expected.status, expected.code, expected.subcode), (who, op, done)
        if p.call is not None:
            call = p.call
            assert tuple(e.type for e in call.events) == expected.types, (who, op)
            assert call.status == expected.status, (who, op)
            reason = call.reason
            assert (reason.code if reason else None, reason.subcode if reason else None) == \
                (expected.code, expected.subcode), (who, op)
            assert all(r.location == call.location for r in got), (who, op)
            post = [r for r in http if r.operation_id == op and r.status == 201]
            assert post[0].location == call.location, (who, op)
    assert len(placed) == len({p.plan.key for p in attendee.placed}), who

    failed = Counter((r.error or "").split(":", 1)[0] if r.status is None else str(r.status)
                     for r in polls if r.status != 200)
    return Audit(len(http), len(events), len(answered), failed)
