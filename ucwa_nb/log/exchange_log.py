"""The exchange log: every HTTP exchange and every delivered event, as rows of a DataFrame.

``ExchangeLog`` receives rows from the client (an httpx event hook, the event-channel thread)
and shows them as ``log.df``, a pandas DataFrame with one row per HTTP exchange (discovery,
token, every event poll included) and one per delivered event, in the order the log received
them (``seq``, 0-based, gapless, equal to the index).

Columns, in order, and their dtypes:

==================  ==========================  ==============================================
seq                 int64                       0, 1, 2, ... the order rows were recorded
kind                category "http" | "event"
time                datetime64[ns, UTC]         http: request start; event: delivery time
elapsed_ms          float64                     http: request to response; NaN for events
method, url         string                      event rows: url of the poll that carried it
rel                 string                      http: link rel followed; event: link.rel
status              Int64 (nullable)            NA for events and transport failures
code, subcode       string                      UCWA error (body) or event failure reason
operation_id        string                      from the request (body or query) or event
format              category "json" | "xml"
request_body        string
response_body       string                      event rows: the event as a one-event batch
location            string                      http: Location header; event: link.href
event_type          string                      started, updated, completed, added, deleted
event_status        string                      Success / Failure on completed events
error               string                      transport or client error message
request_headers     object: tuple of pairs      ((name, value), ...), repeats kept
response_headers    object: tuple of pairs
http_version        string                      "HTTP/1.1", "HTTP/2"
==================  ==========================  ==============================================

Text columns use pandas' ``string`` dtype with python storage (missing values are
``pd.NA``): it means the same thing in pandas 2 and 3, and it can be filled in place, which
the incremental build below relies on. Secrets are redacted before a row is stored
(``ucwa_nb.log.redaction``).

Why ``.df`` is cheap to call again and again: recording a row only appends it to a list.
``.df`` converts just the rows recorded since the previous call and writes them into typed
column buffers that have spare capacity (doubling, like a list); the frame is a zero-copy
slice of those buffers. With no new row it returns the cached frame; after one new row it
converts one row (``tests/perf/bench_log.py`` measures both against a full build).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from os import PathLike
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from ucwa_nb.log.redaction import Headers, HeadersLike, Redactor
from ucwa_nb.protocol.representation import (
    Events,
    Format,
    ParseError,
    Reason,
    Sender,
    build_events,
    format_of,
    parse,
    parse_input,
)

__all__ = [
    "COLUMNS",
    "DTYPES",
    "HEADER_COLUMNS",
    "ExchangeLog",
    "LogRow",
    "error_reason",
    "exchange_format",
    "header_value",
    "request_operation_id",
    "status_text",
]

_logger = logging.getLogger(__name__)


class LogRow(NamedTuple):
    """One row of the log; the fields are the DataFrame's columns, in the same order."""

    seq: int
    kind: Literal["http", "event"]
    time: datetime
    elapsed_ms: float | None
    method: str | None
    url: str | None
    rel: str | None
    status: int | None
    code: str | None
    subcode: str | None
    operation_id: str | None
    format: Format | None
    request_body: str | None
    response_body: str | None
    location: str | None
    event_type: str | None
    event_status: str | None
    error: str | None
    request_headers: Headers
    response_headers: Headers
    http_version: str | None


COLUMNS: Final = LogRow._fields
HEADER_COLUMNS: Final = ("request_headers", "response_headers")
_STRING: Final = pd.StringDtype("python")
DTYPES: Final[dict[str, Any]] = {name: _STRING for name in COLUMNS} | {
    "seq": np.dtype(np.int64),
    "kind": pd.CategoricalDtype(["http", "event"]),
    "time": pd.DatetimeTZDtype("ns", "UTC"),
    "elapsed_ms": np.dtype(np.float64),
    "status": pd.Int64Dtype(),
    "format": pd.CategoricalDtype(["json", "xml"]),
    "request_headers": np.dtype(object),
    "response_headers": np.dtype(object),
}

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _utc(value: datetime) -> datetime:
    # A naive datetime from an injected clock is taken to be UTC already.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def status_text(status: int | None) -> str:
    """The reason phrase of a status code, "" when unknown."""
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""


# --------------------------------------------------------------------------- column store


