"""Event delivery: each event of a batch is logged, then handed to the call it is about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from ucwa_nb.client.hooks import ExchangeHooks, absolute
from ucwa_nb.client.registry import CallRegistry
from ucwa_nb.protocol.representation import Events

__all__ = ["EventDelivery"]


class EventDelivery:
    def __init__(self, calls: CallRegistry, hooks: ExchangeHooks,
                 clock: Callable[[], datetime]) -> None:
        self._calls = calls
        self._hooks = hooks
        self._clock = clock

    def deliver(self, batch: Events, response: httpx.Response) -> None:
        for sender, event in batch.all_events():
            resource = event.resource
            value = resource.get("operationId") if resource is not None else None
            operation_id = value if isinstance(value, str) else None
            href = absolute(event.link.href, response)
            call = self._calls.find(
                operation_id, href if event.link.rel == "phoneAudioInvitation" else None)
            self._hooks.record_event(response, sender, event)
            if call is not None:
                call.receive(event, self._clock())
