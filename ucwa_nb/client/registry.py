"""The calls of a session by operationId: registered before their POST is sent, because the
event channel can deliver ``started`` before the 201 arrives (ucwa-protocol.md 2.5)."""

from __future__ import annotations

import threading

from ucwa_nb.client.call import PhoneAudioCall

__all__ = ["CallRegistry"]


class CallRegistry:
    def __init__(self) -> None:
        self._calls: dict[str, PhoneAudioCall] = {}
        self._lock = threading.Lock()  # the event thread looks calls up while others add

    def add(self, call: PhoneAudioCall) -> None:
        with self._lock:
            self._calls[call.operation_id] = call

    def discard(self, call: PhoneAudioCall) -> None:
        with self._lock:
            self._calls.pop(call.operation_id, None)

    def find(self, operation_id: str | None, invitation_href: str | None) -> PhoneAudioCall | None:
        """By operationId, else (an event without one) by the invitation's location."""
        with self._lock:
            call = self._calls.get(operation_id) if operation_id is not None else None
            if call is None and invitation_href is not None:
                call = next((c for c in self._calls.values()
                             if c.location == invitation_href), None)
            return call

    def all(self) -> list[PhoneAudioCall]:
        with self._lock:
            return list(self._calls.values())
