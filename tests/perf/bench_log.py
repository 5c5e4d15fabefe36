"""Benchmark of ExchangeLog: how much does the typed, incremental ``.df`` cost?

Run: ``python tests/perf/bench_log.py [--rows 100000] [--reps 3]`` (about 25 s at the
defaults on a laptop; recording the rows is most of it). Importing this module runs nothing;
``tests/perf/report.py`` calls ``run()`` and ``summarize()``.

Each repetition records ``--rows`` realistic rows (a call-via-work loop: addPhoneAudio POSTs,
event polls with their events, invitation GETs, an XML 409; every request carries a bearer
token that the log redacts; POSTs pass their operation_id as the client does, the 409's
code/subcode are derived from its body), then measures, interleaving the contenders and alternating
which goes first so drift and cache effects hit both alike:

* ``.df`` built from all those rows, against ``pandas.DataFrame.from_records`` of the same
  ``LogRow`` tuples (untyped), and against from_records followed by ``astype`` to the same
  dtypes (same frame at the end);
* ``.df`` after one more row (must be a tail update, not a rebuild) and ``.df`` with no new
  row (cached), both relative to the full build.

Medians are printed as a table of ratios. Target: full build at most 2x from_records.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from ucwa_nb.log.exchange_log import COLUMNS, DTYPES, ExchangeLog, LogRow

TOKEN = "cwt=AAEBHAEFAAAAAAAFFQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + "x" * 300
APP = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/102"
Call = tuple[str, dict[str, Any]]


def _invitation(i: int, state: str) -> str:
    return (
        f'{{"rel":"phoneAudioInvitation","direction":"Outgoing","importance":"Normal",'
        f'"operationId":"{i:032x}","state":"{state}","threadId":"t{i}",'
        f'"to":"sip:john@contoso.com","phoneNumber":"tel:+14255551234",'
        f'"_links":{{"self":{{"href":"/ucwa/oauth/v1/applications/102/communication/'
        f'phoneAudioInvitations/{i}"}},"cancel":{{"href":"/ucwa/oauth/v1/applications/102/'
        f'communication/phoneAudioInvitations/{i}/cancel"}},"conversation":{{"href":'
        f'"/ucwa/oauth/v1/applications/102/communication/conversations/{i % 7}"}}}}}}'
    )


def _events(i: int) -> str:
    event = (
        f'{{"link":{{"rel":"phoneAudioInvitation","href":"/ucwa/oauth/v1/applications/102/'
        f'communication/phoneAudioInvitations/{i}"}},"_embedded":{{"phoneAudioInvitation":'
        f'{_invitation(i, "Connecting")}}},"type":"started"}}'
    )
    return (
        f'{{"_links":{{"self":{{"href":"/ucwa/oauth/v1/applications/102/events?ack={i}"}},'
        f'"next":{{"href":"/ucwa/oauth/v1/applications/102/events?ack={i + 1}"}}}},'
        f'"sender":[{{"rel":"communication","href":"/ucwa/oauth/v1/applications/102/'
        f'communication","events":[{event},{event.replace("started", "updated")}]}}]}}'
    )


def make_calls(rows: int) -> list[Call]:
    """``rows`` record_http/record_event calls: a loop of 10 rows per outgoing call."""
    auth = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    json_out = {"Content-Type": "application/json"}
    calls: list[Call] = []
    i = 0
    while len(calls) < rows:
        i += 1
        inv = f"{APP}/communication/phoneAudioInvitations/{i}"
        poll = f"{APP}/events?ack={i}"
        http = {"elapsed_ms": 5.0 + i % 17, "request_body": None}
        loop: list[Call] = [
            ("http", http | {
                "method": "POST", "url": f"{APP}/communication/conversations/{i % 7}/"
                "phoneAudio/addPhoneAudio", "status": 201, "rel": "addPhoneAudio",
                "request_headers": auth | json_out, "operation_id": f"{i:032x}",
                "request_body": f'{{"operationId":"{i:032x}","to":"sip:john@contoso.com",'
                '"phoneNumber":"tel:+14255551234"}',
                "response_headers": {"Location": inv, "Content-Length": "0"},
                "response_body": None,
            }),
            ("http", http | {
                "method": "GET", "url": poll, "status": 200, "rel": "next",
                "request_headers": auth, "response_headers": json_out,
                "response_body": _events(i),
            }),
            ("event", {"url": poll, "event_type": "started", "rel": "phoneAudioInvitation",
                       "href": inv, "operation_id": f"{i:032x}", "format": "json",
                       "body": _invitation(i, "Connecting")}),
            ("event", {"url": poll, "event_type": "updated", "rel": "phoneAudioInvitation",
                       "href": inv, "operation_id": f"{i:032x}", "format": "json",
                       "body": _invitation(i, "Alerting")}),
            ("event", {"url": poll, "event_type": "completed", "rel": "phoneAudioInvitation",
                       "href": inv, "operation_id": f"{i:032x}", "format": "json",
                       "event_status": "Success", "body": _invitation(i, "Connected")}),
            ("http", http | {
                "method": "GET", "url": inv, "status": 200, "rel": "phoneAudioInvitation",
                "request_headers": auth, "response_headers": json_out,
                "response_body": _invitation(i, "Connected"),
            }),
            ("http", http | {
                "method": "GET", "url": f"{APP}/communication/conversations?filter=active",
                "status": 200, "rel": "conversations", "request_headers": auth,
                "response_headers": json_out,
                "response_body": '{"rel":"conversations","_links":{"self":{"href":'
                f'"/ucwa/oauth/v1/applications/102/communication/conversations/{i % 7}"}}}}',
            }),
            ("http", http | {
                "method": "POST", "url": f"{APP}/communication/conversationLogs/{i % 5}/"
                "continuePhoneAudio", "status": 409, "rel": "continuePhoneAudio",
                "request_headers": auth | {"Content-Type": "application/xml"},
                "operation_id": f"{i:032x}",
                "request_body": '<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
                f'<property name="operationId">{i:032x}</property></input>',
                "response_headers": {"Content-Type": "application/xml"},
                "response_body": '<reason xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">'
                "<code>Conflict</code><subcode>AlreadyExists</subcode></reason>",
            }),
            ("http", http | {
                "method": "GET", "url": f"{APP}/events?ack={i + 1}", "status": 200,
                "rel": "next", "request_headers": auth, "response_headers": json_out,
                "response_body": '{"_links":{"next":{"href":"/ucwa/oauth/v1/applications/'
                f'102/events?ack={i + 2}"}}}}',
            }),
            ("event", {"url": poll, "event_type": "updated", "rel": "phoneAudio",
                       "href": f"{APP}/communication/conversations/{i % 7}/phoneAudio"}),
        ]  # fmt: skip
        calls.extend(loop)
    return calls[:rows]


def fill(calls: Sequence[Call]) -> tuple[ExchangeLog, float]:
    """A log with every call recorded, and the seconds the recording took."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(start + timedelta(milliseconds=i) for i in range(len(calls) + 10))
    log = ExchangeLog(lambda: next(ticks))
    log.add_secret(TOKEN)
    record: dict[str, Callable[..., LogRow]] = {
        "http": log.record_http,
        "event": log.record_event,
    }
    began = time.perf_counter()
    for kind, kwargs in calls:
        record[kind](**kwargs)
    return log, time.perf_counter() - began


