"""LogView: a live, bounded table of the log, filters, row details and exports, headless."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import wait_until
from support.widgets import text_of

import ucwa_nb.widgets.log_view as log_view
from ucwa_nb.client.session import Session
from ucwa_nb.log.exchange_log import COLUMNS, HEADER_COLUMNS, ExchangeLog, LogRow
from ucwa_nb.widgets import AddPhoneAudioForm, ContinuePhoneAudioForm, LogView
from ucwa_nb.widgets._common import BAD

JSON = "application/json"
XML = "application/xml"
UCWA_NS = "http://schemas.microsoft.com/rtc/2012/03/ucwa"


def record(log: ExchangeLog, *, method: str = "GET", rel: str = "conversation",
           status: int | None = 200, op: str | None = None, request_body: str | None = None,
           response_body: str = '{"ok":true}', content_type: str = JSON,
           code: str | None = None, subcode: str | None = None, error: str | None = None,
           location: str | None = None) -> LogRow:
    n = len(log)
    return log.record_http(
        method=method, url=f"https://fe1.contoso.com/ucwa/{rel}/{n}", status=status,
        request_headers={"Accept": content_type, "Content-Type": content_type},
        request_body=request_body,
        response_headers={"Content-Type": content_type} if status is not None else {},
        response_body=response_body if status is not None else b"", elapsed_ms=1.0, rel=rel,
        operation_id=op, code=code, subcode=subcode, error=error, location=location)


def event(log: ExchangeLog, event_type: str, op: str, status: str | None = None,
          code: str | None = None, subcode: str | None = None) -> LogRow:
    return log.record_event(
        url="https://fe1.contoso.com/ucwa/events?ack=1", event_type=event_type,
        rel="phoneAudioInvitation", href="/ucwa/phoneAudioInvitations/1", event_status=status,
        operation_id=op, code=code, subcode=subcode, format="json", body='{"type":"x"}')


def table_seqs(view: LogView) -> list[int]:
    """The seq column of the rows the table shows, top to bottom."""
    return [int(seq) for seq in re.findall(r"<tr><td[^>]*>(\d+)</td>", view.table.value)]


@pytest.fixture
def mixed_log() -> ExchangeLog:
    """Rows of every kind and status class, two operations."""
    log = ExchangeLog()
    record(log, rel="conversations")                                          # 0
    record(log, method="POST", rel="addPhoneAudio", status=201, op="op-a",
           request_body='{"operationId":"op-a","to":"sip:maria@contoso.com"}',
           location="/ucwa/phoneAudioInvitations/1")                           # 1
    event(log, "started", "op-a")                                             # 2
    event(log, "completed", "op-a", "Failure", "RemoteFailure", "Busy")       # 3
    record(log, method="POST", rel="addPhoneAudio", status=409, op="op-b",
           request_body='{"operationId":"op-b","to":"sip:john@contoso.com"}',
           response_body='{"code":"Conflict","subcode":"AlreadyExists",'
                         '"message":"Phone audio is already connected."}')      # 4
    record(log, rel="events", status=500,
           response_body='{"code":"ServiceFailure","message":"down"}')        # 5
    record(log, rel="conversation", status=None, error="ConnectError: refused")  # 6
    return log


# --------------------------------------------------------------------------- live table


def test_rows_appear_live_and_only_the_latest_are_shown() -> None:
    log = ExchangeLog()
    view = LogView(log, max_rows=25)
    assert table_seqs(view) == []
    assert "no rows yet" in text_of(view.table.value)
    for _ in range(3):
        record(log)
    assert table_seqs(view) == [0, 1, 2]
    assert [label for label, _ in view.row.options] == [
        "#0 http conversation", "#1 http conversation", "#2 http conversation"]
    for _ in range(30):
        record(log)
    assert table_seqs(view) == list(range(8, 33))  # the latest 25, oldest first
    assert len(view.row.options) == 25
    assert repr(view) == "LogView(<ExchangeLog: 33 rows>)"
    view.close()
    record(log)  # closed: unsubscribed, no longer redrawn
    assert table_seqs(view) == list(range(8, 33))


def test_a_working_session_fills_the_table_live(session: Session) -> None:
    view = LogView(session.log, max_rows=50)
    assert table_seqs(view)  # sign-in's exchanges, logged before the view was made
    form = AddPhoneAudioForm(session)
    op = form.operation_id.value
    form.send.click()
    assert form.call is not None
    # The form's GETs and its POST appear at once (recorded on this thread) ...
    assert any("addPhoneAudio" in label for label, _ in view.row.options)
    assert op in view.operation.options
    # ... and the events as the event thread delivers them.
    view.operation.value = op
    view.kind.value = "event"
    wait_until(lambda: "completed" in text_of(view.table.value), what="the completed event")
    assert [r.event_type for r in view.visible_rows()] == [
        "started", "updated", "updated", "completed"]
    assert all(r.operation_id == op for r in view.visible_rows())
    assert "Success" in text_of(view.table.value)
    view.close()


# --------------------------------------------------------------------------- filters


def test_filters_by_operation_kind_and_status(mixed_log: ExchangeLog) -> None:
    view = LogView(mixed_log)
    assert table_seqs(view) == [0, 1, 2, 3, 4, 5, 6]
    # Operations of rows logged before the view was made are offered too.
    assert view.operation.options == ("all", "op-a", "op-b")
    cases: list[tuple[dict[str, str], list[int]]] = [
        ({"kind": "event"}, [2, 3]),
        ({"kind": "http"}, [0, 1, 4, 5, 6]),
        ({"status": "2xx"}, [0, 1]),
        ({"status": "4xx"}, [4]),
        ({"status": "5xx"}, [5]),
        ({"status": "errors"}, [3, 4, 5, 6]),
        ({"operation": "op-a"}, [1, 2, 3]),
        ({"operation": "op-a", "kind": "event"}, [2, 3]),
        ({"operation": "op-a", "status": "errors"}, [3]),
        ({"operation": "op-b", "status": "2xx"}, []),
    ]
    for filters, expected in cases:
        view.operation.value = view.kind.value = view.status.value = "all"
        for name, value in filters.items():
            getattr(view, name).value = value
        assert table_seqs(view) == expected, filters
        assert [seq for _, seq in view.row.options] == expected, filters
    assert "no rows yet" in text_of(view.table.value)
    view.operation.value = view.kind.value = view.status.value = "all"
    table = text_of(view.table.value)
    assert "409 Conflict/AlreadyExists" in table
    assert "Failure RemoteFailure/Busy" in table
    assert "no answer" in table
    assert BAD in view.table.value


def test_new_operations_join_the_filter_without_changing_the_pick() -> None:
    log = ExchangeLog()
    view = LogView(log)
    assert view.operation.options == ("all",)
    record(log, op="first")
    assert view.operation.options == ("all", "first")
    view.operation.value = "first"
    record(log, op="second")
    record(log)
    assert view.operation.options == ("all", "first", "second")
    assert view.operation.value == "first"
    assert table_seqs(view) == [0]


# --------------------------------------------------------------------------- details


def test_details_pretty_print_json(mixed_log: ExchangeLog) -> None:
    view = LogView(mixed_log)
    assert view.details.value == ""
    view.row.value = 1
    details = text_of(view.details.value)
    assert details.startswith("POST https://fe1.contoso.com/ucwa/addPhoneAudio/1")
    assert "Content-Type: application/json" in details
    assert '{\n  "operationId": "op-a",\n  "to": "sip:maria@contoso.com"\n}' in details
    assert "--- response 201" in details
    assert "location: /ucwa/phoneAudioInvitations/1" in details
    view.row.value = 4
    details = text_of(view.details.value)
    assert '"subcode": "AlreadyExists",\n' in details
    view.row.value = 6
    assert "error: ConnectError: refused" in text_of(view.details.value)


def test_details_pretty_print_xml() -> None:
    log = ExchangeLog()
    record(log, method="POST", rel="addPhoneAudio", status=400, content_type=XML,
           request_body=f'<input xmlns="{UCWA_NS}"><property name="operationId">x</property>'
                        '</input>',
           response_body=f'<reason xmlns="{UCWA_NS}"><property name="code">BadRequest'
                         '</property></reason>')
    view = LogView(log)
    view.row.value = 0
    details = text_of(view.details.value)
    assert (f'<input xmlns="{UCWA_NS}">\n  <property name="operationId">x</property>\n'
            "</input>") in details
    assert '\n  <property name="code">BadRequest</property>\n</reason>' in details


def test_details_of_real_exchanges_in_xml(readonly_session: Session) -> None:
    session = readonly_session
    form = ContinuePhoneAudioForm(session)
    form.format.value = "xml"
    form.phone_number.value = "tel:12"
    form.send_anyway.value = True
    view = LogView(session.log)
    form.send.click()
    assert "NormalizationFailed" in text_of(form.response.value)
    post = next(r for r in reversed(session.log.rows) if r.rel == "continuePhoneAudio")
    view.row.value = post.seq
    details = text_of(view.details.value)
    assert f"POST {post.url}" in details
    assert '\n  <property name="phoneNumber">tel:12</property>\n' in details
    assert "--- response 400" in details
    assert "NormalizationFailed" in details
    assert details.count("\n  <") >= 3  # indented, not one long line
    view.close()


def test_selected_row_stays_selected_as_new_rows_arrive() -> None:
    log = ExchangeLog()
    for _ in range(5):
        record(log)
    view = LogView(log, max_rows=5)
    view.row.value = 1
    shown = view.details.value
    assert "ucwa/conversation/1" in text_of(shown)
    for _ in range(10):
        record(log)
    assert table_seqs(view) == list(range(10, 15))
    assert view.row.value == 1  # still the row being read, kept at the top of the list
    assert [seq for _, seq in view.row.options] == [1, *range(10, 15)]
    assert view.details.value == shown
    view.row.value = 14
    for _ in range(3):
        record(log)
    assert view.row.value == 14  # still in the table: not added twice
    assert [seq for _, seq in view.row.options] == list(range(13, 18))


# --------------------------------------------------------------------------- exports


def test_export_buttons_write_har_and_csv(mixed_log: ExchangeLog, tmp_path: Path) -> None:
    view = LogView(mixed_log, export_dir=tmp_path / "exports")
    view.export_har.click()
    har_path = tmp_path / "exports" / "ucwa-log.har"
    assert har_path.is_file()
    exported = text_of(view.exported.value)
    assert exported.startswith("written")
    assert str(har_path.resolve()) in exported  # the full path: it says where
    assert "file browser" in exported
    assert str(tmp_path / "exports") in view.export_har.tooltip
    assert "the notebook's folder" in LogView(ExchangeLog()).export_csv.tooltip
    har = json.loads(har_path.read_text("utf-8"))
    assert har["log"]["version"] == "1.2"
    assert len(har["log"]["entries"]) == 5  # the http rows
    assert len(har["log"]["_ucwaEvents"]) == 2
    assert [e["response"]["status"] for e in har["log"]["entries"]][:2] == [200, 201]
    view.export_csv.click()
    csv_path = tmp_path / "exports" / "ucwa-log.csv"
    assert str(csv_path) in text_of(view.exported.value)
    frame = pd.read_csv(csv_path)
    assert len(frame) == 7
    assert list(frame.columns) == [c for c in COLUMNS if c not in HEADER_COLUMNS]
    assert list(frame.seq) == list(range(7))


def test_a_failed_export_is_shown_in_the_view(mixed_log: ExchangeLog, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    view = LogView(mixed_log, export_dir=not_a_folder)
    view.export_csv.click()  # ipywidgets would swallow the exception: the view shows it
    exported = text_of(view.exported.value)
    assert exported.startswith("error")
    assert "FileExistsError" in exported


def test_an_exception_while_filtering_is_shown_in_the_view(
        mixed_log: ExchangeLog, monkeypatch: pytest.MonkeyPatch) -> None:
    view = LogView(mixed_log)

    def broken() -> list[LogRow]:
        raise RuntimeError("filter exploded")

    monkeypatch.setattr(view, "visible_rows", broken)
    view.kind.value = "event"
    assert "Unexpected error: RuntimeError: filter exploded" in text_of(view.exported.value)


# --------------------------------------------------------------------------- bounded cost


def test_an_update_touches_only_the_window_of_a_big_log(
        monkeypatch: pytest.MonkeyPatch) -> None:
    log = ExchangeLog()
    for i in range(20_000):
        record(log, op=f"op-{i % 40}", status=200 if i % 7 else 404)
    view = LogView(log, max_rows=25, window=2000)
    assert table_seqs(view) == list(range(19_975, 20_000))
    assert len(view.row.options) == 25
    assert len(view.operation.options) == 41

    # From here on the view must neither copy the log nor build its DataFrame ...
    def whole_log(_: ExchangeLog) -> Any:
        raise AssertionError("LogView read the whole log")

    monkeypatch.setattr(ExchangeLog, "rows", property(whole_log))
    monkeypatch.setattr(ExchangeLog, "df", property(whole_log))
    # ... and renders only the rows it shows, and looks at no more than its window.
    rendered: list[int] = []
    examined: list[int] = []
    colour, matches = log_view._status_colour, log_view._status_matches

    def counting_colour(row: LogRow) -> str:
        rendered.append(row.seq)
        return colour(row)

    def counting_matches(row: LogRow, wanted: str) -> bool:
        examined.append(row.seq)
        return matches(row, wanted)

    monkeypatch.setattr(log_view, "_status_colour", counting_colour)
    monkeypatch.setattr(log_view, "_status_matches", counting_matches)

    record(log, op="op-new")
    assert table_seqs(view) == list(range(19_976, 20_001))
    assert rendered == list(range(19_976, 20_001))  # one redraw: 25 rows rendered
    assert "op-new" in view.operation.options
    assert len(view.operation.options) <= 42

    rendered.clear()
    view.status.value = "5xx"  # matches nothing: the worst case scans the whole window
    assert table_seqs(view) == []
    assert rendered == []
    assert len(examined) == 2000  # the window, not the 20,001-row log

    examined.clear()
    view.status.value = "4xx"
    assert len(table_seqs(view)) == 25
    assert len(examined) < 2000  # stops as soon as max_rows rows are found
    assert len(rendered) == 25
    view.close()


# --------------------------------------------------------------------------- ids and filters


def test_operation_ids_that_differ_only_at_the_end_stay_apart_in_the_table() -> None:
    log = ExchangeLog()
    ids = [f"{n:032x}" for n in (1, 2)] + ["74cb7404e0a247d5a2d4eb0376a47dbf", "op-short"]
    for op in ids:
        record(log, op=op)
    view = LogView(log)
    shown = re.findall(r"<span title='([^']+)'>([^<]+)</span>", view.table.value)
    assert [full for full, _ in shown] == ids  # the whole id on hover
    cut = [text for _, text in shown]
    assert cut == ["000…00000001", "000…00000002", "74c…76a47dbf", "op-short"]
    assert len(set(cut)) == len(cut)
    assert all(len(text) <= 12 for text in cut)
    assert log_view.short_id(None) == ""


def test_details_follow_the_filter(mixed_log: ExchangeLog) -> None:
    view = LogView(mixed_log)
    view.row.value = 4  # the 409 of op-b
    assert "409" in text_of(view.details.value)
    view.operation.value = "op-a"
    assert 4 not in [seq for _, seq in view.row.options]
    assert view.row.value in {1, 2, 3}
    assert "op-b" not in text_of(view.details.value)
    view.operation.value = "op-b"
    view.status.value = "2xx"  # nothing passes
    assert view.row.options == ()
    assert view.details.value == ""


def test_why_panel_explains_a_failed_row(session: Session) -> None:
    view = LogView(session.log)
    call = session.add_phone_audio(session.conversations()[0], to="sip:maria@contoso.com")
    call.wait()
    completed = next(r for r in reversed(session.log.rows) if r.event_type == "completed")
    view.redraw()
    view.row.value = completed.seq
    assert "outcome.busy" in view.why.value
    assert "phoneaudioinvitation_ref" in view.why.value
    ok = next(r for r in session.log.rows if r.kind == "http" and r.status == 200)
    view.row.options = [(str(ok.seq), ok.seq), (str(completed.seq), completed.seq)]
    view.row.value = ok.seq
    assert view.why.value == ""
    view.close()


def test_the_csv_button_writes_a_servers_formula_as_text(tmp_path: Path) -> None:
    # Issue 25, attack 2: the button goes through the same neutralising export as to_csv.
    log = ExchangeLog()
    log.record_http(method="POST", url="https://fe1.contoso.com/ucwa/x", status=500,
                    request_headers={}, request_body=None,
                    response_headers={"Content-Type": "application/json"},
                    response_body='{"code":"=cmd|\' /C calc\'!A0","subcode":"@x"}',
                    elapsed_ms=1.0)
    view = LogView(log, export_dir=tmp_path)
    view.export_csv.click()
    frame = pd.read_csv(tmp_path / "ucwa-log.csv", dtype=str)
    assert frame.code.tolist() == ["'=cmd|' /C calc'!A0"]
    assert frame.subcode.tolist() == ["'@x"]
    assert log.df.code.tolist() == ["=cmd|' /C calc'!A0"]


def test_the_table_says_how_many_rows_it_shows_of_how_many(mixed_log: ExchangeLog) -> None:
    view = LogView(mixed_log, max_rows=3)
    total = len(mixed_log)
    assert total > 3
    assert text_of(view.shown.value) == (
        f"The last 3 rows, of {total} in the log (at most 3: LogView(log, max_rows=...) "
        "shows more; session.log.df has every row).")
    view.kind.value = "event"
    assert "rows that pass the filters" in text_of(view.shown.value)
    everything = LogView(mixed_log, max_rows=100)
    assert text_of(everything.shown.value) == f"All {total} rows of the log."
