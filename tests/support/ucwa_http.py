"""A tiny UCWA test client over plain httpx, for the simulator's tests only.

It is deliberately not the project's client library: it signs in the way the protocol brief
describes (ucwa-protocol.md section 1), navigates only by the link rels the server hands out,
and reads and writes bodies with ``ucwa_nb.parse`` / ``ucwa_nb.protocol.build_input``. Every network
call has a timeout and every wait is bounded, so a misbehaving server fails a test instead of
hanging it.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ucwa_nb import parse
from ucwa_nb.protocol import Event, Events, Reason, Resource, Sender, build_input

Format = Literal["json", "xml"]

ACCEPT = {"json": "application/json", "xml": "application/vnd.microsoft.com.ucwa+xml"}
CONTENT_TYPE = {"json": "application/json", "xml": "application/xml"}
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The collector's long poll is released by the server after this many seconds at most, so
# its HTTP read timeout must be longer.
POLL_TIMEOUT = 5.0
_CHALLENGE = re.compile(
    r'MsRtcOAuth\s+href="?(?P<href>[^",]+)"?\s*,\s*grant_type="(?P<grants>[^"]*)"')

DEMO_PASSWORDS = {
    "alice@contoso.com": "ucwa-demo",
    "bob@contoso.com": "ucwa-demo-bob",
    "guest@contoso.com": "ucwa-demo-guest",
}


class ProtocolError(AssertionError):
    """The server answered something the test did not expect."""


def body_of(response: httpx.Response) -> Resource | Events | Reason:
    """Parse a UCWA body with the project's parser, by the response's Content-Type."""
    return parse(response.content, response.headers.get("content-type"))


def reason_of(response: httpx.Response) -> Reason:
    parsed = body_of(response)
    if not isinstance(parsed, Reason):
        raise ProtocolError(f"expected an error body, got {parsed!r}")
    return parsed


def resource_of(response: httpx.Response) -> Resource:
    if response.status_code != 200:
        raise ProtocolError(f"{response.request.method} {response.request.url} -> "
                            f"{response.status_code}: {response.text[:500]}")
    parsed = body_of(response)
    if not isinstance(parsed, Resource):
        raise ProtocolError(f"expected a resource, got {parsed!r}")
    return parsed


def events_of(response: httpx.Response) -> Events:
    if response.status_code != 200:
        raise ProtocolError(f"event poll -> {response.status_code}: {response.text[:500]}")
    parsed = body_of(response)
    if not isinstance(parsed, Events):
        raise ProtocolError(f"expected an event batch, got {parsed!r}")
    return parsed


def with_params(href: str, **params: Any) -> str:
    """Add query parameters to a server-given href with a URL builder, keeping its own."""
    url = httpx.URL(href).copy_merge_params({k: str(v) for k, v in params.items()})
    return str(url)


def token_url_from_challenge(response: httpx.Response) -> tuple[str, list[str]]:
    """The token endpoint and grant types from a 401's MsRtcOAuth WWW-Authenticate header."""
    for header in response.headers.get_list("www-authenticate"):
        match = _CHALLENGE.search(header)
        if match:
            return match["href"], match["grants"].split(",")
    raise ProtocolError(f"no MsRtcOAuth challenge in {response.headers!r}")


