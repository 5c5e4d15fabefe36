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
import re
import tomllib
from pathlib import Path
from typing import Any

from ucwa_nb.sim import paths
from ucwa_nb.sim.classroom_loader import class_accounts, hub_users, trainer_account
from ucwa_nb.sim.cross_domain import normal_origin
from ucwa_nb.sim.scenario import (
    ALL_SCOPES,
    BEHAVIOURS,
    FORWARD_TARGETS,
    KNOWN_FAULTS,
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
from ucwa_nb.sim.scenario_bounds import (
    MAX_RING_SECONDS,
    MAX_SETTING_INT,
    MAX_SETTING_SECONDS,
    check_values,
    count,
    seconds,
)
from ucwa_nb.sim.scenario_reading import (
    date_time,
    only,
    phone_number,
    required,
    required_list,
    sip_uri,
    string,
    strings,
    table_list,
    text,
)
from ucwa_nb.sim.strict import APP_MARK, RecordedLinkSpec, RecordedResourceSpec, StrictSpec

__all__ = ["scenario_from_dict", "scenario_from_toml"]

# Settings written into response headers as they are (X-MS-UcwaVersion, the challenge's
# grant_type="..."): nothing that could end a header or its quoted string.
_HEADER_VALUES = frozenset({"ucwa_version", "grant_types"})
_HEADER_SAFE = re.compile(r'[\x21\x23-\x7e]+')


def scenario_from_dict(data: dict[str, Any], name: str = "custom") -> Scenario:
    """The scenario ``data`` describes, in the TOML file's shape (``name`` unless it names
    itself); ``ScenarioError`` names the bad key. Every value is bounded first
    (``scenario_bounds``): no NaN, no 1 MB subject."""
    check_values(data)
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
        only(self.data, "scenario", {"server", "users", "contacts", "phones", "faults",
                                      "classroom", "name", "poll_faults", "trainer",
                                      "strict"})
        server = self.server(self.data.get("server", {}))
        users = [self.user(u, i) for i, u in enumerate(table_list(self.data, "users"))]
        users += class_accounts(self.data.get("classroom"))
        if not users:
            raise ScenarioError("a scenario needs at least one [[users]] entry")
        seen: set[str] = set()
        for user in users:
            if user.username.lower() in seen:
                raise ScenarioError(f"user {user.uri} is listed twice")
            seen.add(user.username.lower())
        contacts = tuple(self.contact(c, i)
                         for i, c in enumerate(table_list(self.data, "contacts")))
        phones = {}
        for i, raw in enumerate(table_list(self.data, "phones")):
            where = f"phones[{i}]"
            only(raw, where, {"number", "behaviour", "after", "name"})
            number = phone_number(required(raw, "number", where), "US", where)
            phones[number] = self.phone(raw, where)
        faults = tuple(self.fault(f, i) for i, f in enumerate(table_list(self.data, "faults")))
        poll_faults = self.poll_faults(self.data["poll_faults"]) \
            if "poll_faults" in self.data else None
        trainer = trainer_account(self.data["trainer"]) if "trainer" in self.data else None
        return Scenario(tuple(users), contacts, phones, faults, server,
                        str(self.data.get("name", name)), poll_faults, trainer,
                        hub_users(self.data.get("classroom")),
                        self.strict(self.data["strict"]) if "strict" in self.data else None)

    # ---- [strict]: what a recording showed beyond the model (strict.py)

    def strict(self, raw: Any) -> StrictSpec:
        only(raw, "strict", {"resources", "links"})
        resources = []
        for i, item in enumerate(table_list(raw, "resources")):
            where = f"strict.resources[{i}]"
            only(item, where, {"path", "body", "method", "status", "media_type", "rel"})
            path = text(required(item, "path", where), where + ".path")
            if not path.startswith(APP_MARK + "/"):
                raise ScenarioError(f"{where}.path must start with {APP_MARK}/")
            status = item.get("status", 200)
            if not isinstance(status, int) or isinstance(status, bool) \
                    or not 200 <= status <= 599:
                raise ScenarioError(f"{where}.status must be an HTTP status from 200 to 599")
            resources.append(RecordedResourceSpec(
                path, text(required(item, "body", where), where + ".body"),
                text(item.get("method", "GET"), where + ".method").upper(), status,
                text(item.get("media_type", "application/json"), where + ".media_type"),
                text(item.get("rel", ""), where + ".rel")))
        links = []
        for i, item in enumerate(table_list(raw, "links")):
            where = f"strict.links[{i}]"
            only(item, where, {"resource", "rel", "href"})
            links.append(RecordedLinkSpec(*(text(required(item, key, where), f"{where}.{key}")
                                            for key in ("resource", "rel", "href"))))
        return StrictSpec(tuple(resources), tuple(links))


    def server(self, raw: dict[str, Any]) -> ServerSettings:
        known = set(ServerSettings.__dataclass_fields__)
        only(raw, "server", known)
        defaults = ServerSettings()
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "allowed_origins":
                values[key] = _origins(value)
                continue
            expected = type(getattr(defaults, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ScenarioError(f"server.{key} must be a {expected.__name__}")
            # Durations and sizes: a negative or NaN value (e.g. max_body_bytes = -1, which
            # would refuse every body with 413) is a mistake in the file, not a setting.
            if expected in (int, float) and not (value >= 0 and math.isfinite(value)):
                raise ScenarioError(f"server.{key} must be a finite number >= 0")
            highest = MAX_SETTING_SECONDS if expected is float else MAX_SETTING_INT
            if expected in (int, float) and value > highest:
                raise ScenarioError(f"server.{key} must be at most {highest:g}")
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
        # NaN used to pass "after < 0" and ring forever; a bound keeps a ring finite.
        after = seconds(raw.get("after", PhoneSpec.after), f"{where}.after", MAX_RING_SECONDS)
        return PhoneSpec(behaviour, after, string(raw, "name", where, ""))

    def user(self, raw: dict[str, Any], index: int) -> UserSpec:
        where = f"users[{index}]"
        only(raw, where, {"uri", "password", "name", "phone", "region", "scopes", "own_phone",
                           "conversations", "conversation_logs", "phone_audio"})
        uri = sip_uri(required(raw, "uri", where), where + ".uri")
        region = str(raw.get("region", "US")).upper()
        phone = raw.get("phone", "")
        phone = "tel:" + phone_number(phone, region, where + ".phone") if phone else ""
        scopes = raw.get("scopes", list(ALL_SCOPES))
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ScenarioError(f"{where}.scopes must be a list of strings")
        own = raw.get("own_phone", {})
        only(own, where + ".own_phone", {"behaviour", "after"})
        phone_audio = raw.get("phone_audio", True)
        if not isinstance(phone_audio, bool):
            raise ScenarioError(f"{where}.phone_audio must be true or false")
        return UserSpec(
            uri=uri,
            password=text(required(raw, "password", where), where + ".password"),
            name=string(raw, "name", where, uri.removeprefix("sip:").split("@")[0].title()),
            phone=phone,
            region=region,
            scopes=tuple(scopes),
            own_phone=self.phone(own, where + ".own_phone"),
            conversations=tuple(
                self.conversation(c, f"{where}.conversations[{i}]")
                for i, c in enumerate(table_list(raw, "conversations"))
            ),
            conversation_logs=tuple(
                self.log(c, f"{where}.conversation_logs[{i}]")
                for i, c in enumerate(table_list(raw, "conversation_logs"))
            ),
            phone_audio=phone_audio,
        )


    def conversation(self, raw: dict[str, Any], where: str) -> ConversationSpec:
        only(raw, where, {"subject", "participants", "created", "importance", "modalities"})
        return ConversationSpec(
            subject=string(raw, "subject", where, ""),
            participants=tuple(sip_uri(p, where)
                               for p in required_list(raw, "participants", where)),
            created=date_time(raw.get("created"), where, ConversationSpec.created),
            importance=string(raw, "importance", where, "Normal"),
            modalities=strings(raw, "modalities", where, ("Messaging",)),
        )

    def log(self, raw: dict[str, Any], where: str) -> ConversationLogSpec:
        only(raw, where, {"subject", "recipients", "created", "type", "status", "direction",
                           "importance", "modalities", "preview"})
        return ConversationLogSpec(
            subject=string(raw, "subject", where, ""),
            recipients=tuple(sip_uri(p, where)
                             for p in required_list(raw, "recipients", where)),
            created=date_time(raw.get("created"), where, ConversationLogSpec.created),
            type=string(raw, "type", where, "AudioLog"),
            status=string(raw, "status", where, "Archived"),
            direction=string(raw, "direction", where, "Outgoing"),
            importance=string(raw, "importance", where, "Normal"),
            modalities=strings(raw, "modalities", where, ("Audio",)),
            preview=string(raw, "preview", where, ""),
        )

    def contact(self, raw: dict[str, Any], index: int) -> ContactSpec:
        where = f"contacts[{index}]"
        only(raw, where, {"uri", "name", "behaviour", "after", "phone", "mobile", "forward"})
        phone = self.phone(raw, where)
        mobile = raw.get("mobile")
        if mobile is not None:
            only(mobile, where + ".mobile", {"number", "behaviour", "after"})
        forward = raw.get("forward")
        if forward is not None:
            forward = self.forward(forward, where + ".forward",
                                   has_mobile=mobile is not None)
        return ContactSpec(
            uri=sip_uri(required(raw, "uri", where), where + ".uri"),
            name=string(raw, "name", where, ""),
            behaviour=phone.behaviour,
            after=phone.after if "after" in raw else ContactSpec.after,
            # Checked like a user's phone, rather than stored as whatever text was given.
            phone="tel:" + phone_number(raw["phone"], "US", where + ".phone")
            if "phone" in raw else None,
            mobile="tel:" + phone_number(required(mobile, "number", where + ".mobile"), "US",
                                        where + ".mobile.number")
            if mobile is not None else None,
            mobile_phone=self.phone({"after": 1.0, **mobile}, where + ".mobile")
            if mobile is not None else ContactSpec.mobile_phone,
            forward=forward,
        )

    def forward(self, raw: Any, where: str, *, has_mobile: bool) -> ForwardSpec:
        only(raw, where, {"after", "to"})
        to = raw.get("to", "voicemail")
        if to not in FORWARD_TARGETS:
            raise ScenarioError(f"{where}.to must be one of {', '.join(FORWARD_TARGETS)}")
        if to == "mobile" and not has_mobile:
            raise ScenarioError(f"{where}.to is mobile, but the contact has no mobile number")
        after = seconds(raw.get("after", ForwardSpec.after), f"{where}.after", MAX_RING_SECONDS)
        return ForwardSpec(after, to)

    def poll_faults(self, raw: Any) -> PollFaultSpec:
        only(raw, "poll_faults", {"drop_rate", "hold_rate", "hold_for", "seed"})
        numbers: dict[str, float] = {}
        for key in ("drop_rate", "hold_rate", "hold_for"):
            value = raw.get(key)
            if value is None:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ScenarioError(f"poll_faults.{key} must be a number")
            numbers[key] = float(value) if key != "hold_for" else \
                seconds(value, "poll_faults.hold_for", MAX_RING_SECONDS)
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
        only(raw, where, {"rel", "error", "user", "count"})
        error = str(required(raw, "error", where))
        if error not in KNOWN_FAULTS:
            raise ScenarioError(f"{where}.error must be one of {', '.join(KNOWN_FAULTS)}")
        times = count(raw.get("count", 1), f"{where}.count", 1_000_000, " (0 = until cleared)")
        user = raw.get("user")
        return FaultSpec(text(required(raw, "rel", where), where + ".rel"), error,
                         sip_uri(user, where + ".user") if user else None, times)


def _origins(value: Any) -> tuple[str, ...]:
    """``[server] allowed_origins``: a list of web page origins, each normalised (RFC 6454)."""
    if not isinstance(value, (list, tuple)):
        raise ScenarioError("server.allowed_origins must be a list of origins, e.g. "
                            '["https://app.contoso.com"]')
    origins = []
    for index, item in enumerate(value):
        origin = normal_origin(item) if isinstance(item, str) else None
        if origin is None:
            raise ScenarioError(f"server.allowed_origins[{index}] must be an http(s) origin, "
                                f"scheme://host[:port] with no path (got {item!r})")
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


