"""The rules of the simulated world: sign-in, applications, faults and phone-audio operations.

Runs on the simulator's event loop; HTTP handlers call it synchronously and the call-via-work
lifecycle (``calls.py``) runs as asyncio tasks beside it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ucwa_nb.phone import NormalizationError, normalize_phone_number, parse_sip_uri
from ucwa_nb.representation import Event, Link, Reason
from ucwa_nb.sim import render
from ucwa_nb.sim.channel import Channel, PendingEvent, Priority
from ucwa_nb.sim.errors import SimError, fault_error
from ucwa_nb.sim.scenario import FAULTS, FaultSpec, Scenario
from ucwa_nb.sim.state import (
    Application,
    Conversation,
    ConversationLog,
    Invitation,
    Token,
    UserState,
)

__all__ = ["World"]

INITIATE_SCOPE = "Conversations.Initiate"
MAX_OPERATION_ID = 50
MAX_APP_FIELD = 100
MAX_SUBJECT = 250
IMPORTANCE = ("Normal", "Urgent", "Emergency")
START_FIELDS = ("importance", "subject", "threadId")  # startPhoneAudio's own input


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
        self.tokens: dict[str, Token] = {}
        self.apps: dict[str, Application] = {}
        self.faults: list[ActiveFault] = [ActiveFault(f, f.count) for f in scenario.faults]
        self._next_app = 101
        self._next_invitation = 1
        self.restarting = False  # see shutdown()
        # Set by shutdown(), cleared when a server starts serving this world (app lifespan):
        # while set, new event polls are answered 503 at once instead of parking.
        self.closing = False
        for spec in scenario.users:
            user = UserState(spec)
            for c in spec.conversations:
                self._add_conversation(user, c.subject, list(c.participants), c.created,
                                       c.importance, list(c.modalities))
            for n, log_spec in enumerate(spec.conversation_logs, start=1):
                log_id = f"{n}"
                user.logs[log_id] = ConversationLog(
                    log_id, log_spec, _thread_id(spec.uri, "log", log_id, log_spec.subject))
            self.users[user.key] = user

    def _add_conversation(self, user: UserState, subject: str, participants: list[str],
                          created: Any, importance: str = "Normal",
                          modalities: list[str] | None = None) -> Conversation:
        conv_id = f"{user.next_conversation}"
        user.next_conversation += 1
        conv = Conversation(conv_id, subject, participants, created,
                            _thread_id(user.spec.uri, "conversation", conv_id, subject),
                            importance, modalities=modalities or ["Messaging"])
        user.conversations[conv_id] = conv
        return conv

    # ------------------------------------------------------------------ sign-in

    def issue_token(self, username: str, password: str) -> Token | None:
        user = self.users.get(username.lower().removeprefix("sip:"))
        # compare_digest refuses str with non-ASCII characters (TypeError, which became a
        # 500 for a password such as "é"): compare the UTF-8 bytes instead.
        if user is None or not secrets.compare_digest(
                user.spec.password.encode("utf-8", "surrogatepass"),
                password.encode("utf-8", "surrogatepass")):
            return None
        token = Token("cwt=" + secrets.token_urlsafe(32), user, user.spec.scopes,
                      self.now() + self.settings.token_lifetime)
        self.tokens[token.value] = token
        return token

    def authenticate(self, authorization: str | None) -> Token | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = self.tokens.get(authorization[len("Bearer "):].strip())
        if token is None or token.expires_at < self.now():
            return None
        return token

    # ------------------------------------------------------------------ applications

    def create_application(self, token: Token, props: dict[str, Any]) -> tuple[Application, bool]:
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
        app = Application(app_id, user, values["userAgent"], values["endpointId"],
                          values["culture"], values.get("instanceId"), Channel(self.now))
        user.apps[app_id] = app
        self.apps[app_id] = app
        return app, True

    def application(self, token: Token, app_id: str) -> Application:
        self.expire_idle()
        app = self.apps.get(app_id)
        # Another user's application is reported exactly like a missing one.
        if app is None or app.user is not token.user:
            raise SimError(404, "NotFound", "ApplicationNotFound")
        return app

    def delete_application(self, app: Application) -> None:
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
            if app.channel.idle_for() > limit:
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

    # ------------------------------------------------------------------ events

    def emit(self, app: Application, sender_rel: str, sender_href: str, event: Event,
             priority: Priority = Priority.HIGH) -> None:
        if not app.deleted:
            app.channel.emit(PendingEvent(sender_rel, sender_href, event, priority))

    def emit_conversation_change(self, user: UserState, conv: Conversation,
                                 added: bool = False) -> None:
        """phoneAudio updated (sender conversation) and conversation added/updated, to every
        application of the user, each with its own hrefs."""
        for app in list(user.apps.values()):
            comm = f"{render.app_path(app)}/communication"
            conv_res = render.conversation(app, conv)
            assert conv_res.href is not None
            self.emit(app, "communication", comm, Event(
                "added" if added else "updated", Link("conversation", conv_res.href),
                embedded={"conversation": [conv_res]}))
            pa = render.phone_audio(app, conv)
            assert pa.href is not None
            self.emit(app, "conversation", conv_res.href,
                      Event("updated", Link("phoneAudio", pa.href), embedded={"phoneAudio": [pa]}))

    def emit_phone_audio_change(self, user: UserState, conv: Conversation) -> None:
        """phoneAudio updated (sender conversation) alone, to every application of the user."""
        for app in list(user.apps.values()):
            pa = render.phone_audio(app, conv)
            assert pa.href is not None
            self.emit(app, "conversation", render.conversation_path(app, conv),
                      Event("updated", Link("phoneAudio", pa.href), embedded={"phoneAudio": [pa]}))

    def emit_invitation(self, inv: Invitation, event_type: str) -> None:
        res = render.invitation(inv, self.scenario)
        assert res.href is not None
        comm = f"{render.app_path(inv.app)}/communication"
        self.emit(inv.app, "communication", comm, Event(
            event_type, Link("phoneAudioInvitation", res.href),
            status=inv.status if event_type == "completed" else None,
            reason=inv.reason if event_type == "completed" else None,
            embedded={"phoneAudioInvitation": [res]}))

    # ------------------------------------------------------------------ phone audio

    def phone_audio_input(self, token: Token, app: Application, rel: str,
                          props: dict[str, Any], needs_to: bool) -> dict[str, Any]:
        """Validate an add/continue/startPhoneAudio body; return normalised values."""
        if INITIATE_SCOPE not in token.scopes:
            raise SimError(403, "Forbidden", None,
                           f"The token does not carry the {INITIATE_SCOPE} scope.")
        self.check_fault(rel, app.user)
        extra = START_FIELDS if rel == "startPhoneAudio" else ()
        values = case_insensitive(props, ("operationId", "phoneNumber", "to", *extra))
        problems: dict[str, str] = {}
        for name in ("operationId", "phoneNumber", "to", *extra):
            value = values.get(name)
            if value is not None and not isinstance(value, str):
                problems[name] = "This parameter must be a string."
        op = values.get("operationId")
        if isinstance(op, str) and len(op) > MAX_OPERATION_ID:
            problems["operationId"] = f"The maximum length is {MAX_OPERATION_ID} characters."
        subject = values.get("subject")
        if isinstance(subject, str) and len(subject) > MAX_SUBJECT:
            problems["subject"] = f"The maximum length is {MAX_SUBJECT} characters."
        importance = values.get("importance")
        if isinstance(importance, str) and importance not in IMPORTANCE:
            problems["importance"] = "This parameter must be one of " + ", ".join(IMPORTANCE) + "."
        to = values.get("to")
        if needs_to:
            if to is None or (isinstance(to, str) and not to.strip()):
                problems["to"] = "This parameter is required."
            elif isinstance(to, str):
                try:
                    to = str(parse_sip_uri(to, allow_spaces=self.settings.lenient_uri_spacing))
                except ValueError as exc:
                    problems["to"] = str(exc)
        if problems:
            raise SimError(400, "BadRequest", "ParameterValidationFailure", parameters=problems)
        if not app.channel.live(self.settings.callback_grace):
            raise SimError(500, "ServiceFailure", "CallbackChannelError")
        # [infer] ucwa-protocol.md 1.7: the default is the number makeMeAvailable gave, else
        # the user's own.
        number = values.get("phoneNumber") or app.phone_number or app.user.spec.phone
        try:
            normalized = normalize_phone_number(
                number, app.user.spec.region, allow_spaces=self.settings.lenient_uri_spacing)
        except NormalizationError as exc:
            raise SimError(400, "BadRequest", "NormalizationFailed",
                           f"The phone normalization failed: {exc}") from None
        return {**values, "operationId": op, "phoneNumber": "tel:" + normalized, "to": to}

    def add_phone_audio(self, token: Token, app: Application, conv: Conversation,
                        props: dict[str, Any]) -> Invitation:
        values = self.phone_audio_input(token, app, "addPhoneAudio", props, needs_to=True)
        if conv.phone_audio_state != "Disconnected":
            raise SimError(409, "Conflict", "AlreadyExists",
                           "Phone audio is already connecting or connected in this "
                           "conversation.")
        return self._start(app, "addPhoneAudio", conv, values["to"], values, added=False)

    def continue_phone_audio(self, token: Token, app: Application, log: ConversationLog,
                             props: dict[str, Any]) -> Invitation:
        values = self.phone_audio_input(token, app, "continuePhoneAudio", props,
                                        needs_to=False)
        if log.call is not None and log.call.in_progress:
            raise SimError(409, "Conflict", "AlreadyExists",
                           "Phone audio is already being continued from this conversation log.")
        # [infer] The callee comes from the log: its first recipient, in a new conversation
        # that carries the log's subject and threadId.
        spec = log.spec
        conv = self._add_conversation(app.user, spec.subject, list(spec.recipients),
                                      spec.created, spec.importance, [])
        conv.thread_id = log.thread_id
        conv.from_log = log.id
        conv.ends_with_call = True
        conv.state = "Connecting"
        inv = self._start(app, "continuePhoneAudio", conv, spec.recipients[0], values,
                          added=True)
        log.call = inv
        return inv

    def start_phone_audio(self, token: Token, app: Application,
                          props: dict[str, Any]) -> Invitation:
        """startPhoneAudio: call-via-work in a new peer-to-peer conversation with ``to``."""
        values = self.phone_audio_input(token, app, "startPhoneAudio", props, needs_to=True)
        if app.available_modalities is not None and \
                "PhoneAudio" not in app.available_modalities:
            # startPhoneAudio_ref: 403 "Phone audio is not listed in the capabilities";
            # [infer] the capabilities are the supportedModalities of makeMeAvailable.
            raise SimError(403, "Forbidden", None,
                           "Phone audio is not listed in the capabilities.")
        conv = self._add_conversation(app.user, values.get("subject") or "",
                                      [values["to"]], _now_utc(),
                                      values.get("importance") or "Normal", [])
        if values.get("threadId"):
            conv.thread_id = values["threadId"]  # [infer] continues that thread
        conv.ends_with_call = True
        conv.state = "Connecting"
        return self._start(app, "startPhoneAudio", conv, values["to"], values, added=True)

    def _start(self, app: Application, kind: str, conv: Conversation, to: str,
               values: dict[str, Any], added: bool) -> Invitation:
        from ucwa_nb.sim.calls import run_call  # calls imports World for typing only

        inv_id = str(self._next_invitation)
        self._next_invitation += 1
        inv = Invitation(inv_id, app, kind, conv, to, values["phoneNumber"],
                         values["operationId"])
        app.invitations[inv_id] = inv
        conv.call = inv
        conv.phone_audio_state = "Connecting"
        conv.on_hold = False
        # started goes out before the 201 is written: clients must correlate by operationId.
        self.emit_invitation(inv, "started")
        self.emit_conversation_change(app.user, conv, added=added)
        inv.task = _create_task(run_call(self, inv))
        return inv

    def complete(self, inv: Invitation, status: str, state: str,
                 reason: Reason | None = None, accepted_by: str | None = None) -> None:
        if not inv.in_progress:
            return
        inv.status, inv.state, inv.reason, inv.accepted_by = status, state, reason, accepted_by
        conv = inv.conversation
        conv.phone_audio_state = "Connected" if status == "Success" else "Disconnected"
        if status == "Success":
            conv.state = "Connected"
            if accepted_by is not None and accepted_by not in conv.participants:
                # [infer] who answered is now a participant of the conversation, so the
                # acceptedByParticipant resource can be fetched from its participants.
                conv.participants.append(accepted_by)
        elif conv.ends_with_call:
            conv.state = "Disconnected"
        self.emit_invitation(inv, "completed")
        self.emit_conversation_change(inv.app.user, conv)

    def cancel(self, inv: Invitation) -> None:
        if not inv.in_progress:
            raise SimError(409, "Conflict", None, "The invitation has already completed.")
        if inv.task is not None:
            inv.task.cancel()
        self.complete(inv, "Failure", "Cancelled",
                      Reason("LocalFailure", "Canceled", "The invitation was cancelled."))

    def stop_phone_audio(self, app: Application, conv: Conversation) -> None:
        if conv.phone_audio_state == "Disconnected":
            raise SimError(409, "Conflict", None, "There is no phone audio to stop.")
        inv = conv.call
        if inv is not None and inv.in_progress:
            self.cancel(inv)
            return
        conv.phone_audio_state = "Disconnected"
        conv.on_hold = False
        if conv.ends_with_call:
            conv.state = "Disconnected"
        self.emit_conversation_change(app.user, conv)

    def hold_phone_audio(self, app: Application, conv: Conversation, hold: bool) -> None:
        """holdPhoneAudio / resumePhoneAudio: 204, then phoneAudio updated.

        [infer] CallState (Connected, Connecting, Disconnected, Disconnecting, Transferring)
        has no held member, so ``state`` stays Connected; what changes are the capability
        links: resumePhoneAudio instead of holdPhoneAudio while held (phoneAudio_ref: "updated
        whenever the state and capabilities of the modality change")."""
        rel = "holdPhoneAudio" if hold else "resumePhoneAudio"
        self.check_fault(rel, app.user)
        if conv.phone_audio_state != "Connected":
            raise SimError(409, "Conflict", None, "There is no connected phone call.")
        if conv.on_hold == hold:
            raise SimError(409, "Conflict", None, "The phone call is already "
                           + ("on hold." if hold else "off hold."))
        conv.on_hold = hold
        self.emit_phone_audio_change(app.user, conv)

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


def _now_utc() -> datetime:
    return datetime.now(UTC)


def _create_task(coro: Any) -> Any:
    import asyncio

    return asyncio.get_running_loop().create_task(coro)


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
