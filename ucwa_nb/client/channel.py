"""The client's event channel: a background thread that keeps one P-GET parked.

It follows ``next``/``resync``/``resume`` links (never editing ``ack`` itself), processes
batches strictly in order, and recovers from what real servers do:

* 409 Conflict/PGetReplaced: another poll replaced ours; retry after a pause.
* 404 NotFound/ApplicationNotFound or 410 Gone/InactiveApplicationExpired: the application is
  gone; re-create it (the session says so in the log) and continue from the new
  application's events link.
* network errors, timeouts, 5xx: retry the same URL (ack semantics make that safe) with a
  bounded exponential back-off.

Every failure backs off (exponential, jittered, at most ``MAX_BACKOFF``), so no server can
make it spin: a 404 ApplicationNotFound again before any poll was answered waits before the
next re-creation; a poll answered at once with no events (``QUICK_ANSWER``), or a batch
without a ``next`` link, counts as a failure. After ``MAX_FAILURES`` in a row it gives up
(``state`` "failed").

It never dies silently: every failure is logged and kept in ``errors`` and ``last_error``,
``state`` says whether it is polling, retrying (since ``failing_since``) or stopped, and
``alive`` tells whether the thread still runs.

A poll whose answer does not come within ``poll_timeout + read_grace`` seconds is presumed
lost (a proxy or a server holding it) and asked again with the same ``ack``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol

import httpx

from ucwa_nb.client.hooks import absolute
from ucwa_nb.protocol.representation import Events, ParseError, parse, reason_of

__all__ = ["ChannelHost", "EventChannel"]

MAX_BACKOFF = 10.0
# Consecutive failures before the channel gives up: with the back-off, about five minutes.
MAX_FAILURES = 40
# An empty batch sooner than this is no long poll: a server that answers at once, forever.
QUICK_ANSWER = 1.0
# Seconds past the poll's own timeout before its answer is presumed lost: the server releases
# an empty batch at `timeout`, so only a slow network, a proxy or a stuck server goes past it.
READ_GRACE = 30.0


# The answers that say the application is gone: 404 for one the server no longer knows, 410 for
# one it expired for inactivity (ApplicationDashboard). The page advises showing the 410 to the
# user and waiting for them to restart; [infer] in a notebook the log row and ``errors`` show
# it, and the channel re-creates the application at once so that the session keeps working.
_APPLICATION_GONE = {(404, "ApplicationNotFound"), (410, "InactiveApplicationExpired")}

class ChannelHost(Protocol):
    """What the channel needs from the session it serves."""

    def request_events(self, href: str, *, poll_timeout: float,
                       read_grace: float) -> httpx.Response:
        """One long poll of ``href`` (logged; an HTTP error status is returned, not raised)."""
        ...

    def events_href(self) -> str:
        """The application's events link: where to start over."""
        ...

    def recreate_application(self) -> str:
        """A new application after the old one expired; its events link."""
        ...

    def deliver(self, batch: Events, response: httpx.Response) -> None:
        """Log the batch's events and hand each to the call it is about."""
        ...

    def now(self) -> datetime: ...


