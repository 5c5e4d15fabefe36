"""Reading a scenario: the TOML shape (or a dict of it) turned into the frozen dataclasses of
scenario.py, with an error that names the bad key (``ScenarioError``).

A module of its own, not a ``scenario/`` package: three flat modules (the model, this loader,
the classroom's accounts) need no package, one named ``scenario/`` beside ``scenarios.py``
would read as a typo, and ``ucwa_nb.sim.scenario`` stays the one import point of the model.
This module imports the model it builds; the model never imports it (``scenario_from_dict``
and ``scenario_from_toml`` are here, not classmethods of ``Scenario``).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ucwa_nb.protocol.phone import NormalizationError, normalize_phone_number, parse_sip_uri
from ucwa_nb.sim import paths
from ucwa_nb.sim.classroom import (
    MIN_SEED,
    HubUsersSpec,
    TrainerSpec,
    attendee_password,
    random_password,
)
from ucwa_nb.sim.scenario import (
    ALL_SCOPES,
    BEHAVIOURS,
    FAULTS,
    FORWARD_TARGETS,
    WINDOWS_AUTH,
    ContactSpec,
    ConversationLogSpec,
    ConversationSpec,
    FaultSpec,
    ForwardSpec,
    PhoneSpec,
    PollFaultSpec,
    Scenario,
    ScenarioError,
    ServerSettings,
    UserSpec,
)
from ucwa_nb.sim.strict import APP_MARK, RecordedLinkSpec, RecordedResourceSpec, StrictSpec

__all__ = ["scenario_from_dict", "scenario_from_toml"]

# Settings written into response headers as they are (X-MS-UcwaVersion, the challenge's
# grant_type="..."): nothing that could end a header or its quoted string.
_HEADER_VALUES = frozenset({"ucwa_version", "grant_types"})
_HEADER_SAFE = re.compile(r'[\x21\x23-\x7e]+')


def scenario_from_dict(data: dict[str, Any], name: str = "custom") -> Scenario:
    """The scenario ``data`` describes, in the TOML file's shape (``name`` unless it names
    itself); ``ScenarioError`` names the bad key."""
    return _Loader(data).scenario(name)


def scenario_from_toml(path: str | Path) -> Scenario:
    """The scenario of a TOML file, named after the file unless it names itself."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return scenario_from_dict(data, name=Path(path).stem)


