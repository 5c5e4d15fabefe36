"""A recording read as one UCWA session: the rows of a log, checked, with parsed bodies.

The input is a HAR file (ucwa-nb's own export, a browser's or Fiddler's), an
``ExchangeLog`` or its DataFrame. Everything goes through ``ucwa_nb.log``: a HAR is replayed
by ``load_har``, so secrets are redacted on the way in as the log redacts them, and rows are
read by the log's column names only. What cannot be used is refused with a
``RecordingError`` naming what is missing: a file that is not complete JSON (a truncated
export) or not a HAR (the log's ``HarError``, which names the entry and member, with advice
added here), one with no UCWA traffic, one from two servers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ucwa_nb.log.exchange_log import ExchangeLog, load_har
from ucwa_nb.log.har_input import HarError
from ucwa_nb.protocol.representation import Events, ParseError, Reason, Resource, parse

__all__ = ["Exchange", "Recording", "RecordingError", "Source", "find", "header_values",
           "text_of"]

Source = str | PathLike[str] | ExchangeLog | pd.DataFrame

# UCWA's application resources live under .../applications (ucwa-protocol.md 1.5); the
# autodiscover and token requests before them say nothing about the server's behaviour.
_APPLICATIONS = "/applications"


class RecordingError(ValueError):
    """A recording that cannot be read as a UCWA session; the message says what is missing."""


def header_values(headers: Any, name: str) -> list[str]:
    """Every value of header ``name`` (any case) in a row's tuple of pairs."""
    lowered = name.lower()
    if not isinstance(headers, tuple):
        return []
    return [value for key, value in headers if key.lower() == lowered]


@dataclass(frozen=True)
class Exchange:
    """One http row: what a reader of the recording needs, with its body parsed."""

    seq: int
    time: pd.Timestamp
    elapsed_ms: float
    method: str
    url: str
    path: str
    status: int | None
    operation_id: str | None
    request_body: str | None
    body: Resource | Events | Reason | None
    response_body: str | None
    media_type: str | None
    headers: tuple[tuple[str, str], ...]
    request_headers: tuple[tuple[str, str], ...]
    location: str | None


def text_of(value: Any) -> str | None:
    """A text cell of the log as str, None where it is missing (pd.NA, None, NaN)."""
    return None if value is None or value is pd.NA or (isinstance(value, float)
                                                       and pd.isna(value)) else str(value)


def _parsed(body: str | None, media_type: str | None) -> Resource | Events | Reason | None:
    if not body or not media_type:
        return None
    try:
        return parse(body, media_type)
    except (ParseError, ValueError):
        return None  # an HTML error page, a form: not a UCWA body


def _read_har(path: str | PathLike[str]) -> ExchangeLog:
    file = Path(path)
    if not file.is_file():
        raise RecordingError(f"{file}: no such file")
    try:
        return load_har(file)
    except HarError as exc:
        raise RecordingError(f"{file.name}: {_advice(exc)}") from exc


def _advice(error: HarError) -> str:
    """What the log's ``HarError`` means for a recording, and what to do about it."""
    if error.kind == "text":
        return "not UTF-8 text; a HAR file is JSON in UTF-8"
    cause = error.__cause__
    if error.kind == "json" and isinstance(cause, json.JSONDecodeError):
        return (f"not complete JSON ({cause.msg}, line {cause.lineno}); a HAR cut short (a "
                "truncated export or download) cannot be read, export it again")
    if error.kind == "document":
        return f'no log.entries; a HAR 1.2 file is {{"log": {{"entries": [...]}}}} ' \
            f"({error.problem})"
    if error.kind == "entry" and error.member in (None, "request", "startedDateTime"):
        return (f"{error.where} has no request or startedDateTime (a HAR entry needs both); "
                f"the file may be truncated ({error.problem})")
    return f"{error.detail}; the recording cannot be read"


class Recording:
    """The http rows and the events of one recorded session on one UCWA server."""

    def __init__(self, source: Source, *, name: str | None = None) -> None:
        if isinstance(source, pd.DataFrame):
            df = source
        elif isinstance(source, ExchangeLog):
            df = source.df
        else:
            df = _read_har(source).df
            name = f"{name} ({Path(source).name})" if name else Path(source).name
        self.name = name or "the recording"
        missing = {"kind", "url", "method", "status", "response_body"} - set(df.columns)
        if missing:
            raise RecordingError(f"{self.name}: not a log (no column {', '.join(sorted(missing))})")
        self.df = df
        self.exchanges = [self._exchange(row) for row in df[df.kind == "http"].itertuples()]
        ucwa = [x for x in self.exchanges if _APPLICATIONS in x.path]
        if not ucwa:
            raise RecordingError(
                f"{self.name}: no UCWA traffic (of {len(self.exchanges)} requests, none to an "
                "application under .../applications); record a session that signs in and "
                "creates an application")
        servers = sorted({urlsplit(x.url).netloc for x in ucwa})
        if len(servers) > 1:
            raise RecordingError(
                f"{self.name}: UCWA traffic from {len(servers)} servers "
                f"({', '.join(servers)}); a scenario is one server: record one per file")
        self.server = servers[0]
        self.events = df[df.kind == "event"]

    @staticmethod
    def _exchange(row: Any) -> Exchange:
        headers = row.response_headers if isinstance(row.response_headers, tuple) else ()
        content_type = next(iter(header_values(headers, "content-type")), None)
        media = content_type.split(";", 1)[0].strip().lower() if content_type else None
        body = text_of(row.response_body)
        status = None if row.status is pd.NA or pd.isna(row.status) else int(row.status)
        url = str(row.url)
        return Exchange(
            seq=int(row.seq), time=row.time,
            elapsed_ms=0.0 if pd.isna(row.elapsed_ms) else float(row.elapsed_ms),
            method=str(row.method), url=url, path=urlsplit(url).path, status=status,
            operation_id=text_of(row.operation_id), request_body=text_of(row.request_body),
            body=_parsed(body, content_type), response_body=body, media_type=media,
            headers=headers,
            request_headers=row.request_headers if isinstance(row.request_headers, tuple)
            else (),
            location=text_of(row.location))

    def resources(self) -> Iterator[tuple[Exchange, Resource]]:
        """Every successful response that is a UCWA resource, with its exchange."""
        for exchange in self.exchanges:
            if isinstance(exchange.body, Resource) and exchange.status is not None \
                    and 200 <= exchange.status < 300:
                yield exchange, exchange.body

    def first(self, rel: str) -> Resource | None:
        """The first resource of type ``rel`` the recording shows, top-level or embedded."""
        for _, resource in self.resources():
            found = find(resource, rel)
            if found is not None:
                return found
        return None


def find(resource: Resource, rel: str) -> Resource | None:
    """``resource`` itself or the first resource of type ``rel`` it embeds, at any depth."""
    if resource.rel == rel:
        return resource
    for items in resource.embedded.values():
        for item in items:
            found = find(item, rel)
            if found is not None:
                return found
    return None