class EventChannel:
    """The session's event channel (``session.event_channel``): one background thread that
    keeps a long poll parked and reports how it is going (``state``, ``errors``)."""

    def __init__(self, host: ChannelHost, start_href: str, *, poll_timeout: float = 180.0,
                 read_grace: float = READ_GRACE,
                 jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0)) -> None:
        self._host = host
        self.href = start_href
        self.poll_timeout = poll_timeout
        self.read_grace = read_grace  # may be changed while running: the next poll uses it
        self._jitter = jitter  # a factor of each back-off: clients that failed together
        self.gave_up = False   # do not all come back in the same instant
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        self.batches = 0
        self.recreated = 0
        self.failures_in_a_row = 0
        self.failing_since: datetime | None = None  # first failure since the last good poll

    @property
    def alive(self) -> bool:
        """Whether the polling thread is running."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> Literal["polling", "retrying", "stopped", "failed"]:
        """polling: the last poll was answered; retrying: polls fail (see ``last_error``,
        ``failing_since``), the channel keeps trying with back-off; failed: it gave up after
        ``MAX_FAILURES`` in a row; stopped: no thread."""
        if self.gave_up:
            return "failed"
        if not self.alive:
            return "stopped"
        return "retrying" if self.failures_in_a_row else "polling"

    def __repr__(self) -> str:
        text = f"<EventChannel {self.state}, {self.batches} batches"
        if self.state in ("retrying", "failed") and self.failing_since is not None:
            text += (f", failing since {self.failing_since:%H:%M:%S} UTC "
                     f"({self.failures_in_a_row} in a row): {self.last_error}")
        return text + ">"

    @property
    def last_error(self) -> str | None:
        """What went wrong with the latest failed poll, None if none has failed."""
        return self.errors[-1] if self.errors else None

    def start(self) -> None:
        """Start polling on a daemon thread (``connect()`` does it); a second call does nothing."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ucwa-nb-events", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the thread to stop after its current poll, without waiting for it."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and wait up to ``timeout`` seconds for the thread to end."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        """Whether a stop has been asked for."""
        return self._stop.is_set()

    def trouble(self) -> str:
        """For the message of a request that failed elsewhere: since when the polls fail
        too ("" when they do not, or when asked from the channel's own thread)."""
        if threading.current_thread() is self._thread or self.failing_since is None:
            return ""
        return (f"; no event poll has been answered since {self.failing_since:%H:%M:%S} "
                f"UTC, {self.failures_in_a_row} failed in a row")

    # ------------------------------------------------------------------ the loop

    def _note(self, message: str) -> None:
        self.errors.append(message)
        del self.errors[:-100]  # keep the latest hundred

    def _count_failure(self) -> None:
        if not self.failures_in_a_row:
            self.failing_since = self._host.now()
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= MAX_FAILURES:
            self._note(f"giving up after {self.failures_in_a_row} failures in a row")
            self.gave_up = True
            self._stop.set()

    def _backoff(self) -> None:
        self._count_failure()
        delay = min(MAX_BACKOFF, 0.25 * 2 ** min(self.failures_in_a_row - 1, 6))
        self._stop.wait(delay * self._jitter())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_once()
            except Exception as exc:  # keep polling: the failure is visible on the session
                self._note(f"event channel error: {type(exc).__name__}: {exc}")
                self._backoff()

    def _poll_once(self) -> None:
        asked = time.monotonic()
        try:
            response = self._host.request_events(self.href, poll_timeout=self.poll_timeout,
                                                 read_grace=self.read_grace)
        except httpx.HTTPError as exc:
            if self._stop.is_set():
                return
            self._note(f"event poll failed: {type(exc).__name__}: {exc}")
            self._backoff()
            return
        if self._stop.is_set():
            return
        status = response.status_code
        if status == 200:
            self._handle_batch(response, time.monotonic() - asked)
            return
        reason = reason_of(response.content, response.headers.get("content-type"))
        subcode = reason.subcode if reason else None
        if (status, subcode) in _APPLICATION_GONE:
            self._note(f"the application expired ({status} {subcode}); re-creating it")
            if self.failures_in_a_row:  # no poll answered since the last trouble: wait first
                self._backoff()
            else:
                self._count_failure()
            if self._stop.is_set():
                return
            self.href = self._host.recreate_application()
            self.recreated += 1
            return
        if status == 409 and subcode == "PGetReplaced":
            self._note("409 PGetReplaced: another poll replaced ours; is another client "
                       "using this application?")
        else:
            self._note(f"event poll answered {status}"
                       + (f" {reason.code}" if reason else "")
                       + (f"/{reason.subcode}" if reason and reason.subcode else ""))
        self._backoff()

    def _handle_batch(self, response: httpx.Response, took: float) -> None:
        try:
            batch = parse(response.content, response.headers.get("content-type"))
        except ParseError as exc:
            self._note(f"unreadable event batch: {exc}")
            self._backoff()
            return
        if not isinstance(batch, Events):
            self._note("the events link answered something that is not an event batch")
            self._backoff()
            return
        self.batches += 1
        self._host.deliver(batch, response)
        following = batch.href("next") or batch.href("resume") or batch.href("resync")
        if following is None:
            self._note("an event batch without next, resume or resync link; starting over")
            self.href = self._host.events_href()
            self._backoff()
            return
        self.href = absolute(following, response)
        if not batch.all_events() and took < QUICK_ANSWER:
            self._note(f"the poll was answered at once ({took:.3f} s) with no events")
            self._backoff()
            return
        self.failures_in_a_row = 0
        self.failing_since = None