class _Loader:
    """Turns the TOML shape into frozen dataclasses with errors that name the bad key."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def scenario(self, name: str) -> Scenario:
        _only(self.data, "scenario", {"server", "users", "contacts", "phones", "faults",
                                      "classroom", "name", "poll_faults", "trainer",
                                      "strict"})
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
            _only(raw, where, {"number", "behaviour", "after", "name"})
            number = self.number(_req(raw, "number", where), "US", where)
            phones[number] = self.phone(raw, where)
        faults = tuple(self.fault(f, i) for i, f in enumerate(_list(self.data, "faults")))
        poll_faults = self.poll_faults(self.data["poll_faults"]) \
            if "poll_faults" in self.data else None
        trainer = self.trainer(self.data["trainer"]) if "trainer" in self.data else None
        return Scenario(tuple(users), contacts, phones, faults, server,
                        str(self.data.get("name", name)), poll_faults, trainer,
                        self.hub_users(self.data.get("classroom")),
                        self.strict(self.data["strict"]) if "strict" in self.data else None)

    # ---- [strict]: what a recording showed beyond the model (strict.py)

    def strict(self, raw: Any) -> StrictSpec:
        _only(raw, "strict", {"resources", "links"})
        resources = []
        for i, item in enumerate(_list(raw, "resources")):
            where = f"strict.resources[{i}]"
            _only(item, where, {"path", "body", "method", "status", "media_type", "rel"})
            path = _text(_req(item, "path", where), where + ".path")
            if not path.startswith(APP_MARK + "/"):
                raise ScenarioError(f"{where}.path must start with {APP_MARK}/")
            status = item.get("status", 200)
            if not isinstance(status, int) or isinstance(status, bool) \
                    or not 200 <= status <= 599:
                raise ScenarioError(f"{where}.status must be an HTTP status from 200 to 599")
            resources.append(RecordedResourceSpec(
                path, _text(_req(item, "body", where), where + ".body"),
                _text(item.get("method", "GET"), where + ".method").upper(), status,
                _text(item.get("media_type", "application/json"), where + ".media_type"),
                _text(item.get("rel", ""), where + ".rel")))
        links = []
        for i, item in enumerate(_list(raw, "links")):
            where = f"strict.links[{i}]"
            _only(item, where, {"resource", "rel", "href"})
            links.append(RecordedLinkSpec(*(_text(_req(item, key, where), f"{where}.{key}")
                                            for key in ("resource", "rel", "href"))))
        return StrictSpec(tuple(resources), tuple(links))


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
            if key == "windows_auth" and value not in WINDOWS_AUTH:
                raise ScenarioError("server.windows_auth must be one of "
                                    + ", ".join(WINDOWS_AUTH))
            if key == "root_path":
                try:
                    value = paths.normal_prefix(value)
                except ValueError as exc:
                    raise ScenarioError(f"server.root_path: {exc}") from None
            if key in _HEADER_VALUES and not _HEADER_SAFE.fullmatch(value):
                raise ScenarioError(f"server.{key} must be printable ASCII without spaces "
                                    "or quotes (it is sent in a header)")
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
        return PhoneSpec(behaviour, float(after), str(raw.get("name", "")))

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
                           "conversations", "conversation_logs", "phone_audio"})
        uri = self.sip(_req(raw, "uri", where), where + ".uri")
        region = str(raw.get("region", "US")).upper()
        phone = raw.get("phone", "")
        phone = "tel:" + self.number(phone, region, where + ".phone") if phone else ""
        scopes = raw.get("scopes", list(ALL_SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ScenarioError(f"{where}.scopes must be a list of strings")
        own = raw.get("own_phone", {})
        _only(own, where + ".own_phone", {"behaviour", "after"})
        phone_audio = raw.get("phone_audio", True)
        if not isinstance(phone_audio, bool):
            raise ScenarioError(f"{where}.phone_audio must be true or false")
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
            phone_audio=phone_audio,
        )


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
        _only(raw, where, {"uri", "name", "behaviour", "after", "phone", "mobile", "forward"})
        phone = self.phone(raw, where)
        mobile = raw.get("mobile")
        if mobile is not None:
            _only(mobile, where + ".mobile", {"number", "behaviour", "after"})
        forward = raw.get("forward")
        if forward is not None:
            forward = self.forward(forward, where + ".forward",
                                   has_mobile=mobile is not None)
        return ContactSpec(
            uri=self.sip(_req(raw, "uri", where), where + ".uri"),
            name=str(raw.get("name", "")),
            behaviour=phone.behaviour,
            after=phone.after if "after" in raw else ContactSpec.after,
            # Checked like a user's phone, rather than stored as whatever text was given.
            phone="tel:" + self.number(raw["phone"], "US", where + ".phone")
            if "phone" in raw else None,
            mobile="tel:" + self.number(_req(mobile, "number", where + ".mobile"), "US",
                                        where + ".mobile.number")
            if mobile is not None else None,
            mobile_phone=self.phone({"after": 1.0, **mobile}, where + ".mobile")
            if mobile is not None else ContactSpec.mobile_phone,
            forward=forward,
        )

    def forward(self, raw: Any, where: str, *, has_mobile: bool) -> ForwardSpec:
        _only(raw, where, {"after", "to"})
        to = raw.get("to", "voicemail")
        if to not in FORWARD_TARGETS:
            raise ScenarioError(f"{where}.to must be one of {', '.join(FORWARD_TARGETS)}")
        if to == "mobile" and not has_mobile:
            raise ScenarioError(f"{where}.to is mobile, but the contact has no mobile number")
        after = raw.get("after", ForwardSpec.after)
        if not isinstance(after, int | float) or isinstance(after, bool) or after < 0 \
                or not math.isfinite(after):
            raise ScenarioError(f"{where}.after must be a number of seconds >= 0")
        return ForwardSpec(float(after), to)

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


    # ---- a class's accounts: [classroom] attendees and hub_users, [trainer]

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
        return [_attendee(uri, random_password() if seed is None else attendee_password(seed, uri),
                         f"Attendee {n:02d}", f"tel:+{first + n}")
                for n, uri in enumerate(uris, start=1)]

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


def _attendee(uri: str, password: str, name: str, phone: str) -> UserSpec:
    """A class account: a conversation to call John in, and a past call with him."""
    return UserSpec(
        uri=uri, password=password, name=name, phone=phone,
        conversations=(ConversationSpec("Class exercise", ("sip:john@contoso.com",)),),
        conversation_logs=(
            ConversationLogSpec("Earlier call with John", ("sip:john@contoso.com",)),
        ),
    )


def _only(raw: Any, where: str, allowed: set[str], hint: str = "") -> None:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} must be a table")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(allowed))}"
                            + (f" ({hint})" if hint else ""))


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{where} must be a string")
    return value


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
