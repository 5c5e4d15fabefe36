"""The simulated world: its users, tokens and applications, and the rules of sign-in,
application lifetime, injected faults, the callback channel an operation needs and event
delivery.

Runs on the simulator's event loop; HTTP handlers call it synchronously. The phone-audio rules
(add/continue/startPhoneAudio, stop, hold and resume) are in ``phone_audio.py`` and
makeMeAvailable in ``me.py``, acting on a World; the call-via-work lifecycle of each
invitation (``calls.py``) runs as an asyncio task beside it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ucwa_nb.protocol.representation import Event
from ucwa_nb.sim.channel import Channel, PendingEvent, Priority
from ucwa_nb.sim.classroom import HubUsersSpec
from ucwa_nb.sim.errors import SimError, fault_error
from ucwa_nb.sim.limits import SignInLimits
from ucwa_nb.sim.rules.hub_users import hub_account, hub_name, is_hub_password
from ucwa_nb.sim.rules.windows import WindowsAcceptor
from ucwa_nb.sim.scenario import FAULTS, FaultSpec, Scenario, UserSpec
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
    TokenState,
    UserState,
)

__all__ = ["World", "activity_row", "case_insensitive", "known_person_name"]

MAX_APP_FIELD = 100
# Applications retired (TooManyApplications, InactiveApplicationExpired), remembered so that
# their next request is answered 410 rather than 404; the oldest are forgotten beyond this many.
RETIRED_KEPT = 4096


@dataclass
class ActiveFault:
    spec: FaultSpec
    remaining: int  # 0 = until cleared


def _thread_id(*parts: str) -> str:
    # Deterministic so that notebooks show the same thread ids on every run.
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


class World:
    def __init__(self, scenario: Scenario, now: Callable[[], float] = time.monotonic) -> None:
        self.scenario = scenario
        self.settings = scenario.server
        self.now = now
        self.users: dict[str, UserState] = {}
        self.tokens: dict[str, TokenState] = {}
        self.apps: dict[str, ApplicationState] = {}
        self.faults: list[ActiveFault] = [ActiveFault(f, f.count) for f in scenario.faults]
        self.signin = SignInLimits(self.settings, now)
        self.windows = WindowsAcceptor(scenario, self.settings, now)  # the Windows grant
        # Retired application id -> (its user's key, the 410 subcode it answers).
        self.retired: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._next_app = 101
        self.next_invitation = 1
        self.restarting = False  # see shutdown()
        # Set by shutdown(), cleared when a server starts serving this world (app lifespan):
        # while set, new event polls are answered 503 at once instead of parking.
        self.closing = False
        self.hub_accounts = 0  # made on first sign-in ([classroom] hub_users)
        for spec in scenario.users:
            self._add_user(spec)

    def _add_user(self, spec: UserSpec) -> UserState:
        user = UserState(spec)
        for n, log_spec in enumerate(spec.conversation_logs, start=1):
            log_id = f"{n}"
            user.logs[log_id] = ConversationLogState(
                log_id, log_spec, _thread_id(spec.uri, "log", log_id, log_spec.subject))
        self.users[user.key] = user
        return user

    def add_conversation(self, app: ApplicationState, subject: str, participants: list[str],
                         created: Any, importance: str = "Normal",
                         modalities: list[str] | None = None) -> ConversationState:
        conv_id = f"{app.next_conversation}"
        app.next_conversation += 1
        # The thread id does not name the application: the scenario's conversations are the
        # same threads on each of the user's devices.
        conv = ConversationState(conv_id, subject, participants, created,
                                 _thread_id(app.user.spec.uri, "conversation", conv_id,
                                            subject),
                                 importance,
                                 modalities=["Messaging"] if modalities is None else modalities)
        app.conversations[conv_id] = conv
        return conv

    # ------------------------------------------------------------------ sign-in

    def issue_token(self, username: str, password: str) -> TokenState | None:
        user = self._signing_in(username, password)
        if user is None:
            return None
        return self.token_for(user)

    def token_for(self, user: UserState) -> TokenState:
        """A new token for ``user``, who signed in (password grant, or Windows sign-in)."""
        token = TokenState("cwt=" + secrets.token_urlsafe(32), user, user.spec.scopes,
                      self.now() + self.settings.token_lifetime)
        self.tokens[token.value] = token
        user.tokens.append(token.value)
        limit = self.settings.max_tokens_per_user
        while limit and len(user.tokens) > limit:  # the oldest sign-in is signed out
            self.tokens.pop(user.tokens.pop(0), None)
        return token

    def _signing_in(self, username: str, password: str) -> UserState | None:
        """The user these credentials open, if any."""
        hub = self.scenario.hub_users
        name = hub_name(hub, username) if hub is not None else None
        if hub is not None and name is not None:
            return self._hub_user(hub, name, password)
        user = self.users.get(username.lower().removeprefix("sip:"))
        # compare_digest refuses str with non-ASCII characters (TypeError, which became a
        # 500 for a password such as "é"): compare the UTF-8 bytes instead.
        if user is None or not secrets.compare_digest(
                user.spec.password.encode("utf-8", "surrogatepass"),
                password.encode("utf-8", "surrogatepass")):
            return None
        return user

    def _hub_user(self, spec: HubUsersSpec, name: str, password: str) -> UserState | None:
        """A JupyterHub user: only the hub's password opens an account in its domain, and
        one the scenario does not list is made on first sign-in (rules/hub_users.py)."""
        if not is_hub_password(spec, name, password):
            return None
        user = self.users.get(f"{name}@{spec.domain.lower()}")
        if user is not None:
            return user
        if self.hub_accounts >= spec.limit:
            return None
        account = hub_account(spec, name, self.scenario.demo_user, self.hub_accounts)
        self.hub_accounts += 1
        return self._add_user(account)

    def purge_expired_tokens(self) -> int:
        """Forget expired tokens (the sweeper calls this); returns how many."""
        now = self.now()
        expired = [t for t in self.tokens.values() if t.expires_at < now]
        for token in expired:
            del self.tokens[token.value]
        for user in {t.user.key: t.user for t in expired}.values():
            user.tokens = [v for v in user.tokens if v in self.tokens]
        return len(expired)

    def authenticate(self, authorization: str | None) -> TokenState | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = self.tokens.get(authorization[len("Bearer "):].strip())
        if token is None or token.expires_at < self.now():
            return None
        return token

    # ------------------------------------------------------------------ applications

    def create_application(self, token: TokenState,
                           props: dict[str, Any]) -> tuple[ApplicationState, bool]:
        values = case_insensitive(props, ("userAgent", "endpointId", "culture", "instanceId",
                                           "type"))
        problems = {}
        for name in ("userAgent", "endpointId", "culture"):
            value = values.get(name)
            if not isinstance(value, str) or not value.strip():
                problems[name] = "This parameter is required and must be a non-empty string."
        for name in ("userAgent", "endpointId", "culture", "instanceId"):
            value = values.get(name)
            if isinstance(value, str) and len(value) > MAX_APP_FIELD:
                problems[name] = f"This parameter is limited to {MAX_APP_FIELD} characters."
            elif name == "instanceId" and value is not None and not isinstance(value, str):
                problems[name] = "This parameter must be a string."
        if problems:
            raise SimError(400, "BadRequest", "ParameterValidationFailure",
                           parameters=problems)
        user = token.user
        for app in user.apps.values():
            if (app.endpoint_id == values["endpointId"] and app.user_agent == values["userAgent"]
                    and app.instance_id == values.get("instanceId")):
                return app, False
        limit = self.settings.max_applications_per_user
        if limit and len(user.apps) >= limit:
            # The least recently active one makes room; its next request is answered
            # 410 Gone/TooManyApplications (ApplicationDashboard's lifetime errors).
            self.retire_application(min(user.apps.values(),
                                        key=lambda a: a.channel.last_activity),
                                    "TooManyApplications")
        app_id = str(self._next_app)
        self._next_app += 1
        app = ApplicationState(app_id, user, values["userAgent"], values["endpointId"],
                               values["culture"], values.get("instanceId"), Channel(self.now),
                               # Random on a real server (PayloadFormat); derived from the
                               # ids here so that notebook outputs stay the same run to run.
                               last_request=self.now(),
                               communication_guid=str(uuid.uuid5(
                                   uuid.NAMESPACE_URL, f"ucwa-nb:{user.key}:{app_id}")))
        user.apps[app_id] = app
        self.apps[app_id] = app
        for c in user.spec.conversations:  # each new endpoint starts with the scenario's
            self.add_conversation(app, c.subject, list(c.participants), c.created,
                                  c.importance, list(c.modalities))
        return app, True

    def retire_application(self, app: ApplicationState, subcode: str) -> None:
        """Delete ``app``; its next request is answered 410 Gone with ``subcode``."""
        self.delete_application(app)
        self.retired[app.id] = (app.user.key, subcode)
        while len(self.retired) > RETIRED_KEPT:
            self.retired.popitem(last=False)

    def application(self, token: TokenState, app_id: str) -> ApplicationState:
        app = self.apps.get(app_id)
        # Only the application asked for: the lifespan's sweeper expires the others, so no
        # request pays for a scan of every application on the server.
        if app is not None and self._idle_for(app) > self.settings.application_expiry:
            # GenericSynchronousErrors: "InactiveApplicationExpired | An inactive application
            # expired." (410 Gone, ApplicationDashboard); 404 stays for ids never seen.
            self.retire_application(app, "InactiveApplicationExpired")
            app = None
        if app is not None and app.overflowed:
            self.retire_application(app, "InactiveApplicationExpired")
            app = None
        retired = self.retired.get(app_id) if app is None else None
        if retired is not None and retired[0] == token.user.key:
            raise SimError(410, "Gone", retired[1])
        # Another user's application is reported exactly like a missing one.
        if app is None or app.user is not token.user:
            raise SimError(404, "NotFound", "ApplicationNotFound")
        # application_ref: the application expires when "no HTTP requests are received for a
        # period of time from the application": any request of it counts, not only polls.
        app.last_request = self.now()
        return app

    def _idle_for(self, app: ApplicationState) -> float:
        return min(app.channel.idle_for(), self.now() - app.last_request)

    def delete_application(self, app: ApplicationState) -> None:
        app.deleted = True
        app.channel.close()
        for inv in list(app.invitations.values()):
            if inv.task is not None:
                inv.task.cancel()
        self.apps.pop(app.id, None)
        app.user.apps.pop(app.id, None)

    def expire_idle(self) -> None:
        limit = self.settings.application_expiry
        for app in list(self.apps.values()):
            if app.overflowed or self._idle_for(app) > limit:
                self.retire_application(app, "InactiveApplicationExpired")

    # ------------------------------------------------------------------ one user's calls

    def admit_call(self, user: UserState) -> None:
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

    def prune_call_history(self, user: UserState) -> None:
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

    # ------------------------------------------------------------------ faults

    def add_fault(self, spec: FaultSpec) -> None:
        if spec.error not in FAULTS:
            raise ValueError(f"unknown fault {spec.error!r}; known: {', '.join(FAULTS)}")
        self.faults.append(ActiveFault(spec, spec.count))

    def clear_faults(self) -> None:
        self.faults.clear()

    def check_fault(self, rel: str, user: UserState) -> None:
        for fault in self.faults:
            spec = fault.spec
            if spec.rel.lower() != rel.lower():
                continue
            if spec.user is not None and spec.user.removeprefix("sip:").lower() != user.key:
                continue
            if fault.remaining == 1:
                self.faults.remove(fault)
            elif fault.remaining > 1:
                fault.remaining -= 1
            raise fault_error(*FAULTS[spec.error])

    # ------------------------------------------------------------------ the callback channel

    def require_live_channel(self, app: ApplicationState) -> None:
        """An operation's changes are reported on the event channel: without a poll parked
        or released lately the server cannot reach the application (500
        CallbackChannelError; [infer] ucwa-protocol.md 2.4)."""
        if not app.channel.live(self.settings.callback_grace):
            raise SimError(500, "ServiceFailure", "CallbackChannelError")

    # ------------------------------------------------------------------ events

    def emit(self, app: ApplicationState, sender_rel: str, sender_href: str, event: Event,
             priority: Priority = Priority.HIGH) -> None:
        if not app.deleted:
            app.channel.emit(PendingEvent(sender_rel, sender_href, event, priority))
            limit = self.settings.max_pending_events
            if limit and len(app.channel.pending) > limit:
                # Nobody polls this application: it stops taking events (and memory) and
                # is retired as inactive by its next request or the sweeper.
                del app.channel.pending[limit:]
                app.overflowed = True

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


def case_insensitive(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """UCWA input property names are case-insensitive (PascalCase walkthroughs, camelCase
    reference); map them onto the canonical names."""
    canonical = {name.lower(): name for name in names}
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = canonical.get(key.lower())
        if name is not None:
            out[name] = value
    return out
