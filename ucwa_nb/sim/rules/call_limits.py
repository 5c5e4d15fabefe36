"""What one user's calls may take of a shared server: how many may ring at once, and how many
finished ones are kept for the history.

One of the World's parts (``world.py``); calls (invitations) are their application's, the
limits the user's.
"""

from __future__ import annotations

from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.scenario import ServerSettings
from ucwa_nb.sim.state import UserState

__all__ = ["CallLimits"]


class CallLimits:
    """``max_calls_in_progress_per_user`` and ``max_call_history_per_user`` (0: no limit)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings

    def admit(self, user: UserState) -> None:
        """A user rings one phone of their own per call: a few at once are plenty, and more
        would let one user's calls take the server's time from everyone else's."""
        limit = self.settings.max_calls_in_progress_per_user
        ringing = sum(inv.in_progress for app in user.apps.values()
                      for inv in app.invitations.values())
        if limit and ringing >= limit:
            # [infer] TooManyConversations is an ErrorSubcode of the reference; 409 Conflict
            # as for TooManyGroups, the other "too many" of the phone-audio operations.
            raise SimError(409, "Conflict", "TooManyConversations",
                           f"At most {limit} calls may be in progress at once.")

    def prune_history(self, user: UserState) -> None:
        """Forget the user's oldest finished calls beyond max_call_history_per_user, with
        the conversations that ended with them."""
        limit = self.settings.max_call_history_per_user
        finished = [inv for app in user.apps.values() for inv in app.invitations.values()
                    if not inv.in_progress]
        if not limit or len(finished) <= limit:
            return
        finished.sort(key=lambda inv: int(inv.id))
        for inv in finished[:len(finished) - limit]:
            inv.app.invitations.pop(inv.id, None)
            conv = inv.conversation
            if conv.ends_with_call and conv.call is inv:
                inv.app.conversations.pop(conv.id, None)
