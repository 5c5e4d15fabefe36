"""Reading records: bad HAR files give a clear ExplainError, never a traceback; a log, its
DataFrame and its HAR say the same; a non-UCWA HAR is named as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import MARIA

import ucwa_nb
from ucwa_nb import Session
from ucwa_nb.doctor.sources import ExplainError
from ucwa_nb.log import HarError


@pytest.mark.parametrize(("content", "message"), [
    ('{"log": {"entries": [', "truncated"),
    ("not json at all", "not valid JSON"),
    ('{"entries": []}', 'no top-level "log"'),
    ('{"log": {"entries": {}}}', '"entries" list'),
    ('{"log": {"entries": [{"request": {}, "startedDateTime": "yesterday"}]}}',
     "startedDateTime"),
    ('{"log": {"entries": [42]}}', 'no "request"'),
])
def test_bad_har_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExplainError, match=message):
        ucwa_nb.explain(path)


@pytest.mark.parametrize(("content", "message"), [
    ('{"log": [1]}', r'no top-level "log" object: "log" is a list'),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"log": {"entries": [{"startedDateTime": "2026-12-01T10:00:00Z", "request": {}, '
     '"_ucwa": []}]}}', r'entry 0: "_ucwa" is a list, not an object'),
])
def test_hostile_har_files_are_named_from_the_logs_har_error(
        tmp_path: Path, content: str, message: str) -> None:
    # Issue 25, attack 3: the doctor builds on the log's HarError (what and where).
    path = tmp_path / "hostile.har"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExplainError, match=message) as caught:
        ucwa_nb.explain(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert isinstance(caught.value.__cause__, HarError)


def test_missing_file_and_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(ExplainError, match="no such file"):
        ucwa_nb.explain(tmp_path / "nowhere.har")
    with pytest.raises(ExplainError, match="cannot explain a int"):
        ucwa_nb.explain(42)


def test_a_har_with_no_ucwa_traffic_says_so(tmp_path: Path) -> None:
    path = tmp_path / "other.har"
    path.write_text(json.dumps({"log": {"entries": [{
        "startedDateTime": "2026-12-01T10:00:00Z", "time": 1,
        "request": {"method": "GET", "url": "https://example.com/", "headers": []},
        "response": {"status": 500, "headers": [], "content": {"mimeType": "text/html",
                                                               "text": "<html></html>"}}}]}}))
    diagnosis = ucwa_nb.explain(path)
    assert not diagnosis
    assert "no UCWA traffic" in diagnosis.summary()


def test_log_dataframe_and_har_agree(session: Session, tmp_path: Path) -> None:
    session.add_phone_audio(session.conversations()[0], to=MARIA).wait()
    session.log.to_har(tmp_path / "s.har")
    by_log = [(f.rule, f.seqs) for f in ucwa_nb.explain(session.log)]
    assert by_log == [(f.rule, f.seqs) for f in ucwa_nb.explain(session.log.df)]
    assert by_log == [(f.rule, f.seqs) for f in ucwa_nb.explain(tmp_path / "s.har")]
    assert by_log == [(f.rule, f.seqs) for f in ucwa_nb.explain(session)]
    assert [rule for rule, _ in by_log] == ["outcome.busy"]
