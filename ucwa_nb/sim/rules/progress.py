"""What the server saw each user do: a small, bounded record per user of their operations
(with the answer each got), their calls' outcomes and the event channel's resyncs, from
which the exercises are judged (``exercises.py``) and the trainer's grid is drawn.

One of the World's parts (``world.py``). The record is the server's own: an attendee cannot
change it by editing a DataFrame of their log. It keeps the latest ``MAX_STEPS`` steps per
user (older ones go, as a real server's logs roll over) and latches an exercise once it was
judged passed, so a long session cannot turn a green cell red again. It holds no token, no
password and no body; what the attendee chose (a callee, an answer) is kept bounded in size.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from ucwa_nb.sim.state import ApplicationState, InvitationState, UserState

__all__ = ["MAX_STEPS", "Progress", "Step", "UserProgress"]

# [infer] Enough for every exercise several times over (a notebook's calls are tens of
# steps); bounded so that a user in a loop cannot grow the server's memory.
MAX_STEPS = 400
_MAX_TEXT = 256  # a callee URI as the attendee sent it, cut to this
_MAX_PENDING_RESYNCS = 8  # applications of one user with a resync not followed yet


@dataclass(frozen=True)
class Step:
    """One thing the server saw.

    ``kind``: "operation" (a POST on an operation's link: ``rel``, the request's
    ``format``, the answer's ``status``, ``code``/``subcode`` of an error, the ``to`` that
    was sent, the ``invitation`` it started), "outcome" (a call completed: ``rel`` is the
    operation that started it, ``status`` None, ``outcome`` Success or Failure with its
    ``code``/``subcode``), "resync" (a poll answered with only a resync link) or
    "resync_followed" (the next poll of that application asked for the batch the resync
    named)."""

    seq: int
    kind: str
    rel: str
    format: str | None = None
    status: int | None = None
    code: str | None = None
    subcode: str | None = None
    to: str | None = None
    invitation: str | None = None
    outcome: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The step as the progress resource shows it."""
        return asdict(self)


class UserProgress:
    """One user's record: their latest steps, the exercises they passed and their tries."""

    def __init__(self) -> None:
        self.steps: deque[Step] = deque(maxlen=MAX_STEPS)
        self.passed: set[str] = set()
        self.tries: dict[str, int] = {}  # by exercise id: only the table's ids are counted
        self.pending_resyncs: dict[str, int] = {}  # application id -> the ack resync named


class Progress:
    """Every user's record, by user (``UserState.key``)."""

    def __init__(self) -> None:
        self.users: dict[str, UserProgress] = {}
        self._seq = 0

    def of(self, user: UserState) -> UserProgress:
        """The record of ``user`` (an empty one at first)."""
        record = self.users.get(user.key)
        if record is None:
            record = self.users[user.key] = UserProgress()
        return record

    def _add(self, user: UserState, **fields: Any) -> None:
        self._seq += 1
        self.of(user).steps.append(Step(seq=self._seq, **fields))

    def operation(self, user: UserState, rel: str, *, format: str | None, status: int,
                  code: str | None = None, subcode: str | None = None,
                  to: str | None = None, invitation: str | None = None) -> None:
        """An operation's POST and the answer it got."""
        self._add(user, kind="operation", rel=rel, format=format, status=status, code=code,
                  subcode=subcode, to=to[:_MAX_TEXT] if to is not None else None,
                  invitation=invitation)

    def outcome(self, inv: InvitationState) -> None:
        """A call's completed event."""
        reason = inv.reason
        self._add(inv.app.user, kind="outcome", rel=inv.kind, to=inv.to[:_MAX_TEXT],
                  invitation=inv.id, outcome=inv.status,
                  code=reason.code if reason else None,
                  subcode=reason.subcode if reason else None)

    def resync(self, app: ApplicationState, ack: int) -> None:
        """A poll of ``app`` answered with a resync link to batch ``ack``."""
        record = self.of(app.user)
        pending = record.pending_resyncs
        pending.pop(app.id, None)
        while len(pending) >= _MAX_PENDING_RESYNCS:
            pending.pop(next(iter(pending)))
        pending[app.id] = ack
        self._add(app.user, kind="resync", rel="events", code=str(ack))

    def polled(self, app: ApplicationState, ack: int) -> None:
        """A poll of ``app`` for batch ``ack``: following a resync if it names that batch."""
        record = self.users.get(app.user.key)
        if record is None or record.pending_resyncs.get(app.id) != ack:
            return
        del record.pending_resyncs[app.id]
        self._add(app.user, kind="resync_followed", rel="events", code=str(ack))

    def count_try(self, user: UserState, exercise_id: str) -> int:
        """One more check of ``exercise_id`` by ``user``; returns how many so far."""
        tries = self.of(user).tries
        tries[exercise_id] = tries.get(exercise_id, 0) + 1
        return tries[exercise_id]
