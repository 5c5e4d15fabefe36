"""The applications (ApplicationDashboard: one per device of a user) and their lifetime:
created (or found again), looked up by id for a request, retired when they are too many or
idle for ``application_expiry`` (410 Gone from then on), deleted; and the conversations each
starts with.

One of the World's parts (``world.py``).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ucwa_nb.sim.channel import Channel
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules.accounts import thread_id
from ucwa_nb.sim.rules.operation_input import case_insensitive
from ucwa_nb.sim.scenario import ServerSettings
from ucwa_nb.sim.state import ApplicationState, ConversationState, TokenState

__all__ = ["MAX_APP_FIELD", "RETIRED_KEPT", "Applications"]

MAX_APP_FIELD = 100
# Applications retired (TooManyApplications, InactiveApplicationExpired), remembered so that
# their next request is answered 410 rather than 404; the oldest are forgotten beyond this many.
RETIRED_KEPT = 4096


class Applications:
    """Every live application by id, and the retired ones' ids."""

    def __init__(self, settings: ServerSettings, now: Callable[[], float]) -> None:
        self.settings = settings
        self.now = now
        self.apps: dict[str, ApplicationState] = {}
        # Retired application id -> (its user's key, the 410 subcode it answers).
        self.retired: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._next_app = 101

    def create(self, token: TokenState,
               props: dict[str, Any]) -> tuple[ApplicationState, bool]:
        """POST applications: the application of these ids, made now (True) or found."""
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
            self.retire(min(user.apps.values(), key=lambda a: a.channel.last_activity),
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

    def add_conversation(self, app: ApplicationState, subject: str, participants: list[str],
                         created: Any, importance: str = "Normal",
                         modalities: list[str] | None = None) -> ConversationState:
        """A new conversation of ``app``, numbered after its others."""
        conv_id = f"{app.next_conversation}"
        app.next_conversation += 1
        # The thread id does not name the application: the scenario's conversations are the
        # same threads on each of the user's devices.
        conv = ConversationState(conv_id, subject, participants, created,
                                 thread_id(app.user.spec.uri, "conversation", conv_id,
                                           subject),
                                 importance,
                                 modalities=["Messaging"] if modalities is None else modalities)
        app.conversations[conv_id] = conv
        return conv

    def retire(self, app: ApplicationState, subcode: str) -> None:
        """Delete ``app``; its next request is answered 410 Gone with ``subcode``."""
        self.delete(app)
        self.retired[app.id] = (app.user.key, subcode)
        while len(self.retired) > RETIRED_KEPT:
            self.retired.popitem(last=False)

    def get(self, token: TokenState, app_id: str) -> ApplicationState:
        """The application a request of ``token`` names (kept alive by it), or the error."""
        app = self.apps.get(app_id)
        # Only the application asked for: the lifespan's sweeper expires the others, so no
        # request pays for a scan of every application on the server.
        if app is not None and self._idle_for(app) > self.settings.application_expiry:
            # GenericSynchronousErrors: "InactiveApplicationExpired | An inactive application
            # expired." (410 Gone, ApplicationDashboard); 404 stays for ids never seen.
            self.retire(app, "InactiveApplicationExpired")
            app = None
        if app is not None and app.overflowed:
            self.retire(app, "InactiveApplicationExpired")
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

    def delete(self, app: ApplicationState) -> None:
        """DELETE application (or its retirement): its poll answered, its calls stopped."""
        app.deleted = True
        app.channel.close()
        for inv in list(app.invitations.values()):
            if inv.task is not None:
                inv.task.cancel()
        self.apps.pop(app.id, None)
        app.user.apps.pop(app.id, None)

    def expire_idle(self) -> None:
        """Retire every application idle beyond ``application_expiry`` (the sweeper)."""
        limit = self.settings.application_expiry
        for app in list(self.apps.values()):
            if app.overflowed or self._idle_for(app) > limit:
                self.retire(app, "InactiveApplicationExpired")