@dataclass
class Session:
    """One signed-in application: its httpx client, its format and its resources."""

    base_url: str
    client: httpx.Client
    fmt: Format
    token: str
    user: Resource
    application: Resource
    collector: EventCollector | None = None
    closed: bool = False

    # ---------------------------------------------------------------- plain HTTP

    def get(self, href: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(href, **kwargs)

    def post(self, href: str, props: dict[str, Any] | None = None, *,
             content: bytes | None = None, content_type: str | None = None,
             fmt: Format | None = None, **kwargs: Any) -> httpx.Response:
        """POST input properties (built in ``fmt``, default the session's) or raw bytes."""
        fmt = fmt or self.fmt
        if content is None and props is not None:
            content = build_input(props, fmt)
        headers = dict(kwargs.pop("headers", {}))
        if content is not None:
            headers.setdefault("Content-Type", content_type or CONTENT_TYPE[fmt])
        return self.client.post(href, content=content, headers=headers, **kwargs)

    def resource(self, href: str) -> Resource:
        return resource_of(self.get(href))

    def follow(self, resource: Resource, rel: str) -> Resource:
        return self.resource(self.href(resource, rel))

    @staticmethod
    def href(resource: Resource, rel: str) -> str:
        link = resource.link(rel)
        if link is None:
            raise ProtocolError(f"{resource.rel} has no {rel!r} link; it has "
                                f"{sorted(resource.links)}")
        return link.href

    # ---------------------------------------------------------------- navigation

    @property
    def app_href(self) -> str:
        assert self.application.href is not None
        return self.application.href

    @property
    def events_href(self) -> str:
        return self.href(self.application, "events")

    def communication(self) -> Resource:
        embedded = self.application.embedded_one("communication")
        if embedded is None:
            raise ProtocolError("the application embeds no communication")
        assert embedded.href is not None
        return self.resource(embedded.href)

    def conversations(self) -> list[Resource]:
        listing = self.follow(self.communication(), "conversations")
        return [self.resource(link.href) for link in listing.links.get("conversation", [])]

    def conversation(self, subject: str) -> Resource:
        for conv in self.conversations():
            if conv.get("subject") == subject:
                return conv
        raise ProtocolError(f"no conversation with subject {subject!r}")

    def phone_audio(self, subject: str) -> Resource:
        return self.follow(self.conversation(subject), "phoneAudio")

    def conversation_logs(self) -> list[Resource]:
        listing = self.follow(self.communication(), "conversationLogs")
        return [self.resource(link.href) for link in listing.links.get("conversationLog", [])]

    def conversation_log(self, subject: str) -> Resource:
        for log in self.conversation_logs():
            if log.get("subject") == subject:
                return log
        raise ProtocolError(f"no conversation log with subject {subject!r}")

    # ---------------------------------------------------------------- operations

    def add_phone_audio(self, subject: str, props: dict[str, Any],
                        fmt: Format | None = None) -> httpx.Response:
        return self.post(self.href(self.phone_audio(subject), "addPhoneAudio"), props, fmt=fmt)

    def continue_phone_audio(self, subject: str, props: dict[str, Any],
                             fmt: Format | None = None) -> httpx.Response:
        log = self.conversation_log(subject)
        return self.post(self.href(log, "continuePhoneAudio"), props, fmt=fmt)

    # ---------------------------------------------------------------- events

    def collect(self, sim: Any | None = None, poll_timeout: float = POLL_TIMEOUT) -> EventCollector:
        """Start polling the event channel in the background (once per session)."""
        if self.collector is None:
            self.collector = EventCollector(self, poll_timeout)
            self.collector.start(sim)
        return self.collector

    def close(self) -> None:
        """Stop the collector (deleting the application releases its parked poll at once)
        and close the HTTP clients. Safe to call twice, and after the server stopped."""
        if self.closed:
            return
        self.closed = True
        collector = self.collector
        if collector is not None:
            collector.stopping.set()
        with contextlib.suppress(httpx.HTTPError):
            self.client.delete(self.app_href, timeout=2.0)
        if collector is not None:
            collector.join(POLL_TIMEOUT + 5)
            collector.client.close()
        self.client.close()


# Building an SSL context costs tens of milliseconds and every httpx.Client builds one; the
# simulator speaks plain HTTP, so all test clients share a single context.
_SSL_CONTEXT = ssl.create_default_context()


def new_client(base_url: str = "", fmt: Format = "json", token: str | None = None,
               timeout: httpx.Timeout = HTTP_TIMEOUT) -> httpx.Client:
    headers = {"Accept": ACCEPT[fmt]}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout,
                        follow_redirects=False, trust_env=False, verify=_SSL_CONTEXT)


def discover_token_url(sim: Any, fmt: Format = "json") -> tuple[str, str]:
    """Autodiscover root -> user -> 401 challenge; returns (user href, token endpoint)."""
    with new_client(sim.base_url, fmt) as client:
        root = resource_of(client.get(sim.url))
        user_href = Session.href(root, "user")
        challenge = client.get(user_href)
        if challenge.status_code != 401:
            raise ProtocolError(f"GET user without a token -> {challenge.status_code}")
        token_url, _ = token_url_from_challenge(challenge)
        return user_href, token_url


def request_token(sim: Any, username: str, password: str) -> str:
    _, token_url = discover_token_url(sim)
    with new_client() as client:
        response = client.post(token_url, data={
            "grant_type": "password", "username": username, "password": password})
    if response.status_code != 200:
        raise ProtocolError(f"token request -> {response.status_code}: {response.text}")
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def sign_in(sim: Any, user: str = "alice@contoso.com", password: str | None = None,
            fmt: Format = "json", *, endpoint_id: str = "test-endpoint",
            app_props: dict[str, Any] | None = None) -> Session:
    """The whole sign-in of ucwa-protocol.md 1.1, up to a created application."""
    password = password if password is not None else DEMO_PASSWORDS[user]
    token = request_token(sim, user, password)
    client = new_client(sim.base_url, fmt, token)
    try:
        root = resource_of(client.get(sim.url))
        user_res = resource_of(client.get(Session.href(root, "user")))
        props = app_props if app_props is not None else {
            "userAgent": "ucwa-nb-tests/1.0", "endpointId": endpoint_id, "culture": "en-US"}
        response = client.post(Session.href(user_res, "applications"),
                               content=build_input(props, fmt),
                               headers={"Content-Type": CONTENT_TYPE[fmt]})
        if response.status_code != 201:
            raise ProtocolError(f"POST applications -> {response.status_code}: {response.text}")
        application = body_of(response)
        assert isinstance(application, Resource)
    except BaseException:
        client.close()
        raise
    return Session(sim.base_url, client, fmt, token, user_res, application)


