"""The exchange log: every HTTP exchange and every delivered event, as rows of a DataFrame.

``ExchangeLog`` receives plain data from the client (an httpx event hook, the event-channel
thread) or from a HAR file, redacts secrets (``ucwa_nb.log.redaction``), derives what a row
says about the exchange (``ucwa_nb.log.derive``: format, operation_id, code/subcode,
location), and shows the rows as ``log.df``: a pandas DataFrame with one row per HTTP exchange
(discovery, token, every event poll included) and one per delivered event, in the order the
log received them (``seq``, 0-based, gapless, equal to the index). The columns and their
dtypes are ``ucwa_nb.log.columns``; why ``.df`` is cheap to call again, ``ucwa_nb.log.store``.
HAR files go out and come in here (``to_har``, ``from_har``, ``read_har``), converted by
``ucwa_nb.log.har``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from os import PathLike
from typing import Any, Final, Literal

import pandas as pd

from ucwa_nb.log import csv_export, har
from ucwa_nb.log.columns import COLUMNS, DTYPES, HEADER_COLUMNS, SPEC, LogRow
from ucwa_nb.log.derive import (
    LOCATION_NOT_A_URL,
    error_reason,
    event_fields,
    exchange_format,
    header_value,
    request_operation_id,
    resolve_location,
)
from ucwa_nb.log.redaction import HeadersLike, Redactor
from ucwa_nb.log.store import ColumnStore
from ucwa_nb.protocol.representation import Event, Events, Format, Sender

# The row's shape is defined in columns; it is imported from here by most callers.
__all__ = ["COLUMNS", "DTYPES", "HEADER_COLUMNS", "ExchangeLog", "LogRow", "load_har",
           "read_har"]

# How each column's value is redacted when a row is given column by column (record_row).
_REDACTION: Final = {column.name: column.redaction for column in SPEC}

_logger = logging.getLogger(__name__)


def _utc(value: datetime) -> datetime:
    # A naive datetime from an injected clock is taken to be UTC already.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        self._store = ColumnStore()
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
        error: str | None = None,
        time: datetime | None = None,
        http_version: str | None = "HTTP/1.1",
        operation_id: str | None = None,
        format: Format | None = None,
        code: str | None = None,
        subcode: str | None = None,
        location: str | None = None,
    ) -> LogRow:
        """Record one exchange from what went over the wire; ``status`` None means no
        response (``error`` says why), ``rel`` is the link followed, ``time`` when the request
        started (default: now minus ``elapsed_ms``).

        The log derives the rest (``ucwa_nb.log.derive``): operation_id from the request's
        body or query, format by ``exchange_format``'s rule, code/subcode from a UCWA error
        body, location from the Location header made absolute. ``operation_id``, ``format``,
        ``code``, ``subcode`` and ``location`` may still be given, and a value given wins
        (a HAR file restores the values it recorded); left None, they are derived.
        """
        r = self.redactor
        req_headers, resp_headers = r.headers(request_headers), r.headers(response_headers)
        url, req_body, resp_body = r.text(url), r.body(request_body), r.body(response_body)
        if location is None:
            location, readable = resolve_location(url, header_value(resp_headers, "location"))
            if not readable:
                error = "; ".join(filter(None, [error, LOCATION_NOT_A_URL]))
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
            error=r.optional(error),
            request_headers=req_headers,
            response_headers=resp_headers,
            http_version=http_version,
        )

    def record_event(
        self,
        *,
        url: str,
        sender: Sender | None = None,
        event: Event | None = None,
        format: Format | None = None,
        time: datetime | None = None,
        event_type: str | None = None,
        rel: str | None = None,
        href: str | None = None,
        event_status: str | None = None,
        operation_id: str | None = None,
        code: str | None = None,
        subcode: str | None = None,
        body: str | bytes | None = None,
    ) -> LogRow:
        """Record one delivered event: ``event`` as its ``sender`` sent it in the batch
        that the poll ``url`` answered in ``format``; ``time`` is when it was delivered
        (default: now).

        The row's fields are derived from the event (``ucwa_nb.log.derive.event_fields``):
        its href, made absolute against ``url``, is stored as ``location``, so
        ``df.location == call.location`` finds the POST that created an invitation and every
        event about it. Instead of ``sender`` and ``event`` the fields may be given one by
        one (``event_type`` ... ``body``), as a HAR file restores the rows it recorded.
        """
        given = (event_type, rel, href, event_status, operation_id, code, subcode, body)
        if event is not None:
            if sender is None or any(value is not None for value in given):
                raise TypeError("record_event: give an event with its sender, or the fields")
            fields = event_fields(url, sender, event, format)
        elif event_type is None:
            raise TypeError("record_event: give an event with its sender, or the fields")
        else:
            fields = {"event_type": event_type, "rel": rel, "location": href,
                      "event_status": event_status, "operation_id": operation_id,
                      "code": code, "subcode": subcode, "response_body": body}
        return self.record_row(kind="event", time=time, url=url, format=format, **fields)

    def record_row(
        self, *, kind: Literal["http", "event"], time: datetime | None = None, **columns: Any
    ) -> LogRow:
        """Record a row given column by column, as a HAR file restores an event row: each
        value is redacted by its column's rule (``ucwa_nb.log.columns``), the columns not
        given keep their defaults, ``seq`` is the log's and ``time`` defaults to now."""
        r = self.redactor
        for name, value in columns.items():
            if value is None:
                continue
            rule = _REDACTION[name]
            if rule == "text":
                columns[name] = r.text(value)
            elif rule == "body":
                columns[name] = r.body(value)
            elif rule == "headers":
                columns[name] = r.headers(value)
        return self._append(kind=kind, time=_utc(time or self._clock()), **columns)

    def record_events(
        self,
        *,
        url: str,
        events: Events,
        format: Format | None = None,
        time: datetime | None = None,
    ) -> list[LogRow]:
        """Record every event of a batch (see ``record_event``), in the batch's order."""
        return [
            self.record_event(url=url, sender=sender, event=event, format=format, time=time)
            for sender, event in events.all_events()
        ]

    def _append(self, **fields: Any) -> LogRow:
        # The columns not given keep LogRow's defaults: each caller names only its own.
        with self._lock:
            row = LogRow(seq=len(self._rows), **fields)
            self._rows.append(row)
            self._store.stage(row)
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
        """The log as a DataFrame (columns and dtypes: ``ucwa_nb.log.columns``).

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
        """The DataFrame without the header columns, as UTF-8 CSV; a text cell that a
        spreadsheet would run as a formula starts with ``'`` (``ucwa_nb.log.csv_export``)."""
        csv_export.write_csv(self.df.drop(columns=list(HEADER_COLUMNS)), path)

    def to_har(self, path: str | PathLike[str]) -> None:
        """A HAR 1.2 file of the rows; see ``ucwa_nb.log.har``."""
        har.write_har(self.rows, path)

    @classmethod
    def from_har(cls, path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> ExchangeLog:
        """Replay a HAR file (ours, or a DevTools/Fiddler export) into a new ExchangeLog.

        Everything is redacted on the way in, with the usual rules plus ``secrets``. A file
        that is not a readable HAR raises ``HarError`` (a ``ValueError``) naming what is
        wrong and where (``ucwa_nb.log.har_input``); one that cannot be opened, ``OSError``.
        """
        log = cls(redactor=Redactor(secrets))
        document = har.read_document(path)
        try:
            har.replay(document, log.record_http, log.record_row)
        except har.HarError as exc:
            exc.path = str(path)
            raise
        return log


def load_har(path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> ExchangeLog:
    """A HAR file as a new ExchangeLog (``ExchangeLog.from_har``)."""
    return ExchangeLog.from_har(path, secrets=secrets)


def read_har(path: str | PathLike[str], *, secrets: Iterable[str] = ()) -> pd.DataFrame:
    """A HAR file as a DataFrame in the shape of ``ExchangeLog.df``."""
    return ExchangeLog.from_har(path, secrets=secrets).df
