"""ucwa_nb.log.columns: the one spec of the log's columns, and everything that follows it.

A column is one field of LogRow. These tests check that the row, the DataFrame, redaction
and HAR export and import all take every column from the spec, so that adding a field is
enough for all of them.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ucwa_nb.log.columns import COLUMNS, DTYPES, HEADER_COLUMNS, SPEC, LogRow
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.redaction import REDACTED

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
APP = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/102"
SECRET = "s3cret-value"


def test_the_spec_is_the_row() -> None:
    assert tuple(c.name for c in SPEC) == COLUMNS == LogRow._fields
    assert {c.name: c.dtype for c in SPEC} == DTYPES
    assert HEADER_COLUMNS == ("request_headers", "response_headers")
    for column in SPEC:
        assert column.doc
        assert column.source
    # Only seq, kind and time have no default: every other column may be left out.
    row = LogRow(seq=0, kind="event", time=T0)
    assert row == tuple([0, "event", T0] + [c.default for c in SPEC[3:]])


def test_every_column_is_in_the_frame_with_its_dtype() -> None:
    log = ExchangeLog(lambda: T0)
    log.record_row(kind="event", url=f"{APP}/events", event_type="started")
    assert log.df.dtypes.to_dict() == {c.name: c.dtype for c in SPEC}


def test_every_text_column_is_redacted_when_given_by_name() -> None:
    log = ExchangeLog(lambda: T0)
    log.add_secret(SECRET)
    given: dict[str, Any] = {
        c.name: f"x {SECRET} y" for c in SPEC if c.redaction in ("text", "body")}
    headers: dict[str, Any] = {
        c.name: [("X-Note", SECRET)] for c in SPEC if c.redaction == "headers"}
    row = log.record_row(kind="http", **given, **headers)
    assert SECRET not in repr(row)
    assert all(getattr(row, name) == f"x {REDACTED} y" for name in given)
    # A column that is not redacted must not hold text a secret could hide in.
    assert {c.name for c in SPEC if c.redaction == "none"} == {
        "seq", "kind", "time", "elapsed_ms", "status", "format", "http_version"}


def test_every_column_with_a_har_member_can_be_restored() -> None:
    # HAR import passes an entry's _ucwa members to record_http by column name, and an
    # event's members to record_row: each such column must be a keyword there (seq is the
    # log's own, time is the entry's startedDateTime).
    keywords = set(inspect.signature(ExchangeLog.record_http).parameters)
    assert {c.name for c in SPEC if c.har_entry} - {"seq"} <= keywords


def _full_log() -> ExchangeLog:
    """An http row and an event row with every column of their kind set."""
    log = ExchangeLog(lambda: T0)
    log.record_http(
        method="POST", url=f"{APP}/communication/addPhoneAudio?x=1", status=409,
        request_headers=[("Content-Type", "application/json")],
        request_body='{"operationId":"op-1"}',
        response_headers=[("Content-Type", "application/json"), ("Location", "/inv/1")],
        response_body='{"code":"Conflict","subcode":"AlreadyExists","message":"no"}',
        elapsed_ms=12.5, rel="addPhoneAudio", error="noted", time=T0, http_version="HTTP/2",
    )
    log.record_row(
        kind="event", time=T0, url=f"{APP}/events?ack=2", rel="phoneAudioInvitation",
        code="RemoteFailure", subcode="Declined", operation_id="op-1", format="json",
        response_body='{"sender":[]}', location=f"{APP}/inv/1", event_type="completed",
        event_status="Failure",
    )
    return log


def test_every_column_survives_a_har_round_trip(tmp_path: Path) -> None:
    log = _full_log()
    http, event = log.rows
    # Every column is set on one of the rows (not at its default), so the round trip
    # below shows that HAR carries each of them.
    unset = {c.name for c in SPEC
             if getattr(http, c.name) == c.default and getattr(event, c.name) == c.default}
    assert unset == set()
    path = tmp_path / "full.har"
    log.to_har(path)
    back = ExchangeLog.from_har(path)
    assert back.rows == log.rows
    pd.testing.assert_frame_equal(back.df, log.df)
