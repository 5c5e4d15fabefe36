"""The application's lifetime: created after sign-in, re-created when it expired, deleted at
close (ucwa-protocol.md 1.5)."""

from __future__ import annotations

import contextlib
import uuid

import httpx

from ucwa_nb.client.errors import UcwaError
from ucwa_nb.client.hooks import absolute
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.pacing import Pacing
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.protocol.representation import (
    ParseError,
    Resource,
    build_input,
    media_type,
    parse,
)

__all__ = ["ApplicationLifetime"]


class ApplicationLifetime:
    def __init__(self, navigator: Navigator, preferences: Preferences,
                 user_agent: str = "ucwa-nb") -> None:
        self._navigator = navigator
        self._preferences = preferences
        self.user_agent = user_agent
        # Kept across re-creations: the server knows the endpoint again.
        self.endpoint_id = str(uuid.uuid4())
        self.applications_url: str | None = None  # from the user resource, at sign-in
        self.resource: Resource | None = None

    @property
    def url(self) -> str | None:
        return self.resource.href if self.resource is not None else None

    def create(self, pacing: Pacing | None = None) -> Resource:
        """POST applications; the answer is the new application. With ``pacing``, a 429
        with Retry-After is waited out within its deadline (pacing.py)."""
        if self.applications_url is None:
            raise RuntimeError("sign in first")
        fmt = self._preferences.format
        body = build_input({"userAgent": self.user_agent, "endpointId": self.endpoint_id,
                            "culture": "en-US"}, fmt)
        while True:
            response = self._navigator.request(
                "POST", self.applications_url, rel="applications", content=body,
                content_type=media_type(fmt), raise_errors=False)
            if pacing is None or not pacing.wait(response, "creating the application"):
                break
        if response.status_code >= 400:
            redact = self._navigator.hooks.log.redactor.text
            error = UcwaError.from_response(response, redact)
            if response.status_code == 429 and pacing is not None and pacing.refused:
                error = UcwaError(error.status, error.code, error.subcode, pacing.refused,
                                  error.parameters, error.diagnostics, error.method, error.url,
                                  redact)
            raise error
        try:
            app: object = parse(response.content, response.headers.get("content-type"))
        except ParseError:
            app = None
        if not isinstance(app, Resource) or app.href is None:
            raise UcwaError(response.status_code, "UnexpectedBody",
                            message="applications did not answer an application")
        app.href = absolute(app.href, response)
        trust = self._navigator.trust
        if trust is not None:  # from now on the token goes to the application's origin only
            trust.only_token(self.applications_url, app.href)
        self.resource = app
        return app

    def events_href(self) -> str:
        """Where the event channel starts: the application's events link."""
        href = self._navigator.link(self.current(), "events")
        if href is None:
            raise UcwaError(0, "LinkNotOffered", message="the application has no events link")
        return href

    def current(self) -> Resource:
        if self.resource is None:
            raise RuntimeError("no application")
        return self.resource

    def communication(self) -> Resource:
        """The application's embedded communication resource, with an absolute href."""
        app = self.current()
        comm = app.embedded_one("communication")
        if comm is None or comm.href is None:
            raise UcwaError(0, "LinkNotOffered", message="no communication resource")
        return Resource(comm.rel, absolute(comm.href, app.href or ""), comm.properties,
                        comm.links, comm.embedded)

    def delete(self) -> None:
        """Sign out: DELETE the application (which also releases its parked event poll)."""
        if self.url is not None:
            with contextlib.suppress(httpx.HTTPError):
                self._navigator.request("DELETE", self.url, rel="application",
                                        raise_errors=False, timeout=5.0)
