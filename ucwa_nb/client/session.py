"""Session: sign in to a UCWA server, follow links, place phone-audio calls, log everything.

Navigation is by link rel only; URLs are never built by hand, and query strings the server put
in a link are kept. Every exchange goes through ``Session._request`` or the httpx event hooks
installed on ``http_client``, so raw calls of the user's own are logged too.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.channel import EventChannel
from ucwa_nb.client.discovery import candidate_roots, parse_challenge, same_domain
from ucwa_nb.client.errors import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.client.tls import Verify, ssl_verify
from ucwa_nb.client.views import Conversation, ConversationLog, Participant
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.protocol.representation import (
    Events,
    Format,
    ParseError,
    Resource,
    Sender,
    build_events,
    build_input,
    format_of,
    media_type,
    parse,
)
from ucwa_nb.protocol.rules import check_phone_audio_input

__all__ = ["PreparedCall", "Session", "connect"]

_HOOK_KEY = "ucwa_nb"
_embedded_lock = threading.Lock()
_embedded: Any = None  # the Simulator started by connect() with no URL, reused afterwards


def embedded_simulator() -> Any:
    """The simulator that ``connect()`` uses when given no URL (started on first use)."""
    global _embedded
    from ucwa_nb.sim import Simulator

    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            _embedded = Simulator()
        return _embedded


@dataclass
class PreparedCall:
    """The exact request that ``send()`` will make: for previews, snippets and sending."""

    session: Session
    kind: Literal["addPhoneAudio", "continuePhoneAudio"]
    url: str
    body: bytes
    format: Format
    operation_id: str
    target: str | None
    problems: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def headers(self) -> dict[str, str]:
        """Headers as sent, with the token redacted."""
        return {
            "Authorization": f"Bearer {REDACTED}",
            "Content-Type": media_type(self.format),
            "Accept": media_type(self.format),
        }

    def curl(self) -> str:
        body = self.body.decode().replace("'", "'\\''")
        return (f"curl -i -X {self.method} '{self.url}' \\\n"
                f"  -H 'Authorization: Bearer $UCWA_TOKEN' \\\n"
                f"  -H 'Content-Type: {media_type(self.format)}' \\\n"
                f"  -H 'Accept: {media_type(self.format)}' \\\n"
                f"  --data-binary '{body}'")

    def python(self) -> str:
        return (
            "import os, httpx\n"
            f"response = httpx.post(\n    {self.url!r},\n"
            "    headers={\"Authorization\": \"Bearer \" + os.environ[\"UCWA_TOKEN\"],\n"
            f"             \"Content-Type\": {media_type(self.format)!r},\n"
            f"             \"Accept\": {media_type(self.format)!r}}},\n"
            f"    content={self.body.decode()!r},\n)\n"
            "print(response.status_code, response.headers.get(\"location\"))")

    def send(self) -> PhoneAudioCall:
        return self.session._send_call(self)


class Session:
    """A signed-in UCWA application. Create one with ``ucwa_nb.connect()``."""

    def __init__(self, http_client: httpx.Client, *, log: ExchangeLog | None = None,
                 format: Format = "json", region: str = "US", user_agent: str = "ucwa-nb",
                 clock: Callable[[], datetime] | None = None,
                 operation_ids: Callable[[], str] | None = None,
                 poll_timeout: float = 180.0, simulator: Any = None) -> None:
        if format not in ("json", "xml"):
            raise ValueError("format must be 'json' or 'xml'")
        self.http_client = http_client
        self.log = log if log is not None else ExchangeLog(clock=clock)
        self.format: Format = format
        self.region = region
        self.user_agent = user_agent
        self.endpoint_id = str(uuid.uuid4())
        self.simulator = simulator
        self._clock = clock or (lambda: datetime.now(UTC))
        self._operation_ids = operation_ids or (lambda: uuid.uuid4().hex)
        self._poll_timeout = poll_timeout
        self._calls: dict[str, PhoneAudioCall] = {}
        self._calls_lock = threading.Lock()
        self._link_cache: dict[str, str] = {}
        self.applications_url: str | None = None
        self.application: Resource | None = None
        self.application_url: str | None = None
        self.events: EventChannel | None = None
        self.closed = False
        self._owns_client = False  # connect() made http_client: close() closes it too
        http_client.event_hooks = {
            "request": [*http_client.event_hooks.get("request", []), self._on_request],
            "response": [*http_client.event_hooks.get("response", []), self._on_response],
        }

    # ------------------------------------------------------------------ logging hooks

    @property
    def event_accept(self) -> str:
        # XML events need the vendor media type (ucwa-protocol.md 2.1).
        return media_type(self.format, vendor=self.format == "xml")

    def _on_request(self, request: httpx.Request) -> None:
        meta = request.extensions.get(_HOOK_KEY)
        if not isinstance(meta, dict):
            meta = {"rel": None, "operation_id": None}
            request.extensions[_HOOK_KEY] = meta
        meta["t0"] = time.perf_counter()
        meta["time"] = self._clock()

    def _on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        meta = request.extensions.get(_HOOK_KEY) or {}
        elapsed = (time.perf_counter() - meta.get("t0", time.perf_counter())) * 1000
        code = subcode = None
        if response.status_code >= 400:
            error = UcwaError.from_response(response)
            code, subcode = error.code, error.subcode
        fmt = format_of(request.headers.get("content-type")) or \
            format_of(response.headers.get("content-type"))
        # Absolute, like call.location and the event rows' location (the event's href), so
        # that df.location == call.location finds the POST and every event about it.
        location = response.headers.get("location")
        if location:
            location = meta["location"] = self._absolute(location, response)
        self.log.record_http(
            method=request.method, url=str(request.url), status=response.status_code,
            request_headers=request.headers, request_body=request.content,
            response_headers=response.headers, response_body=response.content,
            elapsed_ms=elapsed, rel=meta.get("rel"), operation_id=meta.get("operation_id"),
            format=fmt, code=code, subcode=subcode,
            location=location, time=meta.get("time"),
            http_version=response.http_version)

    def _request(self, method: str, url: str, *, rel: str | None,
                 operation_id: str | None = None, content: bytes | None = None,
                 content_type: str | None = None, accept: str | None = None,
                 params: Mapping[str, str] | None = None, data: Mapping[str, str] | None = None,
                 timeout: httpx.Timeout | float | None = None, raise_errors: bool = True,
                 authenticate: bool = True, follow_redirects: bool | None = None,
                 ) -> httpx.Response:
        headers = {"Accept": accept or media_type(self.format)}
        if content_type:
            headers["Content-Type"] = content_type
        request_url = httpx.URL(url)
        if params:
            request_url = request_url.copy_merge_params(dict(params))
        request = self.http_client.build_request(
            method, request_url, content=content, data=data, headers=headers,
            extensions={_HOOK_KEY: {"rel": rel, "operation_id": operation_id}},
            timeout=timeout if timeout is not None else self.http_client.timeout)
        if not authenticate:
            request.headers.pop("Authorization", None)
        started = time.perf_counter()
        try:
            # follow_redirects=False overrides a caller's client that follows redirects:
            # discovery and sign-in follow one only after the same-domain check.
            response = self.http_client.send(request) if follow_redirects is None else \
                self.http_client.send(request, follow_redirects=follow_redirects)
        except httpx.HTTPError as exc:
            self.log.record_http(
                method=method, url=str(request.url), status=None,
                request_headers=request.headers, request_body=request.content,
                response_headers={}, response_body=b"",
                elapsed_ms=(time.perf_counter() - started) * 1000, rel=rel,
                operation_id=operation_id, format=format_of(content_type),
                error=f"{type(exc).__name__}: {exc}")
            if isinstance(exc, httpx.TransportError):
                # httpx says "[Errno 111] Connection refused" and no more: name the request
                # (no query, like UcwaError; a URL never holds the token) and, when the
                # event channel fails too, since when the server has been unreachable.
                raise type(exc)(f"{str(exc) or type(exc).__name__} ({method} "
                                f"{request.url.copy_with(query=None)}{self._channel_hint()})",
                                request=request) from exc
            raise
        if raise_errors and response.status_code >= 400:
            raise UcwaError.from_response(response)
        return response

    def _channel_hint(self) -> str:
        channel = self.events
        if channel is None or threading.current_thread() is channel._thread or \
                channel.failing_since is None:
            return ""
        return (f"; no event poll has been answered since {channel.failing_since:%H:%M:%S} "
                f"UTC, {channel.failures_in_a_row} failed in a row")

    # ------------------------------------------------------------------ navigation

    def _absolute(self, href: str, base: httpx.Response | str) -> str:
        # urljoin (RFC 3986) rather than httpx.URL.join: the same result for UCWA's hrefs at
        # a tenth of the cost (~8 us against ~70 us), and it runs several times per call.
        return urljoin(str(base.url) if isinstance(base, httpx.Response) else base, href)

    def _get(self, url: str, rel: str | None) -> Resource:
        response = self._request("GET", url, rel=rel)
        parsed = parse(response.content, response.headers.get("content-type"))
        if not isinstance(parsed, Resource):
            raise UcwaError(response.status_code, "UnexpectedBody",
                            message=f"{rel} did not answer a resource", url=url)
        # Remember every link by rel and resource, so stale-link sends stay possible.
        for link_rel, links in parsed.links.items():
            if links and parsed.href:
                self._link_cache[f"{self._absolute(parsed.href, response)}#{link_rel}"] = \
                    self._absolute(links[0].href, response)
        if parsed.href:
            parsed.href = self._absolute(parsed.href, response)
        return parsed

    def _follow(self, resource: Resource, rel: str) -> Resource:
        link = resource.link(rel)
        if link is None:
            raise UcwaError(0, "LinkNotOffered",
                            message=f"{resource.rel} offers no {rel!r} link right now")
        return self._get(self._absolute(link.href, resource.href or ""), rel)

    def _link(self, resource: Resource, rel: str) -> str | None:
        link = resource.link(rel)
        return self._absolute(link.href, resource.href or "") if link else None

    # ------------------------------------------------------------------ sign-in

    def sign_in(self, url: str, *, username: str | None, password: str | None,
                token: str | None) -> None:
        """Discovery (a root URL or a domain), the OAuth token, and the user resource."""
        root_url = url if "://" in url else self._discover(url)
        try:
            root = self._get(root_url, "root")
        except ParseError as exc:  # an HTML page or other non-UCWA answer: say which step
            raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root ({exc})") \
                from None
        user_url = self._link(root, "user")
        if user_url is None:
            raise DiscoveryError(f"{root_url} is not a UCWA autodiscover root (no user link)")
        if token is None:
            if not username or not password:
                raise DiscoveryError("sign-in needs username and password, or token")
            token = self._password_grant(user_url, username, password)
        self.log.add_secret(token)
        bare = token.removeprefix("Bearer ").strip()
        self.log.add_secret(bare)
        self.http_client.headers["Authorization"] = f"Bearer {bare}"
        user = self._get(user_url, "user")
        redirect = self._link(user, "redirect")
        if redirect is not None and user.link("applications") is None:
            user = self._get(redirect, "redirect")
        self.applications_url = self._link(user, "applications")
        if self.applications_url is None:
            raise DiscoveryError("the user resource offers no applications link")

    def _discover(self, domain: str) -> str:
        tried = []
        for candidate in candidate_roots(domain):
            try:
                response = self._request("GET", candidate, rel="autodiscover",
                                         raise_errors=False, authenticate=False,
                                         follow_redirects=False)
            except httpx.HTTPError as exc:
                tried.append(f"{candidate}: {type(exc).__name__}")
                continue
            if response.is_redirect:
                target = response.headers.get("location", "")
                target = self._absolute(target, response)
                if not same_domain(target, domain):
                    tried.append(f"{candidate}: redirect to another domain refused ({target})")
                    continue
                return target
            if response.status_code == 200:
                try:
                    root = parse(response.content, response.headers.get("content-type"))
                except ParseError:
                    tried.append(f"{candidate}: not a UCWA answer")
                    continue
                if isinstance(root, Resource):
                    redirect = root.link("redirect")
                    if redirect is not None and root.link("user") is None:
                        target = self._absolute(redirect.href, response)
                        if not same_domain(target, domain):
                            tried.append(f"{candidate}: redirect link to another domain refused")
                            continue
                        return target
                    return str(response.url)
            tried.append(f"{candidate}: HTTP {response.status_code}")
        raise DiscoveryError(f"no UCWA server found for {domain}: " + "; ".join(tried))

    def _password_grant(self, user_url: str, username: str, password: str) -> str:
        self.log.add_secret(password)
        response = self._request("GET", user_url, rel="user", raise_errors=False,
                                 authenticate=False, follow_redirects=False)
        if response.status_code != 401:
            raise DiscoveryError(f"the user resource answered {response.status_code}, "
                                 "not the expected 401 challenge")
        challenge = parse_challenge(response.headers.get_list("www-authenticate"))
        if challenge is None:
            raise DiscoveryError("the 401 carries no MsRtcOAuth challenge with a token URL")
        if "password" not in challenge.grant_types:
            raise DiscoveryError("the server does not offer the password grant (it offers: "
                                 + ", ".join(challenge.grant_types) + ")")
        token_url = self._absolute(challenge.token_url, response)
        reply = self._request(
            "POST", token_url, rel="token", raise_errors=False, authenticate=False,
            follow_redirects=False,  # a 307 must not carry the password elsewhere
            data={"grant_type": "password", "username": username, "password": password})
        if reply.status_code != 200:
            error = UcwaError.from_response(reply)
            raise DiscoveryError(f"sign-in refused: {error.status} {error.message or error.code}"
                                 + (f" ({error.diagnostics})" if error.diagnostics else ""))
        try:
            token = reply.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            raise DiscoveryError("the token endpoint answered no access_token") from None
        return str(token)

    def create_application(self) -> Resource:
        if self.applications_url is None:
            raise RuntimeError("sign in first")
        body = build_input({"userAgent": self.user_agent, "endpointId": self.endpoint_id,
                            "culture": "en-US"}, self.format)
        response = self._request("POST", self.applications_url, rel="applications",
                                 content=body, content_type=media_type(self.format))
        app = parse(response.content, response.headers.get("content-type"))
        if not isinstance(app, Resource) or app.href is None:
            raise UcwaError(response.status_code, "UnexpectedBody",
                            message="applications did not answer an application")
        app.href = self._absolute(app.href, response)
        self.application = app
        self.application_url = app.href
        return app

    def start_events(self) -> None:
        self.events = EventChannel(self, self._events_href(), poll_timeout=self._poll_timeout)
        self.events.start()

    def _events_href(self) -> str:
        if self.application is None:
            raise RuntimeError("no application")
        href = self._link(self.application, "events")
        if href is None:
            raise UcwaError(0, "LinkNotOffered", message="the application has no events link")
        return href

    def _recreate_application(self) -> str:
        self.create_application()
        return self._events_href()

    # ------------------------------------------------------------------ resources

    @property
    def communication(self) -> Resource:
        if self.application is None:
            raise RuntimeError("no application")
        comm = self.application.embedded_one("communication")
        if comm is None or comm.href is None:
            raise UcwaError(0, "LinkNotOffered", message="no communication resource")
        return Resource(comm.rel, self._absolute(comm.href, self.application.href or ""),
                        comm.properties, comm.links, comm.embedded)

    @property
    def me(self) -> Resource | None:
        return self.application.embedded_one("me") if self.application else None

    @property
    def default_phone_number(self) -> str | None:
        comm = self.application.embedded_one("communication") if self.application else None
        number = comm.get("phoneNumber") if comm else None
        if not number and self.me is not None:
            number = self.me.get("workPhoneNumber")
        return str(number) if number else None

    def conversations(self) -> list[Conversation]:
        """The active conversations (addPhoneAudio needs one), with their participants."""
        collection = self._follow(self.communication, "conversations")
        found = []
        for link in collection.links.get("conversation", []):
            conv = self._get(self._absolute(link.href, collection.href or ""), "conversation")
            people: list[Participant] = []
            if conv.link("participants") is not None:
                listing = self._follow(conv, "participants")
                people = [Participant(str(p.get("name") or ""), str(p.get("uri") or ""))
                          for p in listing.embedded.get("participant", [])]
            found.append(Conversation(conv, people))
        return found

    def conversation_logs(self, limit: int | None = None) -> list[ConversationLog]:
        """Past conversations (continuePhoneAudio needs one), newest first."""
        link = self.communication.link("conversationLogs")
        if link is None:
            raise UcwaError(0, "LinkNotOffered", message="no conversationLogs link")
        url = self._absolute(link.href, self.communication.href or "")
        if limit is not None:
            url = str(httpx.URL(url).copy_merge_params({"limit": str(limit)}))
        collection = self._get(url, "conversationLogs")
        return [
            ConversationLog(self._get(self._absolute(item.href, collection.href or ""),
                                      "conversationLog"))
            for item in collection.links.get("conversationLog", [])
        ]

    # ------------------------------------------------------------------ phone audio

    def prepare_add_phone_audio(self, conversation: Conversation, to: str,
                                phone_number: str | None = None,
                                operation_id: str | None = None,
                                format: Format | None = None) -> PreparedCall:
        """The request addPhoneAudio would send, with any local validation problems."""
        conversation = self._current(conversation)
        phone_audio = self._follow(conversation.resource, "phoneAudio")
        url = self._link(phone_audio, "addPhoneAudio")
        problems = check_phone_audio_input(needs_to=True, to=to, phone_number=phone_number,
                                           operation_id=operation_id, region=self.region)
        if url is None:
            # The link is missing while phone audio is connecting or connected. Sending to the
            # link seen earlier is what a racing client would do, and shows 409 AlreadyExists.
            url = self._link_cache.get(f"{phone_audio.href}#addPhoneAudio")
            problems["conversation"] = (f"addPhoneAudio is not offered now (phone audio is "
                                        f"{phone_audio.get('state')})")
            if url is None:
                raise ValidationError(problems)
        return self._prepared("addPhoneAudio", url, to, phone_number, operation_id, format,
                              problems)

    def prepare_continue_phone_audio(self, conversation_log: ConversationLog,
                                     phone_number: str | None = None,
                                     operation_id: str | None = None,
                                     format: Format | None = None) -> PreparedCall:
        log = self._get(conversation_log.href, "conversationLog") if \
            conversation_log.resource.link("continuePhoneAudio") is None else \
            conversation_log.resource
        url = self._link(log, "continuePhoneAudio")
        problems = check_phone_audio_input(needs_to=False, to=None, phone_number=phone_number,
                                           operation_id=operation_id, region=self.region)
        if url is None:
            url = self._link_cache.get(f"{log.href}#continuePhoneAudio")
            problems["conversationLog"] = "continuePhoneAudio is not offered now"
            if url is None:
                raise ValidationError(problems)
        recipients = ConversationLog(log).recipients
        target = recipients[0].uri if recipients else None
        return self._prepared("continuePhoneAudio", url, target, phone_number, operation_id,
                              format, problems, include_to=False)

    def _prepared(self, kind: Literal["addPhoneAudio", "continuePhoneAudio"], url: str,
                  to: str | None, phone_number: str | None, operation_id: str | None,
                  format: Format | None, problems: dict[str, str],
                  include_to: bool = True) -> PreparedCall:
        op = operation_id if operation_id is not None else self._operation_ids()
        props: dict[str, Any] = {"operationId": op}
        if phone_number:
            props["phoneNumber"] = phone_number
        if include_to and to is not None:
            props["to"] = to
        fmt = format or self.format
        return PreparedCall(self, kind, url, build_input(props, fmt), fmt, op, to, problems)

    def add_phone_audio(self, conversation: Conversation, to: str,
                        phone_number: str | None = None, operation_id: str | None = None,
                        format: Format | None = None, validate: bool = True) -> PhoneAudioCall:
        """Add phone audio to a conversation by call-via-work: ring your phone, then ``to``."""
        prepared = self.prepare_add_phone_audio(conversation, to, phone_number, operation_id,
                                                format)
        if validate and prepared.problems:
            raise ValidationError(prepared.problems)
        return prepared.send()

    def continue_phone_audio(self, conversation_log: ConversationLog,
                             phone_number: str | None = None, operation_id: str | None = None,
                             format: Format | None = None,
                             validate: bool = True) -> PhoneAudioCall:
        """Continue a past conversation on the phone: ring your phone, then its recipient."""
        prepared = self.prepare_continue_phone_audio(conversation_log, phone_number,
                                                     operation_id, format)
        if validate and prepared.problems:
            raise ValidationError(prepared.problems)
        return prepared.send()

    def _send_call(self, prepared: PreparedCall) -> PhoneAudioCall:
        call = PhoneAudioCall(prepared.operation_id, prepared.kind, prepared.target, self,
                              self._clock)
        with self._calls_lock:  # registered first: started can beat the 201
            self._calls[call.operation_id] = call
        call.sent_at = self._clock()
        try:
            response = self._request("POST", prepared.url, rel=prepared.kind,
                                     operation_id=prepared.operation_id, content=prepared.body,
                                     content_type=media_type(prepared.format),
                                     accept=media_type(prepared.format), raise_errors=False)
        except httpx.HTTPError:
            with self._calls_lock:
                self._calls.pop(call.operation_id, None)
            raise
        call.events_before_response = len(call.events)
        call.http_status = response.status_code
        if response.status_code != 201:
            with self._calls_lock:
                self._calls.pop(call.operation_id, None)
            raise UcwaError.from_response(response)
        meta = response.request.extensions.get(_HOOK_KEY) or {}
        location = meta.get("location")  # made absolute once, by the logging hook
        if location is None and response.headers.get("location"):
            location = self._absolute(response.headers["location"], response)
        call.location = location
        return call

    def _cancel(self, call: PhoneAudioCall, href: str | None) -> None:
        if href is None:
            if call.location is None:
                raise ValidationError({"call": "the call has no invitation to cancel"})
            invitation = self._get(call.location, "phoneAudioInvitation")
            href = self._link(invitation, "cancel")
            if href is None:
                raise ValidationError({"call": f"the call is no longer in progress "
                                               f"({invitation.get('state')})"})
        else:
            href = self._absolute(href, call.location or self.application_url or "")
        self._request("POST", href, rel="cancel", operation_id=call.operation_id)

    def _current(self, conversation: Conversation) -> Conversation:
        """After the application was re-created, find the same conversation in the new one."""
        if self.application_url and conversation.href.startswith(self.application_url + "/"):
            return conversation
        for candidate in self.conversations():
            if candidate.thread_id and candidate.thread_id == conversation.thread_id:
                return candidate
        raise ValidationError({"conversation": "this conversation no longer exists"})

    @property
    def calls(self) -> list[PhoneAudioCall]:
        with self._calls_lock:
            return list(self._calls.values())

    # ------------------------------------------------------------------ events

    def _deliver(self, batch: Events, response: httpx.Response) -> None:
        url = str(response.url)
        fmt = format_of(response.headers.get("content-type"))
        for sender, event in batch.all_events():
            resource = event.resource
            operation_id = resource.get("operationId") if resource is not None else None
            href = self._absolute(event.link.href, response)
            call = None
            with self._calls_lock:
                if isinstance(operation_id, str):
                    call = self._calls.get(operation_id)
                if call is None and event.link.rel == "phoneAudioInvitation":
                    call = next((c for c in self._calls.values() if c.location == href), None)
            self.log.record_event(
                url=url, event_type=event.type, rel=event.link.rel, href=href,
                event_status=event.status,
                operation_id=operation_id if isinstance(operation_id, str) else None,
                code=event.reason.code if event.reason else None,
                subcode=event.reason.subcode if event.reason else None, format=fmt,
                body=build_events(Events(senders=[Sender(sender.rel, sender.href, [event])]),
                                  fmt or "json"))
            if call is not None:
                call._add_event(event, self._clock())

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Stop the event channel and sign out (DELETE the application). Safe to repeat."""
        if self.closed:
            return
        self.closed = True
        if self.events is not None:
            self.events._stop.set()
        if self.application_url is not None:
            # Releases our parked poll on the server, so the thread ends at once.
            with contextlib.suppress(httpx.HTTPError):
                self._request("DELETE", self.application_url, rel="application",
                              raise_errors=False, timeout=5.0)
        if self.events is not None:
            self.events.stop()
        if self._owns_client:  # else its sockets stay open until garbage collection
            self.http_client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        who = self.me.get("uri") if self.me is not None else "?"
        where = urlsplit(self.application_url or "").netloc
        trouble = ""
        if self.events is not None and self.events.state == "retrying":
            trouble = f"; event channel retrying: {self.events.last_error}"
        return f"<Session {who} at {where} ({self.format}, {len(self.log)} log rows{trouble})>"


