"""The classroom case: 50 attendees on one simulator, 1,000 calls between them.

All 50 sessions live in this process, each with its own httpx client and event-channel
thread: 50 sessions in one process work (about 100 threads with the attendees' pool), and
the test drives the real client as 50 notebooks would. The simulator runs in a child
process, as ``ucwa-nb serve`` would for a class; with both in one process the GIL made the
run ~40 % slower on the 2-core machine. Every call's outcome is known in advance from the
seeded scenario (see ``classroom.py``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from .classroom import Audit, MakeRoom, audit, build_classroom

USERS = 50
CALLS_PER_USER = 20  # 1,000 calls
# Polls are released by events long before this; a long timeout keeps empty polls rare.
POLL_TIMEOUT = 5.0
# A bound that only a hang (or a machine many times slower) reaches; typical is ~15 s.
RUN_TIMEOUT = 150.0


def test_fifty_attendees_place_a_thousand_calls(make_room: MakeRoom,
                                                figures: Callable[[str], None]) -> None:
    classroom = build_classroom(USERS, CALLS_PER_USER)
    assert classroom.calls == 1000
    outcomes = classroom.outcomes()
    # The seed gives every outcome the scenario can produce, not just successes.
    assert set(outcomes) == {"Success", "Failure RemoteFailure/Busy",
                             "Failure RemoteFailure/Declined", "Failure Timeout/None",
                             "Failure LocalFailure/PstnCallFailed",
                             "Failure NotFound/DestinationNotFound"}, outcomes
    started = time.monotonic()
    room = make_room(classroom, separate_process=True)
    attendees = room.connect_all(poll_timeout=POLL_TIMEOUT)
    signed_in = time.monotonic()
    room.run(timeout=RUN_TIMEOUT)
    ran = time.monotonic()

    # The server's own record: 1,000 invitations, each with the outcome planned for it.
    activity = {row["operation_id"]: row for row in room.sim.activity()}
    assert len(activity) == 1000
    for attendee in attendees:
        for placed in attendee.placed:
            row = activity[placed.operation_id]
            expected = placed.plan.expected
            assert row["user"] == f"sip:{attendee.user}"
            assert row["status"] == expected.status
            assert row["reason"] == (None if expected.code is None else
                                     f"{expected.code}/{expected.subcode}"
                                     if expected.subcode else expected.code)

    room.close_sessions()  # the audit reads complete logs: no exchange under way
    audits: list[Audit] = []
    for attendee in attendees:
        assert len(attendee.placed) == CALLS_PER_USER
        assert all(p.call is not None and not p.failed_attempts for p in attendee.placed)
        assert attendee.session.event_channel is not None
        assert attendee.session.event_channel.errors == [], attendee.session.event_channel.errors
        audits.append(audit(attendee))
    failed = sum((a.failed_polls for a in audits), Counter())
    # The only poll not answered 200 is each session's last, released by its own DELETE
    # (unless that poll's timeout had released it a moment before).
    assert set(failed) <= {"404"}, failed
    assert failed["404"] <= USERS
    figures(
        f"load: {classroom.calls} calls by {USERS} users in {ran - signed_in:.1f} s "
        f"({classroom.calls / (ran - signed_in):.0f} calls/s; sign-in "
        f"{signed_in - started:.1f} s); {sum(a.http_rows for a in audits)} HTTP rows, "
        f"{sum(a.event_rows for a in audits)} event rows, "
        f"{sum(a.answered_polls for a in audits)} batches; outcomes "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
