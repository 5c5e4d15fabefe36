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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ucwa_nb.protocol.representation import Event
from ucwa_nb.sim.channel import Channel, PendingEvent, Priority
from ucwa_nb.sim.errors import SimError, fault_error
from ucwa_nb.sim.scenario import FAULTS, FaultSpec, Scenario
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    TokenState,
    UserState,
)

__all__ = ["World", "case_insensitive", "known_person_name"]

MAX_APP_FIELD = 100


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
        self._next_app = 101
        self.next_invitation = 1
        self.restarting = False  # see shutdown()
        # Set by shutdown(), cleared when a server starts serving this world (app lifespan):
        # while set, new event polls are answered 503 at once instead of parking.
        self.closing = False
        for spec in scenario.users:
            user = UserState(spec)
            for c in spec.conversations:
                self.add_conversation(user, c.subject, list(c.participants), c.created,
                                      c.importance, list(c.modalities))
            for n, log_spec in enumerate(spec.conversation_logs, start=1):
                log_id = f"{n}"
                user.logs[log_id] = ConversationLogState(
                    log_id, log_spec, _thread_id(spec.uri, "log", log_id, log_spec.subject))
            self.users[user.key] = user

    def add_conversation(self, user: UserState, subject: str, participants: list[str],
                         created: Any, importance: str = "Normal",
                         modalities: list[str] | None = None) -> ConversationState:
        conv_id = f"{user.next_conversation}"
        user.next_conversation += 1
        conv = ConversationState(conv_id, subject, participants, created,
                                 _thread_id(user.spec.uri, "conversation", conv_id, subject),
                                 importance,
                                 modalities=["Messaging"] if modalities is None else modalities)
        user.conversations[conv_id] = conv
        return conv

    # ------------------------------------------------------------------ sign-in

    def issue_token(self, username: str, password: str) -> TokenState | None:
        user = self.users.get(username.lower().removeprefix("sip:"))
        # compare_digest refuses str with non-ASCII characters (TypeError, which became a
        # 500 for a password such as "é"): compare the UTF-8 bytes instead.
        if user is None or not secrets.compare_digest(
                user.spec.password.encode("utf-8", "surrogatepass"),
                password.encode("utf-8", "surrogatepass")):
            return None
        token = TokenState("cwt=" + secrets.token_urlsafe(32), user, user.spec.scopes,
                      self.now() + self.settings.token_lifetime)
        self.tokens[token.value] = token
        return token

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
        return app, True

    def application(self, token: TokenState, app_id: str) -> ApplicationState:
        app = self.apps.get(app_id)
        # Only the application asked for: the lifespan's sweeper expires the others, so no
        # request pays for a scan of every application on the server.
        if app is not None and self._idle_for(app) > self.settings.application_expiry:
            self.delete_application(app)
            app = None
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
            if self._idle_for(app) > limit:
                self.delete_application(app)

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

    # ------------------------------------------------------------------ the whole world

    def activity(self) -> list[dict[str, Any]]:
        """Every phone-audio call so far, across users: what a trainer watches."""
        rows = []
        for user in self.users.values():
            for app in user.apps.values():
                for inv in app.invitations.values():
                    rows.append({
                        "user": user.spec.uri, "application": app.id, "invitation": inv.id,
                        "operation": inv.kind, "operation_id": inv.operation_id, "to": inv.to,
                        "phone_number": inv.phone_number, "state": inv.state,
                        "status": inv.status,
                        "reason": (f"{inv.reason.code}/{inv.reason.subcode}"
                                   if inv.reason and inv.reason.subcode
                                   else inv.reason.code if inv.reason else None),
                    })
        return sorted(rows, key=lambda r: int(r["invitation"]))

    def shutdown(self) -> None:
        """The server is stopping: answer parked polls (503) and stop every call.

        While ``restarting`` (``Simulator.restart``) only the polls are answered: the world,
        its calls in progress and their events carry on, as when another front end of the
        pool takes over."""
        self.closing = True
        for app in list(self.apps.values()):
            app.channel.close("shutdown")
            if self.restarting:
                continue
            for inv in app.invitations.values():
                if inv.task is not None:
                    inv.task.cancel()


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
