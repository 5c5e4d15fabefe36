"""The world a recording shows, in the scenario's TOML shape: the user, their conversations
and conversation logs, the people they called and what each callee did.

Behaviours come from each call's event sequence (``calls.py``), the way the simulator makes
them (``sim/rules/calls.py``): the callee's outcome (Success: answers; RemoteFailure/Busy:
busy; RemoteFailure/Declined: declines; Timeout: never_answers) after the time from the
Alerting update to completed; LocalFailure/PstnCallFailed: the first leg's phone never
answers; NotFound/DestinationNotFound: nobody of that address (no contact). Times are when
the events were delivered, so they are as coarse as the polls that carried them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pandas as pd

from ucwa_nb.protocol.representation import Resource
from ucwa_nb.record.calls import Call
from ucwa_nb.record.ids import IdMap
from ucwa_nb.record.recording import Recording, RecordingError, find

__all__ = ["World", "world_of"]

_OUTCOMES = {("RemoteFailure", "Busy"): "busy", ("RemoteFailure", "Declined"): "declines",
             ("Timeout", None): "never_answers"}


@dataclass
class World:
    """The scenario's users, contacts and phones, and what was noticed on the way."""

    user: dict[str, Any]
    contacts: list[dict[str, Any]]
    phones: list[dict[str, Any]]
    ring_timeout: float | None
    notes: list[str] = field(default_factory=list)


def _seconds(start: pd.Timestamp | None, end: pd.Timestamp | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0), 2)


def _when(value: Any) -> datetime | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime().replace(microsecond=0)


def _people(recording: Recording) -> dict[str, str]:
    """Names of the people the recording shows (participants, contacts, log recipients)."""
    names: dict[str, str] = {}

    def walk(resource: Resource) -> None:
        uri = resource.get("uri") or resource.get("sipUri")
        name = resource.get("name") or resource.get("displayName")
        if isinstance(uri, str) and uri.startswith("sip:") and isinstance(name, str) and name:
            names.setdefault(uri.lower(), name)
        for items in resource.embedded.values():
            for item in items:
                walk(item)

    for _, resource in recording.resources():
        walk(resource)
    return names


def _latest(recording: Recording, href: str, rel: str) -> Resource | None:
    """The first response of type ``rel`` the recording got from ``href``."""
    path = urlsplit(href).path  # hrefs may be absolute (CreateAnApplication's trace)
    for exchange, resource in recording.resources():
        if exchange.path == path:
            found = find(resource, rel)
            if found is not None:
                return found
    return None


