"""Session: a signed-in UCWA application, the façade over the client's parts.

    auth         sign-in: discovery, the 401 challenge, the OAuth password grant
    navigation   requests, GET a resource, follow a link by rel, remembered links
    application  the application's lifetime (create, re-create, delete)
    operations   the phone-audio operations, each defined once; runner: sending them
    registry     the calls by operationId; delivery: events to the calls they are about
    channel      the event channel's thread; hooks: every exchange and event into the log

The session sends through a client of its own, ``http_client`` (``transport.py``): its
logging hooks and its token, over the ``httpx.Client`` given to it, which it never changes.
Raw calls through ``session.http_client`` are logged and obey the trust rule too.
"""

from __future__ import annotations

import itertools
import ssl
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from ucwa_nb.client.application import ApplicationLifetime
from ucwa_nb.client.auth import Grant, sign_in
from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.channel import EventChannel
from ucwa_nb.client.delivery import EventDelivery
from ucwa_nb.client.embedded import EmbeddedServer, embedded_simulator
from ucwa_nb.client.environment import ENV_URL, target
from ucwa_nb.client.errors import ValidationError
from ucwa_nb.client.hooks import ExchangeHooks
from ucwa_nb.client.listing import Listings
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.operations import (
    ADD_PHONE_AUDIO,
    CONTINUE_PHONE_AUDIO,
    START_PHONE_AUDIO,
    OperationSpec,
    PreparedCall,
    operation_named,
)
from ucwa_nb.client.pacing import Pacing
from ucwa_nb.client.preferences import Preferences
from ucwa_nb.client.registry import CallRegistry
from ucwa_nb.client.runner import OperationRunner
from ucwa_nb.client.tls import Verify, ssl_verify
from ucwa_nb.client.transport import session_client
from ucwa_nb.client.trust import BearerToken
from ucwa_nb.client.views import Conversation, ConversationLog
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.protocol.representation import Events, Format, Resource, checked_format, media_type

__all__ = ["OperationIds", "PreparedCall", "Session", "connect", "embedded_simulator"]

# Where a session's operationIds come from: None (random UUIDs, as real clients send),
# "sequential" (00...01, 00...02, ...: the same on every run, for notebooks and tests), or a
# function of your own.
OperationIds = Callable[[], str] | Literal["sequential"] | None


def _operation_id_factory(operation_ids: OperationIds) -> Callable[[], str]:
    if operation_ids is None:
        return lambda: uuid.uuid4().hex
    if operation_ids == "sequential":
        counter = itertools.count(1)
        return lambda: f"{next(counter):032x}"
    if callable(operation_ids):
        return operation_ids
    raise ValueError("operation_ids must be None, 'sequential' or a function returning a str")


class _SessionChannelHost:
    """The session's side of the event channel (``channel.ChannelHost``)."""

    def __init__(self, navigator: Navigator, application: ApplicationLifetime,
                 delivery: EventDelivery, preferences: Preferences,
                 clock: Callable[[], datetime]) -> None:
        self._navigator = navigator
        self._application = application
        self._delivery = delivery
        self._preferences = preferences
        self.now = clock
        # Set once a poll is on the wire (its request written, its answer awaited) or over:
        # a call POSTed before the server has a poll gets 500 CallbackChannelError.
        self.polling = threading.Event()

    def request_events(self, href: str, *, poll_timeout: float,
                       read_grace: float) -> httpx.Response:
        fmt = self._preferences.format
        try:
            return self._navigator.request(
                "GET", href, rel="events", params={"timeout": str(int(poll_timeout))},
                timeout=httpx.Timeout(10.0, read=poll_timeout + read_grace),
                raise_errors=False, trace=self._written,
                # XML events need the vendor media type (ucwa-protocol.md 2.1).
                accept=media_type(fmt, vendor=fmt == "xml"))
        finally:
            self.polling.set()  # answered or failed: nothing to wait for either way

    def _written(self, step: str, _: dict[str, Any]) -> None:
        if step.endswith("receive_response_headers.started"):
            self.polling.set()

    def events_href(self) -> str:
        return self._application.events_href()

    def recreate_application(self) -> str:
        self._application.create()
        return self._application.events_href()

    def deliver(self, batch: Events, response: httpx.Response) -> None:
        self._delivery.deliver(batch, response)


