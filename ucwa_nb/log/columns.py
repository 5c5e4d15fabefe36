"""The log's columns: one spec, from which the row, the DataFrame and the HAR mapping follow.

Each field of ``LogRow`` is one column, in the DataFrame's order. Its annotation gives the
Python type, its default what a row holds when nobody gives the value, and the ``Column``
in the annotation everything else: the pandas dtype, where the value comes from, how it is
redacted, and its place in a HAR file's custom objects. ``SPEC`` reads them back as complete
``Column`` entries; ``COLUMNS`` and ``DTYPES`` are its names and dtypes. Nothing else lists
the columns: a caller of ``LogRow`` names only the columns it knows, ``ucwa_nb.log.store``
types them by dtype, and ``ucwa_nb.log.har`` writes and reads the custom members by name. So
a new column is one field here, plus, if no caller gives it yet, the code that finds its
value (a derivation in ``ucwa_nb.log.derive`` called from ``ExchangeLog``, or a keyword of
``record_http``).

Text columns use pandas' ``string`` dtype with python storage (missing values are
``pd.NA``): it means the same thing in pandas 2 and 3, and it can be filled in place, which
the incremental build in ``ucwa_nb.log.store`` relies on.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, NamedTuple

import numpy as np
import pandas as pd

from ucwa_nb.log.redaction import Headers
from ucwa_nb.protocol.representation import Format

__all__ = ["COLUMNS", "DTYPES", "HEADER_COLUMNS", "SPEC", "Column", "LogRow", "Redaction",
           "Source"]

# Where a column's value comes from: the log itself, the HTTP request or response as sent,
# the client (what it knows of the exchange: the rel it followed), the event delivered, or a
# derivation (ucwa_nb.log.derive) from those.
Source = Literal["log", "request", "response", "client", "event", "derived"]
# How a value is redacted when a row is recorded (ucwa_nb.log.redaction): as text, as a body
# (bytes decoded, empty is None), as headers, or not at all (numbers, times, categories).
Redaction = Literal["text", "body", "headers", "none"]


@dataclass(frozen=True)
class Column:
    """One column: what ``Annotated`` adds to a ``LogRow`` field, and, in ``SPEC``, with the
    field's ``name`` and ``default`` filled in."""

    dtype: Any
    source: Source
    doc: str
    redaction: Redaction = "text"
    # The member that carries the value in a HAR file where HAR 1.2 has no place for it:
    # ``entry._ucwa`` of an http row, the event's object in ``log._ucwaEvents``. None: a
    # standard HAR field carries it (ucwa_nb.log.har maps those), or nothing does.
    har_entry: str | None = None
    har_event: str | None = None
    name: str = ""
    default: Any = None


_TEXT: Final = pd.StringDtype("python")
_CATEGORY: Final = pd.CategoricalDtype
_HEADERS: Final = np.dtype(object)


class LogRow(NamedTuple):
    """One row of the log; the fields are the DataFrame's columns, in the same order."""

    seq: Annotated[int, Column(
        np.dtype(np.int64), "log", "0, 1, 2, ... the order rows were recorded",
        redaction="none", har_entry="seq", har_event="seq")]
    kind: Annotated[Literal["http", "event"], Column(
        _CATEGORY(["http", "event"]), "log", "http exchange or delivered event",
        redaction="none")]
    time: Annotated[datetime, Column(
        pd.DatetimeTZDtype("ns", "UTC"), "log", "http: request start; event: delivery time",
        redaction="none", har_event="time")]
    elapsed_ms: Annotated[float | None, Column(
        np.dtype(np.float64), "response", "http: request to response; NaN for events",
        redaction="none")] = None
    method: Annotated[str | None, Column(_TEXT, "request", "the HTTP method")] = None
    url: Annotated[str | None, Column(
        _TEXT, "request", "the request's url; event rows: the poll that carried it",
        har_event="url")] = None
    rel: Annotated[str | None, Column(
        _TEXT, "client", "http: link rel followed; event: link.rel",
        har_entry="rel", har_event="rel")] = None
    status: Annotated[int | None, Column(
        pd.Int64Dtype(), "response", "NA for events and transport failures",
        redaction="none")] = None
    code: Annotated[str | None, Column(
        _TEXT, "derived", "UCWA error (body) or event failure reason",
        har_entry="code", har_event="code")] = None
    subcode: Annotated[str | None, Column(
        _TEXT, "derived", "UCWA error (body) or event failure reason",
        har_entry="subcode", har_event="subcode")] = None
    operation_id: Annotated[str | None, Column(
        _TEXT, "derived", "from the request (body or query) or the event",
        har_entry="operationId", har_event="operationId")] = None
    format: Annotated[Format | None, Column(
        _CATEGORY(["json", "xml"]), "derived", "the exchange's UCWA dialect",
        redaction="none", har_entry="format", har_event="format")] = None
    request_body: Annotated[str | None, Column(
        _TEXT, "request", "the body sent", redaction="body")] = None
    response_body: Annotated[str | None, Column(
        _TEXT, "response", "event rows: the event as a one-event batch", redaction="body",
        har_event="body")] = None
    location: Annotated[str | None, Column(
        _TEXT, "derived", "http: Location header, absolute; event: link.href, absolute",
        har_event="href")] = None
    event_type: Annotated[str | None, Column(
        _TEXT, "event", "started, updated, completed, added, deleted",
        har_event="type")] = None
    event_status: Annotated[str | None, Column(
        _TEXT, "event", "Success / Failure on completed events", har_event="status")] = None
    error: Annotated[str | None, Column(
        _TEXT, "client", "transport or client error message", har_entry="error")] = None
    request_headers: Annotated[Headers, Column(
        _HEADERS, "request", "((name, value), ...), repeats kept",
        redaction="headers")] = ()
    response_headers: Annotated[Headers, Column(
        _HEADERS, "response", "((name, value), ...), repeats kept",
        redaction="headers")] = ()
    http_version: Annotated[str | None, Column(
        _TEXT, "response", '"HTTP/1.1", "HTTP/2"', redaction="none")] = None


def _spec() -> tuple[Column, ...]:
    hints = typing.get_type_hints(LogRow, include_extras=True)
    defaults = LogRow._field_defaults
    spec = []
    for name in LogRow._fields:
        column = next(m for m in hints[name].__metadata__ if isinstance(m, Column))
        spec.append(dataclasses.replace(column, name=name, default=defaults.get(name)))
    return tuple(spec)


SPEC: Final = _spec()
COLUMNS: Final = LogRow._fields
DTYPES: Final[dict[str, Any]] = {column.name: column.dtype for column in SPEC}
HEADER_COLUMNS: Final = tuple(c.name for c in SPEC if c.redaction == "headers")
