"""Scenarios: who exists in the simulated world and how their phones behave.

A scenario comes from a TOML file (``Scenario.from_toml``), a dict of the same shape
(``Scenario.from_dict``) or Python objects. The format is documented in the README and in
``default.toml``, the scenario that ``connect()`` and ``ucwa-nb serve`` use.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ucwa_nb.protocol.phone import NormalizationError, normalize_phone_number, parse_sip_uri
from ucwa_nb.protocol.rules import LENIENT_URI_SPACING
from ucwa_nb.sim import paths

__all__ = [
    "Behaviour",
    "ContactSpec",
    "ConversationLogSpec",
    "ConversationSpec",
    "FaultSpec",
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
    # Sign-in attempts: per client address (any account), a burst then a steady rate per
    # second; failed ones per account (counted per address, and in all across addresses).
    signin_burst_per_address: int = 60
    signin_rate_per_address: float = 1.0
    signin_failures_per_account: int = 10
    signin_failure_rate_per_account: float = 0.1
    max_token_body_bytes: int = 16 * 1024
    # Connections: a new one sends its request's headers within header_timeout; a request
    # (headers and body) arrives whole within request_timeout of its first byte; caps per
    # client address and in all (0: half the process's open-file limit).
    header_timeout: float = 10.0
    request_timeout: float = 20.0
    max_connections_per_address: int = 256
    max_connections: int = 0


@dataclass(frozen=True)
class PhoneSpec:
    """How a phone rung by call-via-work behaves: its owner answers (or not) after a delay."""

    behaviour: Behaviour = "answers"
    after: float = 0.2


@dataclass(frozen=True)
class ContactSpec:
    uri: str
    name: str
    behaviour: Behaviour = "answers"
    after: float = 0.5
    phone: str | None = None


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

    @property
    def username(self) -> str:
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
class TrainerSpec:
    """The trainer's account for the simulator's own pages (``/_simulator/activity``),
    given as HTTP Basic credentials. Not a UCWA user: it cannot sign in to UCWA."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class HubUsersSpec:
    """``[classroom] hub_users = true``: a JupyterHub user ``name`` signs in as
    ``name@domain`` with the password the hub derives from the class's ``password_seed``
    (docs/jupyterhub_config.py hands it to each user's server), and gets an account on
    first sign-in if the scenario has none of that name (rules/hub_users.py)."""

    domain: str
    seed: str = field(repr=False)
    first_phone: int  # hub accounts' phones follow the attendees'
    limit: int = 500  # accounts made on first sign-in, at most


@dataclass(frozen=True)
class Scenario:
    """Who exists in the simulated world and how they behave: users, contacts, phones,
    faults, server settings (``from_toml``, ``from_dict``, ``default()``)."""

    users: tuple[UserSpec, ...]
    contacts: tuple[ContactSpec, ...] = ()
    phones: dict[str, PhoneSpec] = field(default_factory=dict)
    faults: tuple[FaultSpec, ...] = ()
    server: ServerSettings = ServerSettings()
    name: str = "custom"
    poll_faults: PollFaultSpec | None = None
    trainer: TrainerSpec | None = None
    hub_users: HubUsersSpec | None = None

    def user(self, uri_or_name: str) -> UserSpec | None:
        key = uri_or_name.lower().removeprefix("sip:")
        for user in self.users:
            if user.username.lower() == key:
                return user
        return None

    def contact(self, uri: str) -> ContactSpec | None:
        key = uri.lower()
        for contact in self.contacts:
            if contact.uri.lower() == key:
                return contact
        return None

    @property
    def demo_user(self) -> UserSpec:
        return self.users[0]

    # ------------------------------------------------------------------ loading

    @classmethod
    def default(cls) -> Scenario:
        return cls.from_dict(_default_data(), name="default")

    @classmethod
    def for_jupyterhub(cls, domain: str = "contoso.com",
                       seed_env: str = "UCWA_NB_SEED") -> Scenario:
        """The default scenario for a class on JupyterHub (``ucwa-nb serve --jupyterhub``
        with no scenario): every hub user signs in to ``domain`` with the password the hub
        derives from the seed in ``$seed_env``, to an account made like the demo user."""
        data = _default_data()
        data["classroom"] = {"domain": domain, "hub_users": True, "password_seed_env": seed_env}
        return cls.from_dict(data, name="default")

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
        return cls.from_dict(data, name=Path(path).stem)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "custom") -> Scenario:
        return _Loader(data).scenario(name)


def _default_data() -> dict[str, Any]:
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