class _Builder:
    def __init__(self, recording: Recording, ids: IdMap, calls: list[Call],
                 password: str) -> None:
        self.recording, self.ids, self.calls, self.password = recording, ids, calls, password
        self.names = _people(recording)
        self.notes: list[str] = []

    def user(self) -> dict[str, Any]:
        me = self.recording.first("me")
        uri = me.get("uri") if me is not None else None
        if not isinstance(uri, str):
            raise_missing(self.recording, "the signed-in user (no me resource with a uri)")
        user: dict[str, Any] = {"uri": uri, "password": self.password}
        if me is not None and isinstance(me.get("name"), str):
            user["name"] = me.get("name")
        phone = (me.get("workPhoneNumber") if me is not None else None) or self._default_leg()
        if isinstance(phone, str) and phone:
            user["phone"] = phone
        region = self._region(phone if isinstance(phone, str) else None)
        if region:
            user["region"] = region
        own = self._own_phone(user.get("phone"))
        if own:
            user["own_phone"] = own
        user["conversations"] = self.conversations(uri)
        user["conversation_logs"] = self.logs()
        return user

    def _default_leg(self) -> str | None:
        communication = self.recording.first("communication")
        number = communication.get("phoneNumber") if communication is not None else None
        return number if isinstance(number, str) and number else None

    def _region(self, phone: str | None) -> str | None:
        """The dial plan's region: where the numbers the server normalised belong."""
        import phonenumbers  # the dial plan's own library, as protocol/phone.py uses it

        numbers = [c.phone_number for c in self.calls
                   if c.phone_number and c.sent.get("phoneNumber")
                   and c.sent["phoneNumber"] != c.phone_number] or ([phone] if phone else [])
        for number in numbers:
            if not number:
                continue
            try:
                parsed = phonenumbers.parse(number.removeprefix("tel:"), None)
            except phonenumbers.NumberParseException:
                continue
            region = phonenumbers.region_code_for_number(parsed)
            if region:
                return str(region)
        return None

    def _own_phone(self, phone: str | None) -> dict[str, Any]:
        delays = [d for c in self.calls if c.phone_number in (None, phone)
                  for d in [_seconds(c.time_of("Connecting"), c.time_of("Alerting"))]
                  if d is not None]
        failed = [c for c in self.calls if c.phone_number in (None, phone) and c.outcome
                  and (c.outcome.code, c.outcome.subcode) == ("LocalFailure", "PstnCallFailed")]
        if failed and not delays:
            return {"behaviour": "never_answers"}
        return {"behaviour": "answers", "after": statistics.median(delays)} if delays else {}

    def conversations(self, user_uri: str) -> list[dict[str, Any]]:
        listing = self.recording.first("conversations")
        result = []
        for link in listing.links.get("conversation", []) if listing is not None else []:
            conv = _latest(self.recording, link.href, "conversation")
            if conv is None:
                self.notes.append(f"conversation {link.href}: listed but never read; left out")
                continue
            people = self._participants(conv, user_uri) or sorted(
                {c.to for c in self.calls if c.to and c.post is not None
                 and self.ids.conversation(c.post.url) == self.ids.conversation(link.href)})
            if not people:
                self.notes.append(f"conversation {conv.get('subject')!r}: no participant seen; "
                                  "left out (a scenario conversation needs one)")
                continue
            item: dict[str, Any] = {"subject": str(conv.get("subject") or ""),
                                    "participants": people}
            created = _when(conv.get("created"))
            if created:
                item["created"] = created
            if conv.get("importance"):
                item["importance"] = str(conv.get("importance"))
            modalities = conv.get("activeModalities")
            if isinstance(modalities, list):
                item["modalities"] = [str(m) for m in modalities]
            result.append(item)
        return result

    def _participants(self, conv: Resource, user_uri: str) -> list[str]:
        link = conv.link("participants")
        listing = _latest(self.recording, link.href, "participants") if link else None
        if listing is None:
            return []
        uris = [p.get("uri") for p in listing.embedded.get("participant", [])
                if not p.get("local")]
        return [u for u in uris if isinstance(u, str) and u.lower() != user_uri.lower()]

    def logs(self) -> list[dict[str, Any]]:
        listing = self.recording.first("conversationLogs")
        result = []
        for link in listing.links.get("conversationLog", []) if listing is not None else []:
            log = _latest(self.recording, link.href, "conversationLog")
            if log is None:
                self.notes.append(f"conversation log {link.href}: listed but never read; "
                                  "left out")
                continue
            recipients = [r.get("sipUri") for r in log.embedded.get("conversationLogRecipient", [])]
            recipients = [r for r in recipients if isinstance(r, str)]
            if not recipients:
                self.notes.append(f"conversation log {log.get('subject')!r}: no recipient seen; "
                                  "left out")
                continue
            item: dict[str, Any] = {"subject": str(log.get("subject") or ""),
                                    "recipients": recipients}
            created = _when(log.get("creationTime"))
            if created:
                item["created"] = created
            for key in ("type", "status", "direction", "importance"):
                if isinstance(log.get(key), str):
                    item[key] = log.get(key)
            if isinstance(log.get("modalities"), list):
                item["modalities"] = [str(m) for m in log.get("modalities")]
            if isinstance(log.get("previewMessage"), str):
                item["preview"] = log.get("previewMessage")
            result.append(item)
        return result

    def contacts(self, user: dict[str, Any]) -> tuple[list[dict[str, Any]], float | None]:
        outcomes: dict[str, tuple[str, float | None]] = {}
        rings: list[float] = []
        for call in self.calls:
            end = call.outcome
            if end is None or not call.to:
                continue
            after = _seconds(call.time_of("Alerting"), end.time)
            if end.status == "Success":
                behaviour: str | None = "answers"
            else:
                behaviour = _OUTCOMES.get((end.code or "", end.subcode))
            if behaviour == "never_answers" and after is not None:
                rings.append(after)
            if behaviour is None:
                continue
            seen = outcomes.get(call.to.lower())
            if seen is not None and seen[0] != behaviour:
                self.notes.append(f"{call.to}: {seen[0]} in one call, {behaviour} in another; "
                                  "the last is kept")
            outcomes[call.to.lower()] = (behaviour, after)
        everyone = {p.lower(): p for c in user["conversations"] for p in c["participants"]}
        everyone |= {r.lower(): r for log in user["conversation_logs"] for r in log["recipients"]}
        everyone |= {c.to.lower(): c.to for c in self.calls if c.to}
        not_found = {c.to.lower() for c in self.calls if c.to and c.outcome
                     and (c.outcome.code, c.outcome.subcode) == ("NotFound",
                                                                  "DestinationNotFound")}
        contacts = []
        for key, uri in everyone.items():
            if key in not_found or not uri.startswith("sip:"):
                continue
            contact: dict[str, Any] = {"uri": uri, "name": self.names.get(key, "")}
            if key in outcomes:
                behaviour, after = outcomes[key]
                contact["behaviour"] = behaviour
                if after is not None and behaviour != "never_answers":
                    contact["after"] = after
            else:
                self.notes.append(f"{uri}: never called in the recording; answers [infer]")
            contacts.append(contact)
        return contacts, max(rings) if rings else None

    def phones(self, user_phone: str | None) -> list[dict[str, Any]]:
        numbers = sorted({c.phone_number for c in self.calls
                          if c.phone_number and c.phone_number != user_phone and c.outcome
                          and (c.outcome.code, c.outcome.subcode)
                          == ("LocalFailure", "PstnCallFailed")})
        return [{"number": n, "behaviour": "never_answers"} for n in numbers]


def raise_missing(recording: Recording, what: str) -> NoReturn:
    """Refuse ``recording``: it lacks ``what``."""
    raise RecordingError(f"{recording.name}: {what} is missing; record the session from "
                         "sign-in on")


def world_of(recording: Recording, ids: IdMap, calls: list[Call], password: str) -> World:
    """The world of ``recording``: its user (with ``password``, which no recording holds)."""
    builder = _Builder(recording, ids, calls, password)
    user = builder.user()
    contacts, ring_timeout = builder.contacts(user)
    return World(user, contacts, builder.phones(user.get("phone")), ring_timeout,
                 builder.notes)
