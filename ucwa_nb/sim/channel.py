"""One application's event channel: the P-GET long poll with ack/next, resync and replacement.

Everything here runs on the simulator's event loop thread, so there is no locking.

Semantics (ucwa-protocol.md section 2, with the [infer] choices made explicit):

* Batches are numbered. ``GET events?ack=N`` acknowledges every batch below N and asks for
  batch N. A batch that already exists is sent again (the client lost the response); batch N
  that does not exist yet is formed from the pending events, or the poll parks until events
  arrive or ``timeout`` elapses. A timeout forms an empty batch, so its response carries only
  ``next``.
* ``ack`` below the oldest kept batch or above the next one to form is out of range: the
  answer holds only a ``resync`` link to the first unacknowledged batch.
* One poll can park at a time. A newer poll releases the parked one with 409 PGetReplaced
  unless the parked one asked for a higher ``priority``, in which case the newcomer is refused.
* High-priority events release a parked poll at once (on the next loop turn, so events
  emitted together travel together); medium and low ones wait up to ``medium``/``low`` seconds
  to be aggregated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from ucwa_nb.protocol.representation import Event

__all__ = ["Channel", "PendingEvent", "PollOutcome", "Priority"]


class Priority(IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2


@dataclass
class PendingEvent:
    sender_rel: str
    sender_href: str
    event: Event
    priority: Priority = Priority.HIGH


@dataclass
class PollOutcome:
    kind: Literal["batch", "resync", "replaced", "gone", "shutdown"]
    ack: int = 0
    events: list[PendingEvent] = field(default_factory=list)


@dataclass
class _Parked:
    ack: int
    priority: int
    future: asyncio.Future[PollOutcome]
    low: float
    medium: float
    timeout_handle: asyncio.TimerHandle | None = None


class Channel:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self.batches: dict[int, list[PendingEvent]] = {}
        self.first_unacked = 1
        self.next_batch = 1
        self.pending: list[PendingEvent] = []
        self.parked: _Parked | None = None
        self.ever_polled = False
        self.last_activity = now()
        self.polls = 0
        self._release_handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._pending_since: dict[Priority, float] = {}
        # The timeout/low/medium the application last asked for (EventChannelDetails: the
        # server remembers them for the next P-GETs; routes/events.py reads and writes them).
        self.parameters: dict[str, float] = {}

    # ------------------------------------------------------------------ state

    def live(self, grace: float) -> bool:
        """Can the server reach this application? (else CallbackChannelError)."""
        if self.parked is not None:
            return True
        return self.ever_polled and self._now() - self.last_activity <= grace

    def lost(self, grace: float) -> bool:
        """Was the channel started (polled at least once) and then let go for longer than
        ``grace``? An application that never polled has not lost it: it has none yet."""
        return self.ever_polled and not self.live(grace)

    def idle_for(self) -> float:
        return 0.0 if self.parked is not None else self._now() - self.last_activity

    # ------------------------------------------------------------------ events

    def emit(self, pending: PendingEvent) -> None:
        self.pending.append(pending)
        self._pending_since.setdefault(pending.priority, self._now())
        self._schedule_release()

    def _schedule_release(self) -> None:
        parked = self.parked
        if parked is None or not self.pending:
            return
        loop = parked.future.get_loop()
        if self._release_handle is not None:
            self._release_handle.cancel()
        top = max(p.priority for p in self.pending)
        if top >= Priority.HIGH:
            self._release_handle = loop.call_soon(self._release)
            return
        hold = parked.medium if top == Priority.MEDIUM else parked.low
        waited = self._now() - self._pending_since.get(top, self._now())
        self._release_handle = loop.call_later(max(0.0, hold - waited), self._release)

    def _form_batch(self) -> int:
        number = self.next_batch
        self.batches[number] = self.pending
        self.pending = []
        self._pending_since.clear()
        self.next_batch += 1
        return number

    def _release(self) -> None:
        parked = self.parked
        if parked is None or parked.future.done():
            return
        number = self._form_batch()
        self._finish(PollOutcome("batch", number, self.batches[number]))

    def _timeout(self) -> None:
        self._release()

    def _finish(self, outcome: PollOutcome) -> None:
        parked = self.parked
        self.parked = None
        self.last_activity = self._now()
        if self._release_handle is not None:
            self._release_handle.cancel()
            self._release_handle = None
        if parked is None:
            return
        if parked.timeout_handle is not None:
            parked.timeout_handle.cancel()
        if not parked.future.done():
            parked.future.set_result(outcome)

    # ------------------------------------------------------------------ polling

    def poll(self, ack: int, *, timeout: float, priority: int = 0, low: float = 15.0,
             medium: float = 5.0) -> asyncio.Future[PollOutcome]:
        """Start a P-GET; the future resolves when the response is ready."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PollOutcome] = loop.create_future()
        self.ever_polled = True
        self.polls += 1
        self.last_activity = self._now()
        if self.parked is not None:
            if priority < self.parked.priority:
                future.set_result(PollOutcome("replaced", ack))
                return future
            self._finish(PollOutcome("replaced", self.parked.ack))
        if ack < self.first_unacked or ack > self.next_batch:
            future.set_result(PollOutcome("resync", self.first_unacked))
            return future
        for number in [n for n in self.batches if n < ack]:
            del self.batches[number]
        self.first_unacked = ack
        if ack in self.batches:
            future.set_result(PollOutcome("batch", ack, self.batches[ack]))
            return future
        # ack == next_batch: wait for events (or take the ones already pending).
        self.parked = _Parked(ack, priority, future, low, medium)
        self.parked.timeout_handle = loop.call_later(timeout, self._timeout)
        self._schedule_release()
        return future

    def abandon(self, future: asyncio.Future[PollOutcome]) -> None:
        """The client went away (disconnect or cancelled request)."""
        if self.parked is not None and self.parked.future is future:
            if self.parked.timeout_handle is not None:
                self.parked.timeout_handle.cancel()
            if self._release_handle is not None:
                self._release_handle.cancel()
                self._release_handle = None
            self.parked = None
            self.last_activity = self._now()

    def close(self, kind: Literal["gone", "shutdown"] = "gone") -> None:
        """The application is gone (or the server is stopping): release a parked poll."""
        if self.parked is not None:
            self._finish(PollOutcome(kind, self.parked.ack))