class _Loader:
    """Turns the TOML shape into frozen dataclasses with errors that name the bad key."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def scenario(self, name: str) -> Scenario:
        _only(self.data, "scenario", {"server", "users", "contacts", "phones", "faults",
                                      "classroom", "name", "poll_faults", "trainer"})
        server = self.server(self.data.get("server", {}))
        users = [self.user(u, i) for i, u in enumerate(_list(self.data, "users"))]
        users += self.classroom(self.data.get("classroom"))
        if not users:
            raise ScenarioError("a scenario needs at least one [[users]] entry")
        seen: set[str] = set()
        for user in users:
            if user.username.lower() in seen:
                raise ScenarioError(f"user {user.uri} is listed twice")
            seen.add(user.username.lower())
        contacts = tuple(self.contact(c, i) for i, c in enumerate(_list(self.data, "contacts")))
        phones = {}
        for i, raw in enumerate(_list(self.data, "phones")):
            where = f"phones[{i}]"
            _only(raw, where, {"number", "behaviour", "after"})
            number = self.number(_req(raw, "number", where), "US", where)
            phones[number] = self.phone(raw, where)
        faults = tuple(self.fault(f, i) for i, f in enumerate(_list(self.data, "faults")))
        poll_faults = self.poll_faults(self.data["poll_faults"]) \
            if "poll_faults" in self.data else None
        trainer = self.trainer(self.data["trainer"]) if "trainer" in self.data else None
        return Scenario(tuple(users), contacts, phones, faults, server,
                        str(self.data.get("name", name)), poll_faults, trainer,
                        self.hub_users(self.data.get("classroom")))

    def hub_users(self, raw: Any) -> HubUsersSpec | None:
        if raw is None or not raw.get("hub_users", False):
            return None
        if raw["hub_users"] is not True:
            raise ScenarioError("classroom.hub_users must be true or false")
        seed = self.seed(raw)
        if seed is None:
            raise ScenarioError("classroom.hub_users needs password_seed or password_seed_env: "
                                "the hub derives each user's password from it")
        first = int(self.number(raw.get("first_phone", "+14255550300"), "US",
                                 "classroom.first_phone").lstrip("+"))
        return HubUsersSpec(str(raw.get("domain", "contoso.com")), seed,
                            first + int(raw.get("attendees", 0)) + 1)

    def seed(self, raw: dict[str, Any]) -> str | None:
        """``password_seed``, or the environment variable ``password_seed_env`` names (a
        JupyterHub service gets it from the hub's config, never from a file)."""
        seed = raw.get("password_seed")
        if "password_seed_env" in raw:
            if seed is not None:
                raise ScenarioError("classroom: password_seed or password_seed_env, not both")
            name = raw["password_seed_env"]
            seed = os.environ.get(name) if isinstance(name, str) else None
            if not seed:
                raise ScenarioError(f"classroom.password_seed_env: the environment variable "
                                    f"{name!r} is not set")
        if seed is not None and (not isinstance(seed, str) or len(seed) < MIN_SEED):
            # An attendee could try every short seed against their own password.
            raise ScenarioError(f"classroom.password_seed must be a string of {MIN_SEED} "
                                "characters or more, as secret as the passwords it makes")
        return seed

    def trainer(self, raw: Any) -> TrainerSpec:
        _only(raw, "trainer", {"username", "password"})
        username, password = _req(raw, "username", "trainer"), _req(raw, "password", "trainer")
        if not isinstance(username, str) or not username or ":" in username:
            raise ScenarioError("trainer.username must be a non-empty string without ':'")
        if not isinstance(password, str) or len(password) < 8:
            raise ScenarioError("trainer.password must be a string of 8 characters or more")
        return TrainerSpec(username, password)

    def server(self, raw: dict[str, Any]) -> ServerSettings:
        known = set(ServerSettings.__dataclass_fields__)
        _only(raw, "server", known)
        defaults = ServerSettings()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            expected = type(getattr(defaults, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ScenarioError(f"server.{key} must be a {expected.__name__}")
            # Durations and sizes: a negative or NaN value (e.g. max_body_bytes = -1, which
            # would refuse every body with 413) is a mistake in the file, not a setting.
            if expected in (int, float) and not (value >= 0 and math.isfinite(value)):
                raise ScenarioError(f"server.{key} must be a finite number >= 0")
            if key == "root_path":
                try:
                    value = paths.normal_prefix(value)
                except ValueError as exc:
                    raise ScenarioError(f"server.root_path: {exc}") from None
            values[key] = value
        settings = ServerSettings(**values)
        if not settings.min_poll_timeout <= settings.default_poll_timeout <= 1800:
            raise ScenarioError("server.default_poll_timeout must be between "
                                "server.min_poll_timeout and 1800")
        return settings

    def phone(self, raw: dict[str, Any], where: str) -> PhoneSpec:
        behaviour = raw.get("behaviour", "answers")
        if behaviour not in BEHAVIOURS:
            raise ScenarioError(f"{where}.behaviour must be one of {', '.join(BEHAVIOURS)}")
        after = raw.get("after", PhoneSpec.after)
        if not isinstance(after, int | float) or isinstance(after, bool) or after < 0:
            raise ScenarioError(f"{where}.after must be a number of seconds >= 0")
        return PhoneSpec(behaviour, float(after))

    def number(self, value: Any, region: str, where: str) -> str:
        try:
            return normalize_phone_number(str(value), region)
        except NormalizationError as exc:
            raise ScenarioError(f"{where}: {exc}") from None

    def sip(self, value: Any, where: str) -> str:
        try:
            return str(parse_sip_uri(str(value)))
        except ValueError as exc:
            raise ScenarioError(f"{where}: {exc}") from None

    def user(self, raw: dict[str, Any], index: int) -> UserSpec:
        where = f"users[{index}]"
        _only(raw, where, {"uri", "password", "name", "phone", "region", "scopes", "own_phone",
                           "conversations", "conversation_logs"})
        uri = self.sip(_req(raw, "uri", where), where + ".uri")
        region = str(raw.get("region", "US")).upper()
        phone = raw.get("phone", "")
        phone = "tel:" + self.number(phone, region, where + ".phone") if phone else ""
        scopes = raw.get("scopes", list(ALL_SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ScenarioError(f"{where}.scopes must be a list of strings")
        own = raw.get("own_phone", {})
        _only(own, where + ".own_phone", {"behaviour", "after"})
        return UserSpec(
            uri=uri,
            password=str(_req(raw, "password", where)),
            name=str(raw.get("name", uri.removeprefix("sip:").split("@")[0].title())),
            phone=phone,
            region=region,
            scopes=tuple(scopes),
            own_phone=self.phone(own, where + ".own_phone"),
            conversations=tuple(
                self.conversation(c, f"{where}.conversations[{i}]")
                for i, c in enumerate(_list(raw, "conversations"))
            ),
            conversation_logs=tuple(
                self.log(c, f"{where}.conversation_logs[{i}]")
                for i, c in enumerate(_list(raw, "conversation_logs"))
            ),
        )

    def classroom(self, raw: Any) -> list[UserSpec]:
        """``[classroom] attendees = N`` makes N accounts attendee01..N, for a shared class.

        Each password is random (16 URL-safe characters): one attendee cannot work out
        another's. ``password_seed`` (a secret string) makes them reproducible, for a
        trainer who prints the list before class."""
        if raw is None:
            return []
        _only(raw, "classroom", {"attendees", "domain", "password_seed", "password_seed_env",
                                 "first_phone", "hub_users"},
              hint="password_prefix made guessable passwords and is gone; "
                   "see password_seed" if "password_prefix" in raw else "")
        count = raw.get("attendees", 0)
        if not isinstance(count, int) or not 0 <= count <= 500:
            raise ScenarioError("classroom.attendees must be an integer from 0 to 500")
        domain = str(raw.get("domain", "contoso.com"))
        seed = self.seed(raw)
        # A bad first_phone used to escape as a bare ValueError from int().
        first_phone = self.number(raw.get("first_phone", "+14255550300"), "US",
                                  "classroom.first_phone")
        first = int(first_phone.lstrip("+"))
        uris = [f"sip:attendee{n:02d}@{domain}" for n in range(1, count + 1)]
        return [attendee(uri, _attendee_password(seed, uri), f"Attendee {n:02d}",
                         f"tel:+{first + n}")
                for n, uri in enumerate(uris, start=1)]

    def conversation(self, raw: dict[str, Any], where: str) -> ConversationSpec:
        _only(raw, where, {"subject", "participants", "created", "importance", "modalities"})
        return ConversationSpec(
            subject=str(raw.get("subject", "")),
            participants=tuple(self.sip(p, where) for p in _req_list(raw, "participants", where)),
            created=_datetime(raw.get("created"), where, ConversationSpec.created),
            importance=str(raw.get("importance", "Normal")),
            modalities=tuple(str(m) for m in raw.get("modalities", ["Messaging"])),
        )

    def log(self, raw: dict[str, Any], where: str) -> ConversationLogSpec:
        _only(raw, where, {"subject", "recipients", "created", "type", "status", "direction",
                           "importance", "modalities", "preview"})
        return ConversationLogSpec(
            subject=str(raw.get("subject", "")),
            recipients=tuple(self.sip(p, where) for p in _req_list(raw, "recipients", where)),
            created=_datetime(raw.get("created"), where, ConversationLogSpec.created),
            type=str(raw.get("type", "AudioLog")),
            status=str(raw.get("status", "Archived")),
            direction=str(raw.get("direction", "Outgoing")),
            importance=str(raw.get("importance", "Normal")),
            modalities=tuple(str(m) for m in raw.get("modalities", ["Audio"])),
            preview=str(raw.get("preview", "")),
        )

    def contact(self, raw: dict[str, Any], index: int) -> ContactSpec:
        where = f"contacts[{index}]"
        _only(raw, where, {"uri", "name", "behaviour", "after", "phone"})
        phone = self.phone(raw, where)
        return ContactSpec(
            uri=self.sip(_req(raw, "uri", where), where + ".uri"),
            name=str(raw.get("name", "")),
            behaviour=phone.behaviour,
            after=phone.after if "after" in raw else ContactSpec.after,
            # Checked like a user's phone, rather than stored as whatever text was given.
            phone="tel:" + self.number(raw["phone"], "US", where + ".phone")
            if "phone" in raw else None,
        )

    def poll_faults(self, raw: Any) -> PollFaultSpec:
        _only(raw, "poll_faults", {"drop_rate", "hold_rate", "hold_for", "seed"})
        numbers: dict[str, float] = {}
        for key in ("drop_rate", "hold_rate", "hold_for"):
            value = raw.get(key)
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ScenarioError(f"poll_faults.{key} must be a number")
            numbers[key] = float(value)
        seed = raw.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ScenarioError("poll_faults.seed must be an integer")
        try:
            return PollFaultSpec(numbers.get("drop_rate", 0.0), numbers.get("hold_rate", 0.0),
                                 numbers.get("hold_for"), seed)
        except ValueError as exc:
            raise ScenarioError(f"poll_faults: {exc}") from None

    def fault(self, raw: dict[str, Any], index: int) -> FaultSpec:
        where = f"faults[{index}]"
        _only(raw, where, {"rel", "error", "user", "count"})
        error = str(_req(raw, "error", where))
        if error not in FAULTS:
            raise ScenarioError(f"{where}.error must be one of {', '.join(FAULTS)}")
        count = raw.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ScenarioError(f"{where}.count must be an integer >= 0 (0 = until cleared)")
        user = raw.get("user")
        return FaultSpec(str(_req(raw, "rel", where)), error,
                         self.sip(user, where + ".user") if user else None, count)


_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_"


MIN_SEED = 16


def attendee(uri: str, password: str, name: str, phone: str) -> UserSpec:
    """A class account: a conversation to call John in, and a past call with him."""
    return UserSpec(
        uri=uri, password=password, name=name, phone=phone,
        conversations=(ConversationSpec("Class exercise", ("sip:john@contoso.com",)),),
        conversation_logs=(
            ConversationLogSpec("Earlier call with John", ("sip:john@contoso.com",)),
        ),
    )


def attendee_password(seed: str, uri: str) -> str:
    """The password of account ``uri`` under the class's seed (what the hub hands out)."""
    return _attendee_password(seed, uri)


def _attendee_password(seed: str | None, uri: str) -> str:
    """16 characters from a 58-letter alphabet (about 94 bits): from the system's random
    source, or an HMAC of the account under the trainer's seed (the same list every run;
    knowing one password tells nothing of another's without the seed)."""
    if seed is None:
        return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
    number = int.from_bytes(hmac.digest(seed.encode(), uri.encode(), hashlib.sha256))
    letters = []
    for _ in range(16):
        number, digit = divmod(number, len(_PASSWORD_ALPHABET))
        letters.append(_PASSWORD_ALPHABET[digit])
    return "".join(letters)


def _only(raw: Any, where: str, allowed: set[str], hint: str = "") -> None:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a table")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(allowed))}"
                            + (f" ({hint})" if hint else ""))


def _req(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise ScenarioError(f"{where}.{key} is required")
    return raw[key]


def _list(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{key} must be an array of tables ([[{key}]])")
    return value


def _req_list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = _req(raw, key, where)
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{where}.{key} must be a non-empty list")
    return value


def _datetime(value: Any, where: str, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raise ScenarioError(f"{where}.created must be a TOML date-time such as 2026-01-05T09:00:00Z")