def _timed(action: Callable[[], object]) -> float:
    gc.collect()
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def _from_records(rows: list[LogRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


def _from_records_typed(rows: list[LogRow]) -> pd.DataFrame:
    df = _from_records(rows)
    df["time"] = pd.to_datetime(df["time"], utc=True).dt.as_unit("ns")
    return df.astype({k: v for k, v in DTYPES.items() if k != "time"})


def _repetition(calls: Sequence[Call], rep: int) -> dict[str, float]:
    log, appended = fill(calls[:-1])
    times = {"append": appended}
    snapshot = log.rows
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("df", lambda: log.df),
        ("from_records", lambda: _from_records(snapshot)),
        ("from_records_typed", lambda: _from_records_typed(snapshot)),
    ]
    if rep % 2:  # alternate who goes first
        contenders.reverse()
    for key, action in contenders:
        times[key] = _timed(action)
    kind, kwargs = calls[-1]
    (log.record_http if kind == "http" else log.record_event)(**kwargs)
    times["df_one_more"] = _timed(lambda: log.df)
    times["cached"] = _timed(lambda: log.df)
    return times


def run(rows: int, reps: int) -> dict[str, list[float]]:
    """Seconds per measurement, one value per repetition."""
    calls = make_calls(rows + 1)
    samples: dict[str, list[float]] = {}
    for rep in range(reps):
        for key, seconds in _repetition(calls, rep).items():
            samples.setdefault(key, []).append(seconds)
    return samples


def summarize(samples: dict[str, list[float]]) -> dict[str, float]:
    """Median seconds of each measurement, and the ratios the aims are about: ``df/records``
    (full build / from_records, aim <= 2), ``df/typed`` (/ from_records + astype) and
    ``one_more/df`` (.df after one more row / full build: must not be a rebuild)."""
    med = {key: statistics.median(values) for key, values in samples.items()}
    return med | {
        "df/records": med["df"] / med["from_records"],
        "df/typed": med["df"] / med["from_records_typed"],
        "one_more/df": med["df_one_more"] / med["df"],
        "cached/df": med["cached"] / med["df"],
    }


def report(rows: int, samples: dict[str, list[float]]) -> str:
    med = summarize(samples)
    lines = [
        f"ExchangeLog benchmark: {rows:,} rows, {len(samples['df'])} repetitions (medians)",
        "",
        f"{'measurement':<44}{'ms':>10}{'ratio':>10}",
        f"{'-' * 64}",
        f"{'pandas.DataFrame.from_records (untyped)':<44}{med['from_records'] * 1e3:>10.1f}"
        f"{1:>10.2f}",
        f"{'from_records + astype (same dtypes)':<44}{med['from_records_typed'] * 1e3:>10.1f}"
        f"{med['from_records_typed'] / med['from_records']:>10.2f}",
        f"{'ExchangeLog.df, full build':<44}{med['df'] * 1e3:>10.1f}"
        f"{med['df'] / med['from_records']:>10.2f}",
        "",
        f"{'.df after one more row / full build':<44}{med['df_one_more'] * 1e3:>10.2f}"
        f"{med['df_one_more'] / med['df']:>10.3f}",
        f"{'.df with no new row / full build':<44}{med['cached'] * 1e3:>10.2f}"
        f"{med['cached'] / med['df']:>10.4f}",
        "",
        f"recording (redaction and derivation included): "
        f"{med['append'] / rows * 1e6:.1f} us/row, {med['append']:.2f} s for {rows:,} rows",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per log (100000)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (3)")
    args = parser.parse_args(argv)
    print(report(args.rows, run(args.rows, args.reps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
