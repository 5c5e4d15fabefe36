"""PhoneAudioCall: one add/continue/startPhoneAudio operation, followed to its outcome.

The call is registered under its operationId before the POST is sent, because the event
channel can deliver ``started`` before the 201 arrives (ucwa-protocol.md section 2.5). Events
are appended by the event thread; readers may be any thread, so state sits behind a lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ucwa_nb.display.timeline import call_timeline_html, call_timeline_text
from ucwa_nb.protocol.operations import (
    CANCEL,
    HOLD_PHONE_AUDIO,
    RESUME_PHONE_AUDIO,
    STOP_PHONE_AUDIO,
    OperationSpec,
)
from ucwa_nb.protocol.representation import Event, Reason

if TYPE_CHECKING:
    from ucwa_nb.doctor.core.diagnosis import Diagnosis
    from ucwa_nb.log.exchange_log import ExchangeLog

__all__ = ["CallActions", "CallEvent", "PhoneAudioCall", "describe_progress"]


class CallActions(Protocol):
    """What a call acts through: whoever runs the operations (the session's runner)."""

    def act(self, operation: OperationSpec | str, call: PhoneAudioCall,
            values: Mapping[str, str | None]) -> None: ...

    def offered_on_call(self, call: PhoneAudioCall) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class CallEvent:
    """An event about the call, with when it was received."""

    time: datetime
    event: Event

    @property
    def type(self) -> str:
        """The event's type: started, updated, completed, added, deleted."""
        return self.event.type

    @property
    def state(self) -> str | None:
        """The state of the resource the event embeds (Connecting, Connected, ...), if any."""
        resource = self.event.resource
        value = resource.get("state") if resource is not None else None
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        # Short: the dataclass repr spelled out the whole embedded resource (a list of a
        # call's events printed 8.7 KB in a notebook).
        when = self.time.strftime("%H:%M:%S.%f")[:-3]  # milliseconds
        return f"<CallEvent {when} {self.type} {self.state or ''}".rstrip() + ">"


def describe_progress(event_type: str, state: str | None, status: str | None,
                      reason: Reason | None) -> str:
    """A person's words for where the call is: connecting, ringing your phone, ..."""
    if event_type == "completed":
        if status == "Success":
            return "connected"
        if reason is not None:
            what = reason.code + (f"/{reason.subcode}" if reason.subcode else "")
            return f"failed ({what})"
        return "failed"
    if state == "Alerting":
        return "ringing the callee"
    if state == "Forwarded":  # InvitationState_ref: the callee's forwarding took the call
        return "forwarded"
    if event_type == "updated" and state == "Connecting":
        return "ringing your phone"
    return "connecting"


class PhoneAudioCall:
    """One add/continue/startPhoneAudio operation, followed on the event channel to its
    ``completed`` event: ``state``, ``status``, ``reason``, ``events``, ``wait()``, and
    ``perform(operation, **values)`` while its link is offered, with ``cancel()``, ``stop()``,
    ``hold()``, ``resume()`` as one-line wrappers."""

    def __init__(self, operation_id: str, kind: str, target: str | None,
                 actions: CallActions | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.operation_id = operation_id
        self.kind = kind  # the operation that created it: addPhoneAudio, continuePhoneAudio, ...
        self.target = target
        self.location: str | None = None
        self.http_status: int | None = None
        # How many events had arrived when the POST's answer did: the started event can
        # beat the 201 (the server queues it before answering), and the timeline shows that.
        self.events_before_response = 0
        self._actions = actions
        self._clock = clock
        self._events: list[CallEvent] = []
        self._status: str | None = None
        self._reason: Reason | None = None
        self._state: str | None = None
        self._cancel_href: str | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on every event
        self._listeners: list[Callable[[PhoneAudioCall], None]] = []

    # ------------------------------------------------------------------ reading

    @property
    def events(self) -> list[CallEvent]:
        """The call's events so far, in the order received (a copy)."""
        with self._lock:
            return list(self._events)

    @property
    def state(self) -> str | None:
        """The latest invitation state: Connecting, Alerting, Connected, Failed, ..."""
        return self._state

    @property
    def phone_number(self) -> str | None:
        """Your own phone's number as the server dialled it: the invitation's
        ``phoneNumber``, normalised by the user's dial plan (``555-1234`` is rung as
        ``tel:+15551234``); None until an event about the call carries it."""
        with self._lock:
            events = list(self._events)
        for item in reversed(events):
            resource = item.event.resource
            value = resource.get("phoneNumber") if resource is not None else None
            if isinstance(value, str) and value:
                return value
        return None

    @property
    def status(self) -> str | None:
        """"Success" or "Failure" once completed, else None."""
        return self._status

    @property
    def reason(self) -> Reason | None:
        """Why the call failed (code, subcode, message), from its completed event; else
        None."""
        return self._reason

    @property
    def done(self) -> bool:
        """Whether the completed event has arrived."""
        return self._done.is_set()

    @property
    def progress(self) -> str:
        """Where the call is, in a person's words: sending, ringing your phone,
        connected, failed (...)."""
        with self._lock:
            if not self._events:
                return "sending" if self.location is None else "connecting"
            last = self._events[-1]
        return describe_progress(last.type, last.state, self._status, self._reason)

    def wait(self, timeout: float | None = 10.0) -> PhoneAudioCall:
        """Block until the completed event arrives; raise TimeoutError if it does not."""
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"call {self.operation_id} did not complete within {timeout} s "
                f"(last known progress: {self.progress})")
        return self

    def wait_for(self, state: str, timeout: float | None = 10.0) -> PhoneAudioCall:
        """Block until the invitation reaches ``state`` (``"Alerting"``: the callee's phone
        rings). TimeoutError if it does not within ``timeout``; RuntimeError if the call
        completes in another state first (it will never get there)."""
        with self._changed:
            reached = self._changed.wait_for(
                lambda: self._state == state or self._done.is_set(), timeout)
            current = self._state
        if not reached:
            raise TimeoutError(f"call {self.operation_id} did not reach {state} within "
                               f"{timeout} s (last known progress: {self.progress})")
        if current != state:
            raise RuntimeError(f"call {self.operation_id} completed ({self.status}, "
                               f"{current}) without reaching {state}")
        return self

    def on_change(self, callback: Callable[[PhoneAudioCall], None]) -> Callable[[], None]:
        """Call ``callback(call)`` after each new event; returns a function to unsubscribe."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # ------------------------------------------------------------------ acting

    @property
    def cancel_link(self) -> str | None:
        """The cancel href the latest event offered (as sent: maybe relative), else None."""
        return self._cancel_href

    def perform(self, operation: OperationSpec | str, **values: str | None) -> None:
        """Do ``operation`` (a definition or its rel: ``"holdPhoneAudio"``) on this call,
        through the link offered now; its input, if it takes any, by argument name. The
        input is checked locally first. ValidationError (nothing sent) when the link is not
        offered now (hold while on hold, say) or the input is wrong; UcwaError when the
        server refuses."""
        if self._actions is None:
            raise RuntimeError("this call is not attached to a session")
        self._actions.act(operation, self, values)

    def offered_operations(self) -> tuple[str, ...]:
        """The rels of the operations this call offers now (``cancel`` while ringing,
        ``holdPhoneAudio`` while connected, ...): asks the server (GETs), so not from the
        event thread."""
        if self._actions is None:
            return ()
        return self._actions.offered_on_call(self)

    def cancel(self) -> None:
        """Cancel a call in progress through its invitation's cancel link."""
        self.perform(CANCEL)

    def stop(self) -> None:
        """Hang up: stopPhoneAudio on the phone audio of the call's conversation."""
        self.perform(STOP_PHONE_AUDIO)

    def hold(self) -> None:
        """Put the connected call on hold (holdPhoneAudio)."""
        self.perform(HOLD_PHONE_AUDIO)

    def resume(self) -> None:
        """Take the call off hold (resumePhoneAudio)."""
        self.perform(RESUME_PHONE_AUDIO)

    # ------------------------------------------------------------------ fed by the event thread

    def receive(self, event: Event, time: datetime) -> None:
        """Add an event about this call (called by the session's event delivery)."""
        resource = event.resource
        with self._lock:
            self._events.append(CallEvent(time, event))
            if resource is not None:
                state = resource.get("state")
                if isinstance(state, str):
                    self._state = state
                cancel = resource.link("cancel")
                self._cancel_href = cancel.href if cancel is not None else None
            if event.type == "completed":
                self._status = event.status or ("Failure" if event.reason else "Success")
                self._reason = event.reason
                self._done.set()
            self._changed.notify_all()
        for listener in list(self._listeners):
            # A broken listener (a closed widget, say) must not stop event delivery.
            with contextlib.suppress(Exception):
                listener(self)

    def explain(self, log: ExchangeLog | None = None) -> Diagnosis:
        """Why this call failed, in UCWA's terms (``ucwa_nb.explain``): from its own events,
        or with ``log`` (``session.log``) from every row about its operationId."""
        from ucwa_nb.doctor.explain import explain  # the doctor reads the log: loaded on use

        return explain(self if log is None else log, operation_id=self.operation_id)

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        return (f"<PhoneAudioCall {self.kind} {self.operation_id} to={self.target} "
                f"{self.progress}>")

    def _repr_html_(self) -> str:
        return call_timeline_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's text/plain: the timeline as text, for where the HTML is not drawn (a
        # notebook's stored outputs before Run All showed the picture as run-on text).
        printer.text(repr(self) if cycle else call_timeline_text(self))