def _typed(column: Any, dtype: Any) -> Any:
    """An object array of str/None/int/... as an array of ``dtype`` (None is missing)."""
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.full(len(column), -1, dtype=np.int8)
        for code, category in enumerate(dtype.categories):
            codes[column == category] = code
        return pd.Categorical.from_codes(codes, dtype=dtype)
    if isinstance(dtype, pd.Int64Dtype):
        missing = pd.isna(column)
        return pd.arrays.IntegerArray(np.where(missing, 0, column).astype(np.int64), missing)
    if dtype == np.dtype(np.float64):
        return np.where(pd.isna(column), np.nan, column).astype(np.float64)
    if isinstance(dtype, np.dtype):
        return column.astype(dtype)
    return pd.array(column, dtype=dtype)


def _empty(dtype: Any) -> Any:
    return _typed(np.empty(0, dtype=object), dtype)


# Every field as an object: np.fromiter with this dtype transposes a list of rows into
# columns in one C loop, which is faster than zip(*rows) and than staging each row column by
# column as it is recorded, and leaves numpy arrays, which pandas converts faster than lists.
_TABLE: Final = np.dtype([(name, object) for name in COLUMNS])


class _ColumnStore:
    """Rows waiting to be typed, then typed buffers with spare capacity that ``frame()``
    slices without copying.

    Not thread-safe on its own: the ExchangeLog calls it under its lock.
    """

    def __init__(self) -> None:
        self.size = 0  # rows in the typed buffers
        self._capacity = 0
        self._pending: list[LogRow] = []
        self._pending_ns: list[int] = []
        self._buffers: dict[str, Any] = {name: _empty(dtype) for name, dtype in DTYPES.items()}
        self._root = self._wrap()

    def _wrap(self) -> pd.DataFrame:
        # Explicit dtypes stop pandas from scanning object buffers to infer types. Frames
        # handed out are row slices of this root frame, so copy-on-write knows they share
        # memory with it: editing a returned frame copies instead of writing into a buffer.
        series = {
            name: pd.Series(buffer, dtype=DTYPES[name], copy=False)
            for name, buffer in self._buffers.items()
        }
        return pd.DataFrame(series, copy=False)

    def _grow(self, capacity: int) -> None:
        keep = self.size
        for name, old in self._buffers.items():
            if isinstance(old, np.ndarray):
                new: Any = np.empty(capacity, dtype=old.dtype)
                new[:keep] = old[:keep]
            else:
                indexer = np.full(capacity, -1, dtype=np.intp)
                indexer[:keep] = np.arange(keep)
                new = old.take(indexer, allow_fill=True)
            self._buffers[name] = new
        self._capacity = capacity
        # Frames sliced from the previous root keep the old buffers alive and never see
        # later rows, which are written to the new buffers only.
        self._root = self._wrap()

    def stage(self, row: LogRow, time_ns: int) -> None:
        self._pending.append(row)
        self._pending_ns.append(time_ns)  # the time column is built from integers

    @property
    def staged(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Type the pending rows and write them after the rows already typed."""
        count = len(self._pending)
        if not count:
            return
        end = self.size + count
        if end > self._capacity:
            # Headroom past `end` too: a first build of a long log must not make the very
            # next row copy every buffer again.
            self._grow(max(end + end // 2, 2 * self._capacity, 1024))
        table = np.fromiter(self._pending, dtype=_TABLE, count=count)
        for name, dtype in DTYPES.items():
            if name == "time":
                naive = pd.array(np.array(self._pending_ns, dtype=np.int64).view("M8[ns]"))
                array: Any = naive.tz_localize("UTC")
            else:
                array = _typed(np.ascontiguousarray(table[name]), dtype)
            self._buffers[name][self.size : end] = array
        self._pending.clear()
        self._pending_ns.clear()
        self.size = end

    def frame(self) -> pd.DataFrame:
        return self._root.iloc[: self.size]


# --------------------------------------------------------------------------- derivation


def header_value(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


def _property(properties: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in properties.items() if k.lower() == lowered), None)


def exchange_format(request_headers: Headers, response_headers: Headers) -> Format | None:
    """json/xml of an exchange: the response's Content-Type, else the request's, else Accept."""
    for headers, name in (
        (response_headers, "content-type"),
        (request_headers, "content-type"),
        (request_headers, "accept"),
    ):
        value = header_value(headers, name)
        fmt = format_of(value.split(",", 1)[0]) if value else None
        if fmt is not None:
            return fmt
    return None


def request_operation_id(url: str, headers: Headers, body: str | None) -> str | None:
    """The operationId a request carries, in its body or its query (UCWA accepts both)."""
    if body and "operationid" in body.lower():
        try:
            found = _property(
                parse_input(body, header_value(headers, "content-type")), "operationId"
            )
        except ParseError:
            found = None
        if found:
            return str(found)
    if "operationid" in url.lower():
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        return next((v for k, v in query if k.lower() == "operationid" and v), None)
    return None


def error_reason(status: int | None, headers: Headers, body: str | None) -> Reason | None:
    """The UCWA error structure of a failed response, if its body is one."""
    if status is None or status < 400 or not body:
        return None
    try:
        parsed = parse(body, header_value(headers, "content-type"))
    except ParseError:
        return None
    return parsed if isinstance(parsed, Reason) else None


# --------------------------------------------------------------------------- the log

Subscriber = Callable[[LogRow], object]


class ExchangeLog:
    """Thread-safe, append-only log of HTTP exchanges and events; see the module docstring."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self._clock = clock or _utcnow
        self.redactor = redactor or Redactor()
        self._lock = threading.Lock()
        self._rows: list[LogRow] = []
        self._store = _ColumnStore()
        self._frame: pd.DataFrame | None = None
        self.df_builds = 0  # how many times .df had new rows to convert (diagnostics, tests)
        self._subscribers: list[Subscriber] = []
        self._undelivered: deque[LogRow] = deque()
        self._delivering = threading.Lock()

    # ----------------------------------------------------------------- recording

    def add_secret(self, value: str | None) -> None:
        """Redact this string wherever it appears in rows recorded from now on."""
        self.redactor.add_secret(value)

    def record_http(
        self,
        *,
        method: str,
        url: str,
        status: int | None,
        request_headers: HeadersLike | None,
        request_body: str | bytes | None,
        response_headers: HeadersLike | None,
        response_body: str | bytes | None,
        elapsed_ms: float,
        rel: str | None = None,
        operation_id: str | None = None,
        format: Format | None = None,
        code: str | None = None,
        subcode: str | None = None,
        location: str | None = None,
        error: str | None = None,
        time: datetime | None = None,
        http_version: str | None = "HTTP/1.1",
    ) -> LogRow:
        """Record one exchange. ``time`` is when the request started (default: now minus
        ``elapsed_ms``). Fields left None are derived as ``read_har`` derives them: format
        from the content types, location from the header, operation_id from the request,
        code/subcode from a UCWA error body."""
        r = self.redactor
        req_headers, resp_headers = r.headers(request_headers), r.headers(response_headers)
        url, req_body, resp_body = r.text(url), r.body(request_body), r.body(response_body)
        if location is None:
            location = header_value(resp_headers, "location")
        if operation_id is None:
            operation_id = request_operation_id(url, req_headers, req_body)
        if code is None and subcode is None:
            reason = error_reason(status, resp_headers, resp_body)
            if reason is not None:
                code, subcode = reason.code, reason.subcode
        if time is None:
            time = self._clock() - timedelta(milliseconds=elapsed_ms)
        return self._append(
            kind="http",
            time=_utc(time),
            elapsed_ms=float(elapsed_ms),
            method=method.upper(),
            url=url,
            rel=r.optional(rel),
            status=None if status is None else int(status),
            code=r.optional(code),
            subcode=r.optional(subcode),
            operation_id=r.optional(operation_id),
            format=format or exchange_format(req_headers, resp_headers),
            request_body=req_body,
            response_body=resp_body,
            location=r.optional(location),
            event_type=None,
            event_status=None,
            error=r.optional(error),
            request_headers=req_headers,
            response_headers=resp_headers,
            http_version=http_version,
        )

    def record_event(
        self,
        *,
        url: str,
        event_type: str,
        rel: str | None,
        href: str | None,
        event_status: str | None = None,
        operation_id: str | None = None,
        code: str | None = None,
        subcode: str | None = None,
        format: Format | None = None,
        body: str | bytes | None = None,
        time: datetime | None = None,
    ) -> LogRow:
        """Record one delivered event; ``url`` is the poll that carried it, ``href`` its
        target (stored as ``location``, so ``df.location == call.location`` finds the POST
        that created an invitation and every event about it)."""
        r = self.redactor
        return self._append(
            kind="event",
            time=_utc(time or self._clock()),
            elapsed_ms=None,
            method=None,
            url=r.text(url),
            rel=r.optional(rel),
            status=None,
            code=r.optional(code),
            subcode=r.optional(subcode),
            operation_id=r.optional(operation_id),
            format=format,
            request_body=None,
            response_body=r.body(body),
            location=r.optional(href),
            event_type=r.text(event_type),
            event_status=r.optional(event_status),
            error=None,
            request_headers=(),
            response_headers=(),
            http_version=None,
        )

    def record_events(
        self,
        *,
        url: str,
        events: Events,
        format: Format | None = None,
        time: datetime | None = None,
    ) -> list[LogRow]:
        """Record every event of a batch, each with the fields ``read_har`` derives."""
        rows = []
        for sender, event in events.all_events():
            resource = event.resource
            operation_id = resource.get("operationId") if resource is not None else None
            reason = event.reason
            alone = Events(senders=[Sender(sender.rel, sender.href, [event])])
            rows.append(
                self.record_event(
                    url=url,
                    event_type=event.type,
                    rel=event.link.rel,
                    href=event.link.href,
                    event_status=event.status,
                    operation_id=None if operation_id is None else str(operation_id),
                    code=reason.code if reason else None,
                    subcode=reason.subcode if reason else None,
                    format=format,
                    body=build_events(alone, format or "json"),
                    time=time,
                )
            )
        return rows

    def _append(self, *, time: datetime, **fields: Any) -> LogRow:
        ns = (time - _EPOCH) // _MICROSECOND * 1000
        with self._lock:
            row = LogRow(seq=len(self._rows), time=time, **fields)
            self._rows.append(row)
            self._store.stage(row, ns)
            if self._subscribers:
                self._undelivered.append(row)
        if self._undelivered:
            self._deliver()
        return row

    # ----------------------------------------------------------------- subscribers

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(row)`` for every row recorded from now on; returns unsubscribe.

        Callbacks run on a thread that is recording (the caller's or the event thread),
        one at a time and in ``seq`` order. An exception in a callback is logged (logger
        ``ucwa_nb.log.exchange_log``) and does not stop logging nor the other callbacks. A
        callback may read ``.df`` or record rows itself.
        """
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _deliver(self) -> None:
        # Whoever holds _delivering drains the queue for everybody, so rows reach callbacks
        # in order and never concurrently; a thread that finds it busy leaves its row to the
        # holder. The outer loop re-checks after releasing: a row queued after the holder saw
        # an empty queue but before it let go would otherwise wait for the next row.
        while self._undelivered and self._delivering.acquire(blocking=False):
            try:
                while True:
                    with self._lock:
                        if not self._undelivered:
                            break
                        row = self._undelivered.popleft()
                        callbacks = list(self._subscribers)
                    for callback in callbacks:
                        try:
                            callback(row)
                        except Exception:
                            _logger.exception("log subscriber %r failed", callback)
            finally:
                self._delivering.release()

    # ----------------------------------------------------------------- reading

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"<ExchangeLog: {len(self)} rows>"

    @property
    def rows(self) -> list[LogRow]:
        """A snapshot of the rows recorded so far."""
        with self._lock:
            return list(self._rows)

    @property
    def df(self) -> pd.DataFrame:
        """The log as a DataFrame (columns and dtypes in the module docstring).

        Each call returns a new shallow copy: adding a column or editing a cell of it never
        changes the log or what the next ``.df`` returns.
        """
        with self._lock:
            if self._frame is None or self._store.staged:
                self._store.flush()
                self._frame = self._store.frame()
                self.df_builds += 1
            frame = self._frame
        return frame.copy(deep=False)

    def filter(
        self,
        operation_id: str | None = None,
        kind: Literal["http", "event"] | None = None,
        status: int | None = None,
        rel: str | None = None,
    ) -> pd.DataFrame:
        """The rows matching every criterion given (None means any)."""
        df = self.df
        mask = pd.Series(True, index=df.index)
        for column, wanted in (
            ("operation_id", operation_id),
            ("kind", kind),
            ("status", status),
            ("rel", rel),
        ):
            if wanted is not None:
                mask &= (df[column] == wanted).fillna(False).astype(bool)
        return df[mask]

    def to_csv(self, path: str | PathLike[str]) -> None:
        """The DataFrame without the header columns, as UTF-8 CSV."""
        self.df.drop(columns=list(HEADER_COLUMNS)).to_csv(path, index=False, encoding="utf-8")

    def to_har(self, path: str | PathLike[str]) -> None:
        """A HAR 1.2 file of the http rows; see ``ucwa_nb.log.har``."""
        from ucwa_nb.log.har import write_har  # har builds on this module

        write_har(self.rows, path)