# ------------------------------------------------------------------------- events


def is_parked(sim: Any, session: Session) -> bool:
    """Does the server hold a poll of this application right now? (read on the server loop)"""
    app_id = str(session.application.get("id"))

    def parked() -> bool:
        app = sim.world.apps.get(app_id)
        return app is not None and app.channel.parked is not None

    return bool(sim.call(parked))


def wait_parked(sim: Any, session: Session, timeout: float = 5.0,
                alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while not is_parked(sim, session):
        if time.monotonic() > deadline or not alive():
            raise ProtocolError("the event poll never parked")
        time.sleep(0.01)


class Background:
    """Run one blocking request in a thread; ``result`` waits for it, bounded."""

    def __init__(self, fn: Callable[[], httpx.Response]) -> None:
        self._fn = fn
        self._response: httpx.Response | None = None
        self._error: BaseException | None = None
        self.started_at = time.monotonic()
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._response = self._fn()
        except BaseException as exc:  # re-raised in the test's thread by result()
            self._error = exc
        finally:
            self.finished_at = time.monotonic()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    @property
    def elapsed(self) -> float:
        assert self.finished_at is not None
        return self.finished_at - self.started_at

    def result(self, timeout: float = 10.0) -> httpx.Response:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ProtocolError(f"the request did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response


def operation_id_of(event: Event) -> str | None:
    resource = event.resource
    return None if resource is None else resource.get("operationId")


@dataclass
class Batch:
    href: str
    events: Events
    received_at: float


@dataclass
class EventCollector:
    """Polls the application's event channel in a background thread and records everything.

    Follows ``next`` (or ``resync``) as the protocol says; stops on 404 (application gone),
    503 (server stopping), 409 (replaced by another poll) or a transport error, and records
    why in ``ended_with``.
    """

    session: Session
    poll_timeout: float = POLL_TIMEOUT
    batches: list[Batch] = field(default_factory=list)
    events: list[tuple[Sender, Event]] = field(default_factory=list)
    ended_with: str | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"ucwa-test-events-{self.session.app_href}")
        self.client = new_client(self.session.base_url, self.session.fmt, self.session.token,
                                 httpx.Timeout(self.poll_timeout + 10.0, connect=5.0))

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self, sim: Any | None = None) -> None:
        self._thread.start()
        if sim is not None:
            self.wait_parked(sim)

    def wait_parked(self, sim: Any, timeout: float = 5.0) -> None:
        """Block until the server holds this application's poll (a live event channel)."""
        wait_parked(sim, self.session, timeout, alive=lambda: self.running)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        # An exception escaping a thread would surface as a warning (an error under
        # filterwarnings=error) in whichever test runs then; record it here instead.
        try:
            self._loop()
        except Exception as exc:
            self._end(f"error: {exc!r}")

    def _loop(self) -> None:
        href = self.session.events_href
        while not self.stopping.is_set():
            try:
                response = self.client.get(with_params(href, timeout=self.poll_timeout))
            except httpx.HTTPError as exc:
                self._end(f"transport: {type(exc).__name__}")
                return
            if response.status_code != 200:
                try:
                    reason = reason_of(response)
                    why = f"{response.status_code} {reason.code}/{reason.subcode}"
                except Exception:
                    why = f"{response.status_code}"
                self._end(why)
                return
            batch = events_of(response)
            with self._cond:
                self.batches.append(Batch(href, batch, time.monotonic()))
                self.events.extend(batch.all_events())
                self._cond.notify_all()
            next_href = batch.href("next") or batch.href("resync")
            if next_href is None:
                self._end("no next link")
                return
            href = next_href

    def _end(self, why: str) -> None:
        with self._cond:
            self.ended_with = why
            self._cond.notify_all()

    # ---------------------------------------------------------------- queries

    def snapshot(self) -> list[tuple[Sender, Event]]:
        with self._cond:
            return list(self.events)

    def wait_for(self, predicate: Callable[[list[tuple[Sender, Event]]], bool],
                 timeout: float = 10.0) -> list[tuple[Sender, Event]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.events):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.ended_with is not None:
                    raise ProtocolError(
                        f"timed out waiting for events (ended: {self.ended_with}); got "
                        f"{[(s.rel, e.type, e.link.rel) for s, e in self.events]}")
                self._cond.wait(min(remaining, 0.5))
            return list(self.events)

    def for_operation(self, operation_id: str) -> list[Event]:
        """Every invitation event about one operation, in the order received."""
        return [e for _, e in self.snapshot()
                if e.link.rel == "phoneAudioInvitation" and operation_id_of(e) == operation_id]

    def wait_completed(self, operation_id: str, timeout: float = 10.0) -> Event:
        def done(events: list[tuple[Sender, Event]]) -> bool:
            return any(e.type == "completed" and operation_id_of(e) == operation_id
                       for _, e in events)

        self.wait_for(done, timeout)
        return next(e for e in self.for_operation(operation_id) if e.type == "completed")
