"""Scenarios: who exists in the simulated world and how their phones behave.

This module is the data model, frozen dataclasses, and the public place to import them from.
A scenario comes from a TOML file or a dict of the same shape (``scenario_from_toml`` and
``scenario_from_dict``, read and checked by ``scenario_loader.py``, which imports this module
and never the reverse) or Python objects. The format is documented in the README and in
``default.toml``, the scenario that ``connect()`` and ``ucwa-nb serve`` use
(``scenarios.default()``). A class's accounts (the trainer's, hub users', the passwords a
seed derives) are in ``classroom.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ucwa_nb.protocol.rules import LENIENT_URI_SPACING
from ucwa_nb.sim.classroom import HubUsersSpec, TrainerSpec
from ucwa_nb.sim.strict import StrictSpec

# TrainerSpec and HubUsersSpec, fields of Scenario, live in classroom.py; TrainerSpec is
# exported here too, as before, for a Scenario written in Python.
__all__ = [
    "Behaviour",
    "ContactSpec",
    "ConversationLogSpec",
    "ConversationSpec",
    "FaultSpec",
    "ForwardSpec",
    "PhoneSpec",
    "PollFaultSpec",
    "Scenario",
    "ScenarioError",
    "ServerSettings",
    "TrainerSpec",
    "UserSpec",
]

Behaviour = Literal["answers", "busy", "declines", "never_answers"]
BEHAVIOURS: tuple[str, ...] = ("answers", "busy", "declines", "never_answers")
ALL_SCOPES = ("Conversations.Initiate", "Conversations.Receive")
# The values of ServerSettings.windows_auth (rules/windows.py offers the schemes they name).
WINDOWS_AUTH = ("negotiate", "ntlm", "off")

# Errors a fault can inject: name -> (HTTP status, code, subcode or None).
FAULTS: dict[str, tuple[int, str, str | None]] = {
    "AlreadyExists": (409, "Conflict", "AlreadyExists"),
    "TooManyGroups": (409, "Conflict", "TooManyGroups"),
    "Conflict": (409, "Conflict", None),
    "CannotRedirect": (410, "Gone", "CannotRedirect"),
    "CallbackChannelError": (500, "ServiceFailure", "CallbackChannelError"),
    "NormalizationFailed": (400, "BadRequest", "NormalizationFailed"),
    "InvalidExchangeServerVersion": (500, "ServiceFailure", "InvalidExchangeServerVersion"),
    "ServiceFailure": (500, "ServiceFailure", None),
    "Forbidden": (403, "Forbidden", None),
}
# Faults answered as what stands in front of a pool answers, not as UCWA (front_end.py):
# a reverse proxy's Negotiate/NTLM 401, a front end refusing the token (403 with
# X-Ms-diagnostics 28055), an IIS forms sign-in page. A departure for teaching the doctor's
# sign-in rules, opt-in and named in the scenario's [[faults]] or inject_fault.
FRONT_END_FAULTS: tuple[str, ...] = ("ProxyChallenge", "TokenRejected", "LoginPage")
# Every name a [[faults]] table or inject_fault takes.
KNOWN_FAULTS: tuple[str, ...] = (*FAULTS, *FRONT_END_FAULTS)


class ScenarioError(ValueError):
    """A scenario file or dict that does not describe a valid world."""


@dataclass(frozen=True)
class ServerSettings:
    # Seconds without any request of the application (a parked poll counts all along)
    # before it is deleted. Real servers wait 15 minutes; tests make it short.
    application_expiry: float = 900.0
    # An operation POST needs a live event channel: a poll parked now or released within
    # this many seconds. Otherwise 500 CallbackChannelError. [infer] ucwa-protocol.md 2.4.
    callback_grace: float = 60.0
    token_lifetime: int = 28800
    max_body_bytes: int = 1024 * 1024
    # events_ref: `timeout` "The minimum possible value is 180 seconds and the maximum
    # possible value is 1800 seconds"; `low` and `medium`: "The minimum possible value is 5
    # seconds". Faithful by default. A scenario may lower these minimums (tests, a class
    # that cannot wait three minutes): a departure from real servers, listed in the README.
    min_poll_timeout: float = 180.0
    min_poll_aggregation: float = 5.0
    default_poll_timeout: float = 180.0
    # The continuePhoneAudio page writes "tel : +1..." with spaces; accept them by default.
    lenient_uri_spacing: bool = LENIENT_URI_SPACING
    # How long a phone rings before the attempt gives up (never_answers behaviours).
    ring_timeout: float = 3.0
    server_fqdn: str = "fe1.contoso.com"
    # The path prefix a reverse proxy forwards unchanged, e.g. "/services/ucwa-nb" for a
    # JupyterHub service: every route, href, Location and token URL is under it (paths.py).
    root_path: str = ""
    # ---- a shared server stays fair (README, "A classroom simulator"); 0 turns a limit off.
    # Applications one user may hold; creating one more retires the least recently used,
    # which answers 410 Gone/TooManyApplications from then on.
    max_applications_per_user: int = 8
    # Events kept for an application that is not polling; beyond it no more are kept and the
    # application is retired (410 Gone/InactiveApplicationExpired from then on).
    max_pending_events: int = 500
    # Phone-audio calls one user may have ringing or connecting at once (409
    # Conflict/TooManyConversations beyond it), and finished calls kept for the history.
    max_calls_in_progress_per_user: int = 8
    max_call_history_per_user: int = 200
    # Live tokens one user may hold: a new sign-in beyond it revokes the oldest.
    max_tokens_per_user: int = 50
    # Sign-in attempts (limits.py): per account (from any address), a burst then a steady
    # rate per second; failed ones per account (counted per address, and in all across
    # addresses, five times as many) and per client address (any account). Nothing counts
    # successes per address: a whole class signs in through one hub address at once.
    signin_burst_per_account: int = 60
    signin_rate_per_account: float = 1.0
    signin_failures_per_account: int = 10
    signin_failure_rate_per_account: float = 0.1
    signin_failures_per_address: int = 60
    signin_failure_rate_per_address: float = 1.0
    max_token_body_bytes: int = 16 * 1024
    # Connections: a new one sends its request's headers within header_timeout; a request
    # (headers and body) arrives whole within request_timeout of its first byte; caps per
    # client address and in all (0: half the process's open-file limit). An address's cap
    # grows by max_connections_per_account for each account signed in through it lately
    # (a class behind one hub address: each attendee holds a parked poll and a request).
    header_timeout: float = 10.0
    request_timeout: float = 20.0
    max_connections_per_address: int = 256
    max_connections_per_account: int = 4
    max_connections: int = 0
    # ---- what a recorded server showed (``ucwa-nb scenario-from-har``); the defaults are
    # the simulator's own. Versioning.md: every response names its resource revision in
    # X-MS-UcwaVersion; ucwa-protocol.md 1.3: the MsRtcOAuth challenge lists the grant types.
    ucwa_version: str = "1.7"
    # Versioning.md: the highest resource revision served; a request whose
    # X-MS-RequiresMinResourceVersion asks for more gets 404 NotFound/APIVersionNotSupported.
    # [infer] 2: UCWA 2.0 (MultiTabSupport.md's sample POSTs applications with revision 2,
    # as real clients do on every request); no page shows a revision above 2.
    resource_revision: float = 2.0
    grant_types: str = "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"
    # ---- sign-in (AuthenticationInUCWA): the grants the token endpoint takes.
    # false: the password grant is off, as on deployments with Windows sign-in or ADFS only
    # (its requests get 400 unsupported_grant_type, and the challenge does not offer it).
    password_grant: bool = True
    # The Windows grant's HTTP handshake: "negotiate" (Negotiate and NTLM offered, as IIS's
    # default providers), "ntlm" (NTLM only) or "off" (the Windows grant is not offered).
    windows_auth: str = "negotiate"
    # Half-open handshakes (rules/windows.py): seconds each is kept, how many per client
    # address and in all (the oldest dropped first).
    windows_handshake_timeout: float = 30.0
    max_windows_handshakes_per_address: int = 32
    max_windows_handshakes: int = 1024
    # ---- browser applications (Cross_domainIFRAME.md, CrossDomainCommunication.md).
    # The web application allow list: origins (scheme://host[:port]) whose pages may send
    # requests through the cross-domain frame; others get 403 "Service does not allow a
    # cross domain request from this origin." (cross_domain.py). Empty, as a new server's
    # list: only pages of the server's own origin. `ucwa-nb serve --allow-origin` adds to it.
    allowed_origins: tuple[str, ...] = ()
    # The root's and the user's links: relative (false, root_ref.md's sample) or absolute
    # (true, CreateAnApplication.md's trace, which browser applications written against
    # real servers may need: they take their requests' origin from the xframe link).
    absolute_links: bool = False


@dataclass(frozen=True)
class PhoneSpec:
    """How a phone rung by call-via-work behaves: its owner answers (or not) after a delay."""

    behaviour: Behaviour = "answers"
    after: float = 0.2
    # Who answers it, for an outside number called by call-via-work (the participant's
    # name; the number itself when empty).
    name: str = ""


# Where a contact's forwarding sends a call (rules/dialling.py).
FORWARD_TARGETS = ("mobile", "voicemail")


@dataclass(frozen=True)
class ForwardSpec:
    """A contact's call forwarding: a call not answered within ``after`` seconds goes to
    their ``mobile`` number or their ``voicemail`` (``after`` 0: at once)."""

    after: float = 2.0
    to: str = "voicemail"


@dataclass(frozen=True)
class ContactSpec:
    uri: str
    name: str
    behaviour: Behaviour = "answers"
    after: float = 0.5
    phone: str | None = None  # the work number (tel:+E.164): calling it reaches the contact
    mobile: str | None = None  # the mobile number (tel:+E.164), answered as mobile_phone says
    mobile_phone: PhoneSpec = PhoneSpec("answers", 1.0)
    forward: ForwardSpec | None = None


@dataclass(frozen=True)
class ConversationSpec:
    subject: str
    participants: tuple[str, ...]
    created: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    importance: str = "Normal"
    modalities: tuple[str, ...] = ("Messaging",)


@dataclass(frozen=True)
class ConversationLogSpec:
    subject: str
    recipients: tuple[str, ...]
    created: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    type: str = "AudioLog"
    status: str = "Archived"
    direction: str = "Outgoing"
    importance: str = "Normal"
    modalities: tuple[str, ...] = ("Audio",)
    preview: str = ""


@dataclass(frozen=True)
class UserSpec:
    uri: str
    password: str = field(repr=False)  # reprs of a scenario and its users hide it
    name: str = ""
    phone: str = ""
    region: str = "US"
    scopes: tuple[str, ...] = ALL_SCOPES
    own_phone: PhoneSpec = PhoneSpec()
    conversations: tuple[ConversationSpec, ...] = ()
    conversation_logs: tuple[ConversationLogSpec, ...] = ()
    # Whether the server's policies give the user phone audio (call-via-work) among their
    # capabilities: without it startPhoneAudio is 403 (rules/offers.can_start_phone_audio).
    phone_audio: bool = True

    @property
    def username(self) -> str:
        """The sign-in name: the SIP URI without ``sip:`` (``alice@contoso.com``)."""
        return self.uri.removeprefix("sip:")


@dataclass(frozen=True)
class FaultSpec:
    """Answer the next ``count`` requests on links with this rel with an injected error.

    ``count`` 0 means every request until the fault is cleared.
    """

    rel: str
    error: str
    user: str | None = None
    count: int = 1


@dataclass(frozen=True)
class PollFaultSpec:
    """Faults on event polls (``ucwa_nb/sim/faults.py``): ``drop_rate`` of them are answered
    and then reset, ``hold_rate`` of them are held back ``hold_for`` seconds (None: until the
    client hangs up). Which polls is decided by ``seed`` (reproducible runs)."""

    drop_rate: float = 0.0
    hold_rate: float = 0.0
    hold_for: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "hold_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be a number from 0 to 1")
        if self.drop_rate + self.hold_rate > 1.0:
            raise ValueError("drop_rate + hold_rate must not exceed 1")
        if self.hold_for is not None and not (
                isinstance(self.hold_for, int | float) and math.isfinite(self.hold_for)
                and self.hold_for >= 0):
            raise ValueError("hold_for must be a finite number of seconds >= 0 (or None)")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError("seed must be an integer")


@dataclass(frozen=True)
class Scenario:
    """Who exists in the simulated world and how they behave: users, contacts, phones,
    faults, server settings. Read from TOML or a dict by ``scenario_loader.py``
    (``scenario_from_toml``, ``scenario_from_dict``); ready-made ones in ``scenarios.py``
    (``default()``, ``fast()``)."""

    users: tuple[UserSpec, ...]
    contacts: tuple[ContactSpec, ...] = ()
    phones: dict[str, PhoneSpec] = field(default_factory=dict)
    faults: tuple[FaultSpec, ...] = ()
    server: ServerSettings = ServerSettings()
    name: str = "custom"
    poll_faults: PollFaultSpec | None = None
    trainer: TrainerSpec | None = None
    hub_users: HubUsersSpec | None = None
    strict: StrictSpec | None = None

    def user(self, uri_or_name: str) -> UserSpec | None:
        """The user with this SIP URI or sign-in name (any case), None if there is none."""
        key = uri_or_name.lower().removeprefix("sip:")
        for user in self.users:
            if user.username.lower() == key:
                return user
        return None

    def contact(self, uri: str) -> ContactSpec | None:
        """The contact with this SIP URI (any case), None if there is none."""
        key = uri.lower()
        for contact in self.contacts:
            if contact.uri.lower() == key:
                return contact
        return None

    @property
    def demo_user(self) -> UserSpec:
        """The first user: whom ``connect()`` with no arguments signs in as."""
        return self.users[0]