class Session:
    """A signed-in UCWA application. Create one with ``ucwa_nb.connect()``.

    The ``http_client`` given is left as it was found: the session sends through a client
    of its own over it (``session.http_client``, with the session's logging hooks and
    token), and ``close()`` closes the given one only with ``owns_client``.
    """

    def __init__(self, http_client: httpx.Client, *, log: ExchangeLog | None = None,
                 format: Format = "json", region: str = "US", user_agent: str = "ucwa-nb",
                 clock: Callable[[], datetime] | None = None,
                 operation_ids: OperationIds = None,
                 poll_timeout: float = 180.0, simulator: EmbeddedServer | None = None,
                 owns_client: bool = False) -> None:
        format = checked_format(format)
        self.simulator = simulator
        self.closed = False
        self._clock = clock or (lambda: datetime.now(UTC))
        self.log = log if log is not None else ExchangeLog(clock=clock)
        self._preferences = Preferences(format, region)
        hooks = ExchangeHooks(self.log, self._clock)
        # The session's own client over the one given: the given one keeps its hooks and
        # auth, and closing the session closes it only if the session made it (owns_client).
        self.http_client = session_client(http_client, owned=owns_client, auth=BearerToken(),
                                          event_hooks=hooks.event_hooks)
        self._navigator = Navigator(self.http_client, hooks, self._preferences)
        # A failed request's message says since when the event polls fail too, if they do.
        self._navigator.trouble = lambda: (self.event_channel.trouble()
                                           if self.event_channel is not None else "")
        self._application = ApplicationLifetime(self._navigator, self._preferences, user_agent)
        self._listings = Listings(self._navigator, self._application.communication,
                                  lambda: self._application.url)
        self._calls = CallRegistry()
        self._runner = OperationRunner(self._navigator, self._preferences, self._calls,
                                       self._clock, _operation_id_factory(operation_ids))
        self.channel_host = _SessionChannelHost(
            self._navigator, self._application, EventDelivery(self._calls, hooks, self._clock),
            self._preferences, self._clock)
        self._poll_timeout = poll_timeout
        # The server's 429s waited out at sign-in and application creation, within a
        # deadline (connect() gives its timeout; pacing.py): ``session.pacing.waits``.
        self.pacing = Pacing(30.0)
        self.event_channel: EventChannel | None = None
        # Where connect() took the URL from: "argument", "environment" or "embedded".
        self.connected_via = "embedded" if simulator is not None else "argument"

    # ------------------------------------------------------------------ settings

    @property
    def format(self) -> Format:
        """The format of requests and events: "json" or "xml" (each call may override it)."""
        return self._preferences.format

    @format.setter
    def format(self, value: Format) -> None:
        self._preferences.format = checked_format(value)

    @property
    def region(self) -> str:
        """The dial plan that local phone-number checks use."""
        return self._preferences.region

    @region.setter
    def region(self, value: str) -> None:
        self._preferences.region = value

    @property
    def lenient_uri_spacing(self) -> bool:
        """Whether local checks pass ``tel : +1...`` and ``sip : ...`` (spaces around the
        colon), as the simulator does by default; set False for a server that refuses them
        (a scenario with ``lenient_uri_spacing = false``)."""
        return self._preferences.lenient_uri_spacing

    @lenient_uri_spacing.setter
    def lenient_uri_spacing(self, value: bool) -> None:
        self._preferences.lenient_uri_spacing = value

    @property
    def user_agent(self) -> str:
        """Sent when the application is created (or re-created)."""
        return self._application.user_agent

    @user_agent.setter
    def user_agent(self, value: str) -> None:
        self._application.user_agent = value

    @property
    def endpoint_id(self) -> str:
        """The endpointId the application was created with (the same one re-creates it)."""
        return self._application.endpoint_id

    def new_operation_id(self) -> str:
        """A fresh operationId, from the factory given to ``connect(operation_ids=...)``."""
        return self._runner.new_operation_id()

    # ------------------------------------------------------------------ sign-in, application

    def sign_in(self, url: str, *, username: str | None, password: str | None,
                token: str | None, auth: Grant = "auto",
                verify: ssl.SSLContext | bool = True) -> None:
        """Discovery (a root URL or a domain), the OAuth token, and the user resource.

        ``auth``: "auto" (the password grant when offered and a password is given, else
        Windows sign-in), "password" or "windows"; ``verify``: TLS verification of the
        Windows handshake's own connection."""
        self._application.applications_url = sign_in(
            self._navigator, self.log, url, username=username, password=password, token=token,
            auth=auth, verify=verify, pacing=self.pacing)

    def create_application(self) -> Resource:
        """POST to applications (``connect()`` does it); returns the application resource.
        A 429 with Retry-After is waited out within ``pacing``'s deadline."""
        return self._application.create(self.pacing)

    def start_events(self) -> None:
        """Start the event channel's thread on the application's events link (``connect()``
        does it), and wait, 5 s at most, until its first poll is on the wire or answered."""
        self.event_channel = EventChannel(self.channel_host, self._application.events_href(),
                                          poll_timeout=self._poll_timeout)
        self.event_channel.start()
        self.channel_host.polling.wait(5.0)  # a call before it: 500 CallbackChannelError

    @property
    def applications_url(self) -> str | None:
        """The user's applications link, from sign-in."""
        return self._application.applications_url

    @property
    def application(self) -> Resource | None:
        """The application as the server last returned it (None before it exists)."""
        return self._application.resource

    @property
    def application_url(self) -> str | None:
        """Where the application is (its Location)."""
        return self._application.url

    # ------------------------------------------------------------------ resources

    @property
    def communication(self) -> Resource:
        """The application's communication resource (startPhoneAudio, conversations, logs)."""
        return self._application.communication()

    @property
    def me(self) -> Resource | None:
        """The signed-in user's ``me`` resource, embedded in the application."""
        return self.application.embedded_one("me") if self.application else None

    @property
    def default_phone_number(self) -> str | None:
        """The phone rung first when no phone_number is given: communication's, else
        me's work number."""
        comm = self.application.embedded_one("communication") if self.application else None
        number = comm.get("phoneNumber") if comm else None
        if not number and self.me is not None:
            number = self.me.get("workPhoneNumber")
        return str(number) if number else None

    def conversations(self) -> list[Conversation]:
        """The active conversations (addPhoneAudio needs one), with their participants."""
        return self._listings.conversations()

    def conversation_logs(self, limit: int | None = None) -> list[ConversationLog]:
        """Past conversations (continuePhoneAudio needs one), newest first."""
        return self._listings.conversation_logs(limit)

    def offered_link(self, operation: OperationSpec | str,
                     target: Conversation | ConversationLog | None = None) -> str | None:
        """Where ``operation`` would be sent for ``target`` right now (None: not offered).

        ``target`` is what the operation starts from: a Conversation (addPhoneAudio), a
        ConversationLog (continuePhoneAudio), nothing (startPhoneAudio, on communication).
        """
        operation = operation_named(operation)
        start = self.communication if target is None else target.resource
        return self._runner.offered_link(operation, start)

    def draft(self, operation: OperationSpec | str, url: str, *, format: Format | None = None,
              target: str | None = None, **values: str | None) -> PreparedCall:
        """The request ``operation`` would send to ``url`` with these values (``to``,
        ``phone_number``, ``operation_id``, ...), with its local validation; no network."""
        return self._runner.draft(operation_named(operation), url, values, format, target)

    # ------------------------------------------------------------------ any operation

    def prepare(self, operation: OperationSpec | str,
                target: Conversation | ConversationLog | None = None, *,
                format: Format | None = None, **values: str | None) -> PreparedCall:
        """The request ``operation`` (a definition, or its rel: ``"addPhoneAudio"``) would
        send for ``target``, with its input by argument name (``to``, ``phone_number``,
        ``operation_id``, ...) and any local validation problems.

        ``target`` is what the operation is reached from (its ``reached_from``): a
        Conversation, a ConversationLog, or None for communication. Operations on a call
        are ``call.perform(...)``."""
        operation = operation_named(operation)
        start, callee = self._listings.start_of(operation, target)
        return self._runner.prepare(operation, start, operation.reached_from, values, format,
                                    target=callee)

    def perform(self, operation: OperationSpec | str,
                target: Conversation | ConversationLog | None = None, *,
                format: Format | None = None, validate: bool = True,
                **values: str | None) -> PhoneAudioCall:
        """Prepare ``operation`` (see ``prepare``) and send it; the call it creates. With
        ``validate`` (the default), ValidationError instead of sending invalid input."""
        return _send(self.prepare(operation, target, format=format, **values), validate)

    # ------------------------------------------------------------------ phone audio

    def prepare_add_phone_audio(self, conversation: Conversation, to: str,
                                phone_number: str | None = None,
                                operation_id: str | None = None,
                                format: Format | None = None) -> PreparedCall:
        """The request addPhoneAudio would send, with any local validation problems."""
        return self.prepare(ADD_PHONE_AUDIO, conversation, format=format, to=to,
                            phone_number=phone_number, operation_id=operation_id)

    def add_phone_audio(self, conversation: Conversation, to: str,
                        phone_number: str | None = None, operation_id: str | None = None,
                        format: Format | None = None, validate: bool = True) -> PhoneAudioCall:
        """Add phone audio to a conversation by call-via-work: ring your phone, then ``to``."""
        return _send(self.prepare_add_phone_audio(conversation, to, phone_number,
                                                  operation_id, format), validate)

    def prepare_continue_phone_audio(self, conversation_log: ConversationLog,
                                     phone_number: str | None = None,
                                     operation_id: str | None = None,
                                     format: Format | None = None) -> PreparedCall:
        """The request continuePhoneAudio would send, with any local validation problems."""
        return self.prepare(CONTINUE_PHONE_AUDIO, conversation_log, format=format,
                            phone_number=phone_number, operation_id=operation_id)

    def continue_phone_audio(self, conversation_log: ConversationLog,
                             phone_number: str | None = None, operation_id: str | None = None,
                             format: Format | None = None,
                             validate: bool = True) -> PhoneAudioCall:
        """Continue a past conversation on the phone: ring your phone, then its recipient."""
        return _send(self.prepare_continue_phone_audio(conversation_log, phone_number,
                                                       operation_id, format), validate)

    def prepare_start_phone_audio(self, to: str, phone_number: str | None = None,
                                  subject: str | None = None, operation_id: str | None = None,
                                  format: Format | None = None) -> PreparedCall:
        """The request startPhoneAudio would send, with any local validation problems."""
        return self.prepare(START_PHONE_AUDIO, format=format, to=to, phone_number=phone_number,
                            subject=subject, operation_id=operation_id)

    def start_phone_audio(self, to: str, phone_number: str | None = None,
                          subject: str | None = None, operation_id: str | None = None,
                          format: Format | None = None, validate: bool = True
                          ) -> PhoneAudioCall:
        """Call ``to`` by call-via-work in a new conversation: ring your phone, then ``to``."""
        return _send(self.prepare_start_phone_audio(to, phone_number, subject, operation_id,
                                                    format), validate)

    @property
    def calls(self) -> list[PhoneAudioCall]:
        """Every call this session placed, oldest first."""
        return self._calls.all()

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Stop the event channel and sign out (DELETE the application). Safe to repeat."""
        if self.closed:
            return
        self.closed = True
        if self.event_channel is not None:
            self.event_channel.signal_stop()
        self._application.delete()  # releases our parked poll, so the thread ends at once
        if self.event_channel is not None:
            self.event_channel.stop()
        # The session's own client, and the client under it only if connect() made it.
        self.http_client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        """Who is signed in, at which host, and where that came from (never a secret):
        ``sip:alice@contoso.com at 127.0.0.1:8080 (from UCWA_NB_URL)``."""
        who = self.me.get("uri") if self.me is not None else "?"
        host = urlsplit(self.application_url or "").netloc
        origin = f" (from {ENV_URL})" if self.connected_via == "environment" else ""
        return f"{who} at {host}{origin}"

    def __repr__(self) -> str:
        trouble = ""
        channel = self.event_channel
        if channel is not None and channel.state == "retrying":
            trouble = f"; event channel retrying: {channel.last_error}"
        if self.pacing.waits:
            trouble += f"; {self.pacing.describe()}"
        return f"<Session {self.where} ({self.format}, {len(self.log)} log rows{trouble})>"


def _send(prepared: PreparedCall, validate: bool) -> PhoneAudioCall:
    if validate and prepared.problems:
        raise ValidationError(prepared.problems)
    return prepared.send()


def connect(url: str | None = None, *, username: str | None = None,
            password: str | None = None, token: str | None = None, verify: Verify = True,
            format: Format = "json", http_client: httpx.Client | None = None,
            log: ExchangeLog | None = None, clock: Callable[[], datetime] | None = None,
            operation_ids: OperationIds = None, region: str = "US",
            user_agent: str = "ucwa-nb", poll_timeout: float = 180.0,
            timeout: float = 30.0, auth: Grant = "auto") -> Session:
    """Sign in and start an application with its event channel.

    With no URL: ``UCWA_NB_URL`` with ``UCWA_NB_USERNAME`` and ``UCWA_NB_PASSWORD`` (or
    ``UCWA_NB_TOKEN``) when set (a class on JupyterHub sets them), else the embedded
    simulator (started on first use) and its demo user; arguments given win (see
    ``client/environment.py``). With a domain (``contoso.com``): autodiscovery. With a URL:
    that autodiscover root.

    ``operation_ids``: None for random ones, ``"sequential"`` for ids that are the same on
    every run (00...01, 00...02, ...), or a function that returns the next one.

    ``verify`` is ``True``, a CA bundle path (an internal CA's PEM file, or a directory of
    them), an ``ssl.SSLContext``, or ``False`` (with a warning); with your own
    ``http_client`` it applies only to the Windows handshake's own connection. That client
    is used as it is (its transport, TLS, proxies and hooks) and left as it was: the
    session's hooks and token are on its own client over it, ``session.http_client``, and
    closing the session leaves yours open.

    ``auth`` picks the grant: "auto" uses the challenge's list (the password grant when it is
    offered and a password is given, else Windows sign-in: ``username='CONTOSO\\alice'`` or
    ``'alice@contoso.com'`` with ``password=`` for NTLM from any OS, or no credentials for
    the signed-in Windows user or a Kerberos ticket); "windows" or "password" forces one.

    ``timeout``: the seconds each request may take, and the longest sign-in and application
    creation wait out the server's pacing in all (a 429 with Retry-After, as when a whole
    class signs in at once: each wait is shown as a ``PacingWarning`` and in
    ``session.pacing.waits``); a longer wait raises the 429 saying how long the server asked for.
    """
    new_operation_id = _operation_id_factory(operation_ids)  # a bad value fails before any I/O
    where = target(url, username, password, token)
    url, username, password, token = where.url, where.username, where.password, where.token
    simulator = None
    if url is None:
        simulator = embedded_simulator()
        url = simulator.url
        if token is None and username is None:
            demo = simulator.scenario.demo_user
            username, password = demo.username, demo.password
    tls = ssl_verify(verify)
    client = http_client or httpx.Client(verify=tls, timeout=timeout)
    session = Session(client, log=log, format=format, region=region, user_agent=user_agent,
                      clock=clock, operation_ids=new_operation_id, poll_timeout=poll_timeout,
                      simulator=simulator, owns_client=http_client is None)
    session.connected_via = where.source
    session.pacing = Pacing(timeout)
    try:
        session.sign_in(url, username=username, password=password, token=token, auth=auth,
                        verify=tls)
        session.create_application()
        session.start_events()
    except BaseException:
        session.close()
        raise
    return session
