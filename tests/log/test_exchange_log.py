"""ExchangeLog: columns, order, derivations, filter, subscribers, threads, caching, secrets."""

from __future__ import annotations

import io
import logging
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from ucwa_nb.log.exchange_log import COLUMNS, DTYPES, HEADER_COLUMNS, ExchangeLog, LogRow
from ucwa_nb.log.redaction import REDACTED
from ucwa_nb.protocol.representation import Event, Events, Link, Reason, Resource, Sender, parse

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
TOKEN = "cwt=AAEBHAEFAAAAAAAFFQAAAO/+token+/Zq9Vbuhc="
PASSWORD = "ucwa-demo"
APP = "https://sim.test/ucwa/oauth/v1/applications/102"


class Clock:
    """A clock that moves 1 ms each time it is read."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def http(log: ExchangeLog, **overrides: Any) -> LogRow:
    fields: dict[str, Any] = {
        "method": "GET",
        "url": f"{APP}/communication",
        "status": 200,
        "request_headers": {"Accept": "application/json"},
        "request_body": None,
        "response_headers": {"Content-Type": "application/json"},
        "response_body": '{"rel":"communication"}',
        "elapsed_ms": 5.0,
    }
    fields.update(overrides)
    return log.record_http(**fields)


def event(log: ExchangeLog, **overrides: Any) -> LogRow:
    fields: dict[str, Any] = {
        "url": f"{APP}/events?ack=2",
        "event_type": "started",
        "rel": "phoneAudioInvitation",
        "href": f"{APP}/communication/phoneAudioInvitations/1",
    }
    fields.update(overrides)
    return log.record_event(**fields)


def test_columns_and_dtypes_even_when_empty() -> None:
    log = ExchangeLog()
    for df in (log.df, (http(log), event(log), log.df)[-1]):
        assert tuple(df.columns) == COLUMNS
        assert df.dtypes.to_dict() == DTYPES
    assert COLUMNS[:18] == (
        "seq", "kind", "time", "elapsed_ms", "method", "url", "rel", "status", "code",
        "subcode", "operation_id", "format", "request_body", "response_body", "location",
        "event_type", "event_status", "error",
    )  # fmt: skip
    assert str(DTYPES["time"]) == "datetime64[ns, UTC]"
    assert list(DTYPES["kind"].categories) == ["http", "event"]
    assert list(DTYPES["format"].categories) == ["json", "xml"]


def test_rows_in_recording_order_with_typed_values() -> None:
    log = ExchangeLog(Clock())
    first = http(log, elapsed_ms=4.0, rel="communication")
    second = event(log, event_status="Success", event_type="completed")
    third = http(log, status=None, response_headers=None, response_body=None, error="boom")
    assert [first.seq, second.seq, third.seq] == [0, 1, 2]
    df = log.df
    assert list(df.seq) == [0, 1, 2] == list(df.index)
    assert list(df.kind) == ["http", "event", "http"]
    # An http row's time is when the request started: the clock minus the elapsed time.
    assert df.time[0] == pd.Timestamp(T0 + timedelta(milliseconds=1) - timedelta(milliseconds=4))
    assert df.time[1] == pd.Timestamp(T0 + timedelta(milliseconds=2))
    assert df.elapsed_ms[0] == 4.0
    assert np.isnan(df.elapsed_ms[1])
    assert df.status[0] == 200
    assert df.status.isna().tolist() == [False, True, True]
    assert df.error[2] == "boom"
    assert df.rel.tolist() == ["communication", "phoneAudioInvitation", pd.NA]
    assert df.event_status[1] == "Success"
    assert df.response_headers[0] == (("Content-Type", "application/json"),)
    assert df.request_headers[1] == ()
    assert len(log) == 3
    assert log.rows == [first, second, third]


def test_naive_and_foreign_clock_times_are_stored_in_utc() -> None:
    log = ExchangeLog(lambda: datetime(2024, 1, 1, 12, 0))
    row = event(log, time=datetime(2024, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    assert row.time == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert event(log).time == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert str(log.df.time.dt.tz) == "UTC"


def test_fields_derived_from_the_exchange() -> None:
    log = ExchangeLog()
    created = http(
        log,
        method="post",
        url=f"{APP}/communication/conversations/1/phoneAudio/addPhoneAudio",
        status=201,
        request_headers={"Content-Type": "application/vnd.microsoft.com.ucwa+json"},
        request_body=b'{"OperationID":"op-1","to":"sip:john@contoso.com"}',
        response_headers={"Location": f"{APP}/communication/phoneAudioInvitations/7"},
        response_body=b"",
    )
    assert created.method == "POST"
    assert created.operation_id == "op-1"  # property names are case-insensitive
    assert created.location == f"{APP}/communication/phoneAudioInvitations/7"
    assert created.format == "json"
    assert created.response_body is None

    xml = http(
        log,
        method="POST",
        status=409,
        request_headers={"Content-Type": "application/xml"},
        request_body=(
            '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            '<property name="operationId">op-2</property></input>'
        ),
        response_headers={"Content-Type": "application/xml"},
        response_body=(
            '<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
            "<code>Conflict</code><subcode>AlreadyExists</subcode></reason>"
        ),
    )
    assert (xml.operation_id, xml.code, xml.subcode, xml.format) == (
        "op-2",
        "Conflict",
        "AlreadyExists",
        "xml",
    )
    query = http(log, method="POST", url=f"{APP}/x/startPhoneAudio?operationId=op-3")
    assert query.operation_id == "op-3"
    accept = http(log, request_headers={"Accept": "application/xml"}, response_headers={})
    assert accept.format == "xml"
    # Values given by the caller win over derived ones.
    given = http(
        log,
        status=500,
        response_body='{"code":"ServiceFailure","subcode":"CallbackChannelError"}',
        code="Mine",
        operation_id="given",
        format="xml",
        location="/there",
    )
    assert (given.code, given.subcode, given.operation_id, given.format, given.location) == (
        "Mine",
        None,
        "given",
        "xml",
        "/there",
    )
    html = http(
        log,
        status=401,
        response_headers={"Content-Type": "text/html"},
        response_body="<html>401</html>",
    )
    assert html.code is None
    assert html.format == "json"  # not the HTML page's: the format the client asked for
    bare = http(log, request_headers={}, response_headers={"Content-Type": "text/html"})
    assert bare.format is None


def _batch() -> Events:
    invitation = Resource(
        "phoneAudioInvitation",
        "/inv/1",
        properties={"operationId": "op-1", "state": "Connecting"},
    )
    return Events(
        links={"next": [Link("next", "/events?ack=3")]},
        senders=[
            Sender(
                "communication",
                "/communication",
                [
                    Event(
                        "started",
                        Link("phoneAudioInvitation", "/inv/1"),
                        embedded={"phoneAudioInvitation": [invitation]},
                    ),
                    Event(
                        "completed",
                        Link("phoneAudioInvitation", "/inv/1"),
                        status="Failure",
                        reason=Reason("RemoteFailure", "Declined", "declined"),
                    ),
                ],
            ),
            Sender("conversation", "/conv/1", [Event("updated", Link("phoneAudio", "/pa"))]),
        ],
    )


def test_record_events_of_a_batch() -> None:
    log = ExchangeLog()
    rows = log.record_events(url="/events?ack=2", events=_batch(), format="xml")
    assert [(r.event_type, r.rel, r.location) for r in rows] == [
        ("started", "phoneAudioInvitation", "/inv/1"),
        ("completed", "phoneAudioInvitation", "/inv/1"),
        ("updated", "phoneAudio", "/pa"),
    ]
    assert rows[0].operation_id == "op-1"
    assert (rows[1].event_status, rows[1].code, rows[1].subcode) == (
        "Failure",
        "RemoteFailure",
        "Declined",
    )
    assert {r.format for r in rows} == {"xml"}
    # Each event's body is a one-event batch that parses back to that event.
    assert rows[1].response_body is not None
    alone = parse(rows[1].response_body, "application/xml")
    assert isinstance(alone, Events)
    assert [e.type for _, e in alone.all_events()] == ["completed"]


def test_filter() -> None:
    log = ExchangeLog()
    http(
        log,
        request_body='{"operationId":"a"}',
        request_headers={"Content-Type": "application/json"},
    )
    event(log, operation_id="a")
    event(log, operation_id="b")
    http(log, status=404, rel="conversation")
    assert log.filter(operation_id="a").seq.tolist() == [0, 1]
    assert log.filter(kind="event").seq.tolist() == [1, 2]
    assert log.filter(status=404).seq.tolist() == [3]
    assert log.filter(kind="http", status=200).seq.tolist() == [0]
    assert log.filter(rel="conversation").seq.tolist() == [3]
    assert log.filter().seq.tolist() == [0, 1, 2, 3]
    assert log.filter(operation_id="zzz").empty


def test_subscribers_get_rows_in_order_and_can_unsubscribe() -> None:
    log = ExchangeLog()
    seen: list[LogRow] = []
    unsubscribe = log.subscribe(seen.append)
    rows = [http(log), event(log)]
    assert seen == rows
    unsubscribe()
    unsubscribe()  # twice is harmless
    http(log)
    assert seen == rows


def test_a_failing_subscriber_does_not_break_logging(caplog: pytest.LogCaptureFixture) -> None:
    log = ExchangeLog()
    seen: list[int] = []

    def broken(row: LogRow) -> None:
        raise RuntimeError("widget exploded")

    log.subscribe(broken)
    log.subscribe(lambda row: seen.append(row.seq))
    with caplog.at_level(logging.ERROR, logger="ucwa_nb.log.exchange_log"):
        http(log)
        http(log)
    assert seen == [0, 1]
    assert len(log) == 2
    assert "widget exploded" in caplog.text


def test_a_subscriber_may_read_the_frame_and_record_rows() -> None:
    log = ExchangeLog()
    lengths: list[int] = []

    def callback(row: LogRow) -> None:
        lengths.append(len(log.df))
        if row.kind == "http":
            event(log)  # re-entrant: delivered after this callback returns

    log.subscribe(callback)
    http(log)
    # The event is recorded by the first callback after it read the frame, then delivered.
    assert lengths == [1, 2]
    assert log.df.kind.tolist() == ["http", "event"]


def test_concurrent_appends_give_gapless_seq() -> None:
    log = ExchangeLog()
    delivered: list[int] = []
    log.subscribe(lambda row: delivered.append(row.seq))
    threads, per_thread = 8, 400
    barrier = threading.Barrier(threads + 1)
    stop = threading.Event()
    frame_lengths: list[int] = []

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            if i % 2:
                event(log, rel=f"t{n}", href=str(i))
            else:
                http(log, rel=f"t{n}", url=f"https://x/{i}")

    def reader() -> None:
        barrier.wait()
        while not stop.is_set():
            frame_lengths.append(len(log.df))

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    watcher = threading.Thread(target=reader)
    for t in [*workers, watcher]:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    watcher.join()

    total = threads * per_thread
    df = log.df
    assert len(log) == total == len(df)
    assert df.seq.tolist() == list(range(total))
    assert delivered == list(range(total))  # every row delivered once, in order
    assert frame_lengths == sorted(frame_lengths)
    for n in range(threads):
        mine = df[df.rel == f"t{n}"]
        assert len(mine) == per_thread
        # Each thread's own rows keep its order.
        assert mine.url.fillna("").str.removeprefix("https://x/").tolist()[::2] == [
            str(i) for i in range(0, per_thread, 2)
        ]
    # The frame built piecewise under contention equals one built in a single pass.
    assert_same_as_from_rows(df, log.rows)


def assert_same_as_from_rows(df: pd.DataFrame, rows: list[LogRow]) -> None:
    expected = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    expected["time"] = pd.to_datetime(expected["time"], utc=True).dt.as_unit("ns")
    expected = expected.astype({k: v for k, v in DTYPES.items() if k != "time"})
    pd.testing.assert_frame_equal(df, expected)


def test_df_is_cached_and_extended_not_rebuilt() -> None:
    log = ExchangeLog(Clock())
    for _ in range(3):
        http(log)
    first = log.df
    assert log.df_builds == 1
    again = log.df
    assert log.df_builds == 1  # no new rows: no work
    pd.testing.assert_frame_equal(first, again)
    event(log, event_type="deleted")
    grown = log.df
    assert log.df_builds == 2
    assert len(grown) == 4
    assert grown.event_type[3] == "deleted"
    assert len(first) == 3  # frames already handed out do not change


def test_growing_past_the_buffer_capacity_keeps_every_row() -> None:
    log = ExchangeLog(Clock())
    for i in range(2500):
        if i % 3 == 2:
            event(log, operation_id=str(i))
        else:
            http(log, status=200 + i % 5, url=f"https://x/{i}")
        if i in (0, 1, 1023, 1024, 1800):
            assert len(log.df) == i + 1
    assert_same_as_from_rows(log.df, log.rows)


def test_editing_a_returned_frame_does_not_touch_the_log() -> None:
    log = ExchangeLog()
    http(log, url="https://x/original")
    df = log.df
    df["extra"] = 1
    df.loc[0, "url"] = "https://x/edited"
    df.loc[0, "status"] = 500
    event(log)  # the cached frame is replaced; the edited one must still not leak back
    again = log.df
    assert "extra" not in again.columns
    assert again.url[0] == "https://x/original"
    assert again.status[0] == 200


def _session(log: ExchangeLog) -> None:
    """The secret-bearing exchanges of a sign-in, then ordinary ones that echo the token."""
    log.add_secret(PASSWORD)
    http(
        log,
        method="POST",
        url="https://sim.test/WebTicket/oauthtoken",
        request_headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        request_body=f"grant_type=password&username=alice%40contoso.com&password={PASSWORD}",
        response_body=f'{{"access_token":"{TOKEN}","expires_in":28800,"token_type":"Bearer"}}',
        response_headers=httpx.Headers(
            [("Content-Type", "application/json"), ("Set-Cookie", f"t={TOKEN}; HttpOnly")]
        ),
    )
    log.add_secret(TOKEN)
    http(
        log,
        url=f"{APP}/events?ack=1&access_token={TOKEN}",
        request_headers={"Authorization": f"Bearer {TOKEN}", "Cookie": "t=1"},
        response_body=f'{{"echo":"{TOKEN.replace("/", chr(92) + "/")}"}}',
        error=f"httpx.ReadTimeout while sending Authorization: Bearer {TOKEN}",
        rel=f"weird {PASSWORD}",
    )
    event(log, body=f"<x>{TOKEN}</x>", href=f"/inv?t={TOKEN}", code=f"C {PASSWORD}")


def _cells(df: pd.DataFrame) -> list[str]:
    return [str(value) for column in df.columns for value in df[column].tolist()]


def test_secrets_never_reach_the_frame_csv_or_har(tmp_path: Path) -> None:
    log = ExchangeLog()
    _session(log)
    cells = _cells(log.df)
    for secret in (TOKEN, PASSWORD, TOKEN.removeprefix("cwt="), "AAEBHAEF"):
        assert not [cell for cell in cells if secret in cell], secret
    assert any(f"Bearer {REDACTED}" in cell for cell in cells)
    assert log.rows[0].request_body == (
        f"grant_type=password&username=alice%40contoso.com&password={REDACTED}"
    )
    log.to_csv(tmp_path / "log.csv")
    log.to_har(tmp_path / "log.har")
    for name in ("log.csv", "log.har"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert REDACTED in text
        for secret in (TOKEN, PASSWORD, "AAEBHAEF", "token+"):
            assert secret not in text, (name, secret)


def test_csv_has_every_column_but_the_headers(tmp_path: Path) -> None:
    log = ExchangeLog(Clock())
    http(log, response_body='{"name":"Zoë, \\"the\\" caller"}\nline two')
    event(log, event_status="Success")
    path = tmp_path / "log.csv"
    log.to_csv(path)
    raw = path.read_bytes()
    assert "Zoë".encode() in raw  # UTF-8, no BOM
    assert not raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.StringIO(raw.decode("utf-8")), dtype=str, keep_default_na=False)
    expected = [c for c in COLUMNS if c not in HEADER_COLUMNS]
    assert list(back.columns) == expected
    assert len(back) == 2
    assert back.kind.tolist() == ["http", "event"]
    assert back.response_body[0] == '{"name":"Zoë, \\"the\\" caller"}\nline two'
    assert back.event_status.tolist() == ["", "Success"]
    assert back.time[1] == "2024-05-01 09:30:00.002+00:00"
