"""CSV exports that a spreadsheet opens as text (issue 25, attack 2): a server chooses an
error's code and subcode, a Location, a body; a cell it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return would be read as a formula (``=cmd|' /C calc'!A0`` runs a
program when the trainee opens the file). OWASP's CSV-injection guidance: such a cell is
written with a leading single quote. The DataFrame itself keeps the server's text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from ucwa_nb.log.csv_export import FORMULA_STARTS, formula_safe, write_csv
from ucwa_nb.log.exchange_log import ExchangeLog

APP = "https://fe1.contoso.com/ucwa/oauth/v1/applications/101"
FORMULA = "=cmd|' /C calc'!A0"


def _hostile_log() -> ExchangeLog:
    log = ExchangeLog()
    log.record_http(
        method="POST", url=f"{APP}/communication/phoneAudio", status=409,
        request_headers={"Content-Type": "application/json"},
        request_body='{"operationId":"+op"}',
        response_headers={"Content-Type": "application/json", "Location": "/x"},
        response_body=json.dumps({"code": FORMULA, "subcode": "-2+3+cmd|' /C calc'!A0"}),
        elapsed_ms=4.0, rel="\tphoneAudio", error="\r=1+1")
    log.record_event(url=f"{APP}/events?ack=1", event_type="completed",
                     rel="phoneAudioInvitation", href=f"{APP}/x", code="=HYPERLINK(\"x\")",
                     operation_id="a=b")
    return log


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_servers_formula_is_written_as_text_in_to_csv(tmp_path: Path) -> None:
    log = _hostile_log()
    path = tmp_path / "log.csv"
    log.to_csv(path)
    # RFC 4180's CRLF rows: a cell holding a lone carriage return is quoted, so a reader
    # never takes it for the end of a row.
    assert path.read_bytes().count(b"\r\n") == 3
    first, second = _cells(path)
    assert first["code"] == "'" + FORMULA
    assert first["subcode"] == "'-2+3+cmd|' /C calc'!A0"
    assert first["operation_id"] == "'+op"  # from the request's body
    assert first["rel"] == "'\tphoneAudio"
    assert first["error"] == "'\r=1+1"
    assert second["code"] == "'=HYPERLINK(\"x\")"
    assert second["operation_id"] == "a=b"  # only a cell's first character makes a formula
    # Nothing else changes: numbers stay numbers, ordinary text stays as it was.
    assert first["status"] == "409"
    assert first["elapsed_ms"] == "4.0"
    assert first["method"] == "POST"
    assert first["url"] == f"{APP}/communication/phoneAudio"
    for row in (first, second):
        for value in row.values():
            assert not value or value[0] not in FORMULA_STARTS, value


def test_the_dataframe_keeps_the_servers_text(tmp_path: Path) -> None:
    log = _hostile_log()
    before = log.df
    log.to_csv(tmp_path / "log.csv")
    after = log.df
    assert after.code.tolist() == [FORMULA, "=HYPERLINK(\"x\")"]
    pd.testing.assert_frame_equal(before, after)
    safe = formula_safe(after)
    assert safe.code.tolist() == ["'" + FORMULA, "'=HYPERLINK(\"x\")"]
    assert after.code[0] == FORMULA  # formula_safe returns a new frame
    assert safe.dtypes.to_dict() == after.dtypes.to_dict()


@pytest.mark.parametrize("start", sorted(FORMULA_STARTS))
def test_every_start_that_makes_a_formula_is_neutralised(start: str, tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": pd.Series([start + "1+1", "safe", None], dtype="string"),
                          "number": [-1.5, 2.0, 3.0]})
    write_csv(frame, tmp_path / "x.csv")
    back = pd.read_csv(tmp_path / "x.csv", dtype=str, keep_default_na=False)
    assert back.text.tolist() == ["'" + start + "1+1", "safe", ""]
    assert back.number.tolist() == ["-1.5", "2.0", "3.0"]  # a negative number is no formula
    assert frozenset("=+-@\t\r") == FORMULA_STARTS
