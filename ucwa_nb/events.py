"""The client's event channel: a background thread that keeps one P-GET parked.

It follows ``next``/``resync``/``resume`` links (never editing ``ack`` itself), processes
batches strictly in order, and recovers from what real servers do:

* 409 Conflict/PGetReplaced: another poll replaced ours; retry after a pause.
* 404 NotFound/ApplicationNotFound: the application expired; re-create it (the session says
  so in the log) and continue from the new application's events link.
* network errors, timeouts, 5xx: retry the same URL (ack semantics make that safe) with a
  bounded exponential back-off.

It never dies silently: every failure is logged and kept in ``errors`` and ``last_error``, and
``alive`` tells whether the thread still runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from ucwa_nb.representation import Events, ParseError, Reason, parse

if TYPE_CHECKING:
    from ucwa_nb.client import Session

__all__ = ["EventChannel"]

MAX_BACKOFF = 10.0


class EventChannel:
    def __init__(self, session: Session, start_href: str, *, poll_timeout: float = 180.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._session = session
        self.href = start_href
        self.poll_timeout = poll_timeout
        self._sleep = sleep
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        self.batches = 0
        self.recreated = 0
        self.failures_in_a_row = 0

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def last_error(self) -> str | None:
        return self.errors[-1] if self.errors else None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ucwa-nb-events", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------------ the loop

    def _note(self, message: str) -> None:
        self.errors.append(message)
        del self.errors[:-100]  # keep the latest hundred

    def _backoff(self) -> None:
        self.failures_in_a_row += 1
        delay = min(MAX_BACKOFF, 0.25 * 2 ** min(self.failures_in_a_row - 1, 6))
        self._stop.wait(delay)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_once()
            except Exception as exc:  # keep polling: the failure is visible on the session
                self._note(f"event channel error: {type(exc).__name__}: {exc}")
                self._backoff()

    def _poll_once(self) -> None:
        session = self._session
        try:
            response = session._request(
                "GET", self.href, rel="events", params={"timeout": str(int(self.poll_timeout))},
                timeout=httpx.Timeout(10.0, read=self.poll_timeout + 30.0), raise_errors=False,
                accept=session.event_accept)
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
            self.failures_in_a_row = 0
            self._handle_batch(response)
            return
        reason = _reason_of(response)
        subcode = reason.subcode if reason else None
        if status == 404 and subcode == "ApplicationNotFound":
            self._note("the application expired (404 ApplicationNotFound); re-creating it")
            self.href = session._recreate_application()
            self.recreated += 1
            self.failures_in_a_row = 0
            return
        if status == 409 and subcode == "PGetReplaced":
            self._note("409 PGetReplaced: another poll replaced ours; is another client "
                       "using this application?")
        else:
            self._note(f"event poll answered {status}"
                       + (f" {reason.code}/{reason.subcode}" if reason else ""))
        self._backoff()

    def _handle_batch(self, response: httpx.Response) -> None:
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
        self._session._deliver(batch, response)
        following = batch.href("next") or batch.href("resume") or batch.href("resync")
        if following is None:
            self._note("an event batch without next, resume or resync link; starting over")
            self.href = self._session._events_href()
            return
        self.href = self._session._absolute(following, response)


def _reason_of(response: httpx.Response) -> Reason | None:
    try:
        parsed = parse(response.content, response.headers.get("content-type"))
    except ParseError:
        return None
    return parsed if isinstance(parsed, Reason) else None
