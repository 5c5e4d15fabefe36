"""LogView: a live table of the latest log rows, filters, row details and exports.

It keeps its own bounded window of recent rows (fed by ``ExchangeLog.subscribe``), so the
cost of an update does not grow with the log: a busy session with 100,000 rows redraws the
same few dozen lines as a fresh one.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from pathlib import Path

import ipywidgets as w

from ucwa_nb.doctor.core import findings_html
from ucwa_nb.doctor.explain import explain
from ucwa_nb.log.exchange_log import ExchangeLog, LogRow
from ucwa_nb.widgets._common import (
    BAD,
    INFO,
    MUTED,
    OK,
    WARN,
    WidgetLock,
    badge,
    describe_exception,
    guarded,
    pre,
    pretty_body,
)

__all__ = ["LogView"]

_ALL = "all"
_STATUS_CLASSES = (_ALL, "2xx", "4xx", "5xx", "errors")


def short_id(operation_id: str | None, width: int = 12) -> str:
    """An id cut to ``width`` characters in the middle, so that ids that differ only at the
    end (sequential ones: 00...01, 00...02) or only at the start stay apart."""
    if not operation_id or len(operation_id) <= width:
        return operation_id or ""
    head = (width - 1) // 3
    tail = width - 1 - head
    return f"{operation_id[:head]}…{operation_id[-tail:]}"


def _status_colour(row: LogRow) -> str:
    if row.kind == "event":
        return BAD if row.event_status == "Failure" else OK if row.event_status else INFO
    if row.status is None or row.error:
        return BAD
    return OK if row.status < 400 else WARN if row.status < 500 else BAD


class LogView(w.VBox):  # type: ignore[misc]
    """Show ``session.log`` as it grows: ``LogView(session.log)``."""

    def __init__(self, log: ExchangeLog, max_rows: int = 25, window: int = 2000,
                 export_dir: str | Path = ".") -> None:
        self.exchange_log = log
        self.max_rows = max_rows
        self.export_dir = Path(export_dir)
        self._recent: deque[LogRow] = deque(log.rows[-window:], maxlen=window)
        self._lock = threading.Lock()  # the window of rows
        # Rows arrive on the threads that log them (the kernel's, the event thread): the
        # table, the pick lists and the details are drawn under this, one redraw at a time.
        self._ui = WidgetLock()
        self.operation = w.Dropdown(description="Operation", options=self._operations(),
                                    value=_ALL)
        self.kind = w.Dropdown(description="Kind", options=[_ALL, "http", "event"], value=_ALL)
        self.status = w.Dropdown(description="Status", options=list(_STATUS_CLASSES),
                                 value=_ALL)
        self.shown = w.HTML()  # how many rows the table shows, of how many
        self.table = w.HTML()
        self.row = w.Dropdown(description="Details of", options=[], style={
            "description_width": "80px"})
        self.details = w.HTML()
        # "Why?": the doctor's findings about the selected row, for a failed one.
        self.why = w.HTML()
        self._why_seq: int | None = None  # the row the panel explains (worked out once)
        # Named as given: the notebook's outputs keep no absolute path of this machine (the
        # message after an export names the file in full).
        where = (str(self.export_dir) if self.export_dir.is_absolute()
                 else "the notebook's folder" if self.export_dir == Path(".")
                 else f"{self.export_dir}, in the notebook's folder")
        self.export_har = w.Button(description="Export HAR", icon="download",
                                   tooltip=f"Write the whole log as a HAR 1.2 file into {where}")
        self.export_csv = w.Button(description="Export CSV", icon="download",
                                   tooltip=f"Write the whole log as CSV into {where}")
        self.exported = w.HTML()
        super().__init__(children=[
            w.HBox([self.operation, self.kind, self.status]),
            self.shown,
            self.table,
            self.row,
            self.details,
            self.why,
            w.HBox([self.export_har, self.export_csv, self.exported]),
        ])
        show = guarded(self._show_error)
        for control in (self.operation, self.kind, self.status):
            control.observe(show(lambda _: self.redraw()), "value")
        self.row.observe(show(lambda _: self._draw_details()), "value")
        self.export_har.on_click(show(lambda _: self.export("har")))
        self.export_csv.on_click(show(lambda _: self.export("csv")))
        self._unsubscribe = log.subscribe(self._on_row)
        self.redraw()

    def __repr__(self) -> str:
        return f"LogView({self.exchange_log!r})"

    def close(self) -> None:
        """Stop following the log and close the widget."""
        unsubscribe = getattr(self, "_unsubscribe", None)  # close() also runs from __del__
        if unsubscribe is not None:
            unsubscribe()
        super().close()

    def _show_error(self, exc: BaseException) -> None:
        self.exported.value = badge("error", BAD) + " " + html.escape(describe_exception(exc))

    # ------------------------------------------------------------------ live updates

    def _on_row(self, row: LogRow) -> None:
        with self._lock:
            self._recent.append(row)
        with self._ui:
            if row.operation_id and row.operation_id not in self.operation.options:
                # ipywidgets 8 selects the first option whenever the options change: put
                # the pick back, or a new operation silently reset the filter to "all".
                picked = self.operation.value
                self._ui.apply(self.operation, options=self._operations(), value=picked)
            self.redraw()

    def _operations(self) -> list[str]:
        # The operation ids of the window (the rows the table can show) and the current pick.
        # Taken from the window, not from new rows only: the ids of rows logged before the
        # view was made used to be missing; and the list stays bounded by the window.
        with self._lock:
            ids = dict.fromkeys(r.operation_id for r in self._recent if r.operation_id)
        current = getattr(self, "operation", None)
        if current is not None and current.value != _ALL:
            ids.setdefault(current.value, None)
        return [_ALL, *ids]

    def visible_rows(self) -> list[LogRow]:
        """The latest rows that pass the filters, oldest first (at most ``max_rows``)."""
        picked: list[LogRow] = []
        with self._lock:
            recent = list(self._recent)
        for row in reversed(recent):
            if not self._passes(row):
                continue
            picked.append(row)
            if len(picked) >= self.max_rows:
                break
        return picked[::-1]

    def caption(self, shown: int) -> str:
        """What the table shows, of how much: it keeps only the latest ``max_rows``."""
        total = len(self.exchange_log)
        filtered = (self.operation.value, self.kind.value, self.status.value) != (_ALL,) * 3
        if not filtered and shown == total:
            return f"All {total} rows of the log." if total else ""
        which = "rows that pass the filters" if filtered else "rows"
        return (f"The last {shown} {which}, of {total} in the log (at most {self.max_rows}: "
                "LogView(log, max_rows=...) shows more; session.log.df has every row).")

    def _passes(self, row: LogRow) -> bool:
        """Whether the filters let ``row`` through."""
        wanted_op, wanted_kind, wanted_status = (self.operation.value, self.kind.value,
                                                 self.status.value)
        return ((wanted_op == _ALL or row.operation_id == wanted_op)
                and (wanted_kind == _ALL or row.kind == wanted_kind)
                and (wanted_status == _ALL or _status_matches(row, wanted_status)))

    def redraw(self) -> None:
        """Draw the table, the row list and the details again (any thread)."""
        with self._ui:
            self._redraw()

    def _redraw(self) -> None:
        rows = self.visible_rows()
        head = ("<tr>" + "".join(f"<th style='text-align:left;padding:0 6px'>{h}</th>" for h in
                                 ("seq", "kind", "time", "what", "status", "operation"))
                + "</tr>")
        lines = []
        for row in rows:
            if row.kind == "http":
                what = f"{row.method} {row.rel or ''}"
                status = str(row.status) if row.status is not None else "no answer"
                if row.code:
                    status += f" {row.code}" + (f"/{row.subcode}" if row.subcode else "")
            else:
                what = f"{row.event_type} {row.rel or ''}"
                status = row.event_status or ""
                if row.code:
                    status += f" {row.code}" + (f"/{row.subcode}" if row.subcode else "")
            operation = (f"<span title='{html.escape(row.operation_id)}'>"
                         f"{html.escape(short_id(row.operation_id))}</span>"
                         if row.operation_id else "")
            cells = (html.escape(str(row.seq)), html.escape(row.kind),
                     html.escape(row.time.strftime("%H:%M:%S.%f")[:-3]), html.escape(what),
                     badge(status, _status_colour(row)) if status else "", operation)
            lines.append("<tr>" + "".join(f"<td style='padding:0 6px'>{c}</td>"
                                          for c in cells) + "</tr>")
        if not lines:
            lines.append(f"<tr><td colspan=6 style='color:{MUTED}'>no rows yet</td></tr>")
        self._ui.apply(self.shown, value=f"<span style='color:{MUTED}'>"
                                         f"{html.escape(self.caption(len(rows)))}</span>")
        self._ui.apply(self.table, value=("<table style='font-size:12px;"
                                          f"border-collapse:collapse'>{head}{''.join(lines)}"
                                          "</table>"))
        # Keep the row being read selected, even when newer rows push it out of the table:
        # ipywidgets 8 selects the first option whenever the options change, so every new
        # row used to move the selection (and the details) to another row. A row the filters
        # hide is let go, though: its details used to stay on show under a table without it.
        selected = self._find(self.row.value)
        if selected is not None and not self._passes(selected):
            selected = None
        if selected is not None and all(r.seq != selected.seq for r in rows):
            rows = [selected, *rows]
        options = [(f"#{r.seq} {r.kind} {r.rel or ''}", r.seq) for r in rows]
        self._ui.apply(self.row, options=options,
                       **({"value": selected.seq} if selected is not None else {}))
        self._draw_details()

    # ------------------------------------------------------------------ details and exports

    def _find(self, seq: int | None) -> LogRow | None:
        if seq is None:
            return None
        with self._lock:
            return next((r for r in reversed(self._recent) if r.seq == seq), None)

    def _draw_details(self) -> None:
        row = self._find(self.row.value)
        seq = row.seq if row is not None else None
        with self._ui:
            self._ui.apply(self.details, value=self._details_of(row))
            if seq != self._why_seq:  # redraw runs on every new row: explain on selection only
                self._why_seq = seq
                self._ui.apply(self.why, value=self._why(row))

    def _details_of(self, row: LogRow | None) -> str:
        if row is None:
            return ""
        parts = [f"{row.method or row.event_type} {row.url or ''}"]
        if row.error:
            parts.append(f"error: {row.error}")
        if row.request_headers:
            parts.append("\n".join(f"{k}: {v}" for k, v in row.request_headers))
        if row.request_body:
            parts.append(pretty_body(row.request_body))
        parts.append(f"--- response {row.status if row.status is not None else ''}")
        if row.location:
            parts.append(f"location: {row.location}")
        if row.response_body:
            parts.append(pretty_body(row.response_body))
        return pre("\n\n".join(parts))

    def _why(self, row: LogRow | None) -> str:
        """The "Why?" panel: the doctor's findings about a failed row, escaped."""
        if row is None or not _status_matches(row, "errors"):
            return ""
        about = explain(self.exchange_log).about(row.seq)
        if not about:
            return f"<p style='color:{MUTED}'>Why? No known cause for row #{row.seq}.</p>"
        return findings_html(about, caption=f"Why? Row #{row.seq}")

    def export(self, what: str) -> Path:
        """Write the log as ``what`` ("har" or "csv") to a file; returns its path."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"ucwa-log.{what}"
        if what == "har":
            self.exchange_log.to_har(path)
        else:
            self.exchange_log.to_csv(path)
        # The full path: a relative one said nothing of where (the kernel's directory, which
        # is the notebook's); JupyterLab's file browser shows the file there.
        self.exported.value = (badge("written", OK) + " <code>"
                               f"{html.escape(str(path.resolve()))}</code> (the file browser "
                               "shows it; right-click, Download)")
        return path.resolve()


def _status_matches(row: LogRow, wanted: str) -> bool:
    if wanted == "errors":
        return bool(row.error) or (row.status is not None and row.status >= 400) or \
            row.event_status == "Failure"
    if row.status is None:
        return False
    return str(row.status)[0] == wanted[0]
