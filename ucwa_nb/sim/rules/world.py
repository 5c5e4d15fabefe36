"""The simulated world: what a scenario becomes when it is served, composed of one part per
job, each with the state it owns:

* ``accounts.py``: users, their sign-in and tokens;
* ``applications.py``: applications, their lifetime and expiry, their conversations;
* ``call_limits.py``: one user's calls in progress and history;
* ``injected_faults.py``: faults on operations;
* ``delivery.py``: events to an application's channel, and the live channel an operation
  needs;
* ``progress.py``: what the server saw each user do, for the exercises and the trainer's
  grid.

``World`` holds them, their clock (``sim/clock.py``; tests move it on instead of sleeping)
and the whole world's views (every call, the trainer's activity) and shutdown. Its methods
hand each request to the part whose job it is, so that rules and routes need only a World.

Runs on the simulator's event loop; HTTP handlers call it synchronously. The phone-audio rules
(add/continue/startPhoneAudio, stop, hold and resume) are in ``phone_audio.py`` and
makeMeAvailable in ``me.py``, acting on a World; the call-via-work lifecycle of each
invitation (``calls.py``) runs as an asyncio task beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ucwa_nb.protocol.representation import Event
from ucwa_nb.sim.channel import Priority
from ucwa_nb.sim.clock import Clock
from ucwa_nb.sim.limits import SignInLimits
from ucwa_nb.sim.rules.accounts import Accounts
from ucwa_nb.sim.rules.applications import Applications
from ucwa_nb.sim.rules.call_limits import CallLimits
from ucwa_nb.sim.rules.delivery import Delivery
from ucwa_nb.sim.rules.injected_faults import InjectedFaults
from ucwa_nb.sim.rules.progress import Progress
from ucwa_nb.sim.rules.windows import WindowsAcceptor
from ucwa_nb.sim.scenario import FaultSpec, Scenario
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationState,
    InvitationState,
    TokenState,
    UserState,
)

__all__ = ["World", "activity_row", "known_person_name"]


class World:
    """A scenario served: its parts (module doc), its clock and its calls."""

    def __init__(self, scenario: Scenario, now: Callable[[], float] = time.monotonic) -> None:
        self.scenario = scenario
        self.settings = scenario.server
        self.clock = Clock(now)
        self.now: Callable[[], float] = self.clock
        self.accounts = Accounts(scenario, self.clock)
        self.applications = Applications(self.settings, self.clock)
        self.call_limits = CallLimits(self.settings)
        self.injected = InjectedFaults(scenario.faults)
        self.delivery = Delivery(self.settings)
        self.progress = Progress()  # each user's operations and outcomes, as the server saw
        self.signin = SignInLimits(self.settings, self.clock)
        self.windows = WindowsAcceptor(scenario, self.settings, self.clock)  # Windows grant
        # The parts' state, under the names rules, routes and tests have always used.
        self.users = self.accounts.users
        self.tokens = self.accounts.tokens
        self.apps = self.applications.apps
        self.retired = self.applications.retired
        self.faults = self.injected.active
        self.next_invitation = 1
        self.restarting = False  # see shutdown()
        # Set by shutdown(), cleared when a server starts serving this world (app lifespan):
        # while set, new event polls are answered 503 at once instead of parking.
        self.closing = False

    # ------------------------------------------------------------------ accounts

    @property
    def hub_accounts(self) -> int:
        """How many accounts JupyterHub users made on first sign-in."""
        return self.accounts.hub_accounts

    def issue_token(self, username: str, password: str) -> TokenState | None:
        """A new token for these credentials, or None (accounts.py)."""
        return self.accounts.issue_token(username, password)

    def token_for(self, user: UserState) -> TokenState:
        """A new token for ``user``, who signed in (password grant, or Windows sign-in)."""
        return self.accounts.token_for(user)

    def authenticate(self, authorization: str | None) -> TokenState | None:
        """The live token of an Authorization header, or None."""
        return self.accounts.authenticate(authorization)

    def purge_expired_tokens(self) -> int:
        """Forget expired tokens; returns how many."""
        return self.accounts.purge_expired_tokens()

    # ------------------------------------------------------------------ applications

    def create_application(self, token: TokenState,
                           props: dict[str, Any]) -> tuple[ApplicationState, bool]:
        """POST applications (applications.py)."""
        return self.applications.create(token, props)

    def application(self, token: TokenState, app_id: str) -> ApplicationState:
        """The application a request names, or its 404/410."""
        return self.applications.get(token, app_id)

    def add_conversation(self, app: ApplicationState, subject: str, participants: list[str],
                         created: Any, importance: str = "Normal",
                         modalities: list[str] | None = None) -> ConversationState:
        """A new conversation of ``app``."""
        return self.applications.add_conversation(app, subject, participants, created,
                                                  importance, modalities)

    def delete_application(self, app: ApplicationState) -> None:
        """DELETE application."""
        self.applications.delete(app)

    def expire_idle(self) -> None:
        """Retire the applications idle beyond their expiry (the sweeper)."""
        self.applications.expire_idle()

    # ------------------------------------------------------------------ calls, faults, events

    def admit_call(self, user: UserState) -> None:
        """409 TooManyConversations when the user has too many calls ringing."""
        self.call_limits.admit(user)

    def prune_call_history(self, user: UserState) -> None:
        """Forget the user's oldest finished calls beyond the history kept."""
        self.call_limits.prune_history(user)

    def add_fault(self, spec: FaultSpec) -> None:
        """Inject a fault on an operation's rel."""
        self.injected.add(spec)

    def clear_faults(self) -> None:
        """No injected fault any more."""
        self.injected.clear()

    def check_fault(self, rel: str, user: UserState) -> None:
        """Raise the error of a fault injected on ``rel`` for ``user``, if any."""
        self.injected.check(rel, user)

    def require_live_channel(self, app: ApplicationState) -> None:
        """500 CallbackChannelError unless ``app`` polled lately (delivery.py)."""
        self.delivery.require_live_channel(app)

    def require_unlost_channel(self, app: ApplicationState) -> None:
        """500 CallbackChannelError if ``app`` polled once and then stopped (delivery.py)."""
        self.delivery.require_unlost_channel(app)

    def emit(self, app: ApplicationState, sender_rel: str, sender_href: str, event: Event,
             priority: Priority = Priority.HIGH) -> None:
        """Queue an event for ``app``'s next poll."""
        self.delivery.emit(app, sender_rel, sender_href, event, priority)

    # ------------------------------------------------------------------ the whole world

    def activity(self) -> list[dict[str, Any]]:
        """Every phone-audio call so far, across users: what a trainer watches."""
        return [activity_row(inv) for inv in self.calls()]

    def calls(self) -> list[InvitationState]:
        """Every invitation the world holds, in the order they were placed."""
        invitations = [inv for user in self.users.values() for app in user.apps.values()
                       for inv in app.invitations.values()]
        return sorted(invitations, key=lambda inv: int(inv.id))

    def shutdown(self) -> None:
        """The server is stopping: answer parked polls (503) and stop every call.

        While ``restarting`` (``Simulator.restart``) only the polls are answered: the world,
        its calls in progress and their events carry on, as when another front end of the
        pool takes over."""
        self.closing = True
        self.windows.close()  # its NTLM user file goes; written again if it serves again
        for app in list(self.apps.values()):
            app.channel.close("shutdown")
            if self.restarting:
                continue
            for inv in app.invitations.values():
                if inv.task is not None:
                    inv.task.cancel()


def activity_row(inv: InvitationState) -> dict[str, Any]:
    """One call as the trainer's activity list shows it (no token, no password)."""
    reason = inv.reason
    return {
        "user": inv.app.user.spec.uri, "application": inv.app.id, "invitation": inv.id,
        "operation": inv.kind, "operation_id": inv.operation_id, "to": inv.to,
        "phone_number": inv.phone_number, "state": inv.state, "status": inv.status,
        "reason": (f"{reason.code}/{reason.subcode}" if reason and reason.subcode
                   else reason.code if reason else None),
    }


def known_person_name(scenario: Scenario, uri: str) -> str | None:
    """The name of a person the world knows (a contact, or a user of the scenario), whose
    contact resource the people route serves; None for anyone else, whom no link may lead
    to."""
    contact = scenario.contact(uri)
    if contact is not None:
        return contact.name
    other = scenario.user(uri)
    return other.name if other is not None else None
