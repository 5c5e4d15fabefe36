"""Events to an application's channel, and the live channel an operation needs to report its
changes.

One of the World's parts (``world.py``); the channel itself (batches, ack, resync) is
``sim/channel.py``.
"""

from __future__ import annotations

from ucwa_nb.protocol.representation import Event
from ucwa_nb.sim.channel import PendingEvent, Priority
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.scenario import ServerSettings
from ucwa_nb.sim.state import ApplicationState

__all__ = ["Delivery"]


class Delivery:
    """``callback_grace`` and ``max_pending_events`` applied to each application."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings

    def require_live_channel(self, app: ApplicationState) -> None:
        """An operation's changes are reported on the event channel: without a poll parked
        or released lately the server cannot reach the application (500
        CallbackChannelError; [infer] ucwa-protocol.md 2.4)."""
        if not app.channel.live(self.settings.callback_grace):
            raise SimError(500, "ServiceFailure", "CallbackChannelError")

    def require_unlost_channel(self, app: ApplicationState) -> None:
        """500 CallbackChannelError only for a channel that was started and then let go:
        an application that has not polled yet is not refused (GetMyPresenceInformation.md
        creates an application and at once POSTs makeMeAvailable, "should be 204")."""
        if app.channel.lost(self.settings.callback_grace):
            raise SimError(500, "ServiceFailure", "CallbackChannelError")

    def emit(self, app: ApplicationState, sender_rel: str, sender_href: str, event: Event,
             priority: Priority = Priority.HIGH) -> None:
        """Queue ``event`` for ``app``'s next poll (nothing once the app is deleted)."""
        if not app.deleted:
            app.channel.emit(PendingEvent(sender_rel, sender_href, event, priority))
            limit = self.settings.max_pending_events
            if limit and len(app.channel.pending) > limit:
                # Nobody polls this application: it stops taking events (and memory) and
                # is retired as inactive by its next request or the sweeper.
                del app.channel.pending[limit:]
                app.overflowed = True