def connect(url: str | None = None, *, username: str | None = None,
            password: str | None = None, token: str | None = None, verify: Verify = True,
            format: Format = "json", http_client: httpx.Client | None = None,
            log: ExchangeLog | None = None, clock: Callable[[], datetime] | None = None,
            operation_ids: Callable[[], str] | None = None, region: str = "US",
            user_agent: str = "ucwa-nb", poll_timeout: float = 180.0,
            timeout: float = 30.0) -> Session:
    """Sign in and start an application with its event channel.

    With no URL: the embedded simulator (started on first use) and its demo user. With a
    domain (``contoso.com``): autodiscovery. With a URL: that autodiscover root.

    ``verify`` is ``True``, a CA bundle path (an internal CA's PEM file, or a directory of
    them), an ``ssl.SSLContext``, or ``False`` (with a warning); it is ignored when you pass
    your own ``http_client``.
    """
    simulator = None
    if url is None:
        simulator = embedded_simulator()
        url = simulator.url
        if token is None and username is None:
            demo = simulator.scenario.demo_user
            username, password = demo.username, demo.password
    client = http_client or httpx.Client(verify=ssl_verify(verify), timeout=timeout)
    session = Session(client, log=log, format=format, region=region, user_agent=user_agent,
                      clock=clock, operation_ids=operation_ids, poll_timeout=poll_timeout,
                      simulator=simulator)
    session._owns_client = http_client is None
    try:
        session.sign_in(url, username=username, password=password, token=token)
        session.create_application()
        session.start_events()
    except BaseException:
        session.close()
        raise
    return session
