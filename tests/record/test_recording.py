"""Reading a recording: any of a HAR, an ExchangeLog or a DataFrame; bad input refused with
a message naming what is missing, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.recording import Recorded, save

from ucwa_nb.log import HarError
from ucwa_nb.log.exchange_log import load_har
from ucwa_nb.record import Recording, RecordingError, scenario_from_har


def test_a_har_a_log_and_a_dataframe_read_alike(recorded: Recorded) -> None:
    log = load_har(recorded("json"))
    readings = [Recording(recorded("json")), Recording(log), Recording(log.df)]
    assert len({len(r.exchanges) for r in readings}) == 1
    assert len({r.server for r in readings}) == 1
    me = readings[0].first("me")
    assert me is not None
    assert me.get("uri") == "sip:alice@contoso.com"


def test_a_har_with_no_ucwa_traffic(tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [{
        "startedDateTime": "2026-12-01T10:00:00+00:00", "time": 5,
        "request": {"method": "GET", "url": "https://example.com/", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": "<html/>"}}}]}}
    with pytest.raises(RecordingError, match=r"no UCWA traffic \(of 1 requests"):
        scenario_from_har(save(har, tmp_path / "web.har"))


def test_a_har_from_two_servers(recorded: Recorded, tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    for entry in har["log"]["entries"][len(har["log"]["entries"]) // 2:]:
        url = entry["request"]["url"]
        entry["request"]["url"] = "https://lyncweb2.contoso.com" + url.split("/", 3)[3] \
            .join(["/", ""])
    with pytest.raises(RecordingError, match=r"2 servers \(.*lyncweb2\.contoso\.com"):
        scenario_from_har(save(har, tmp_path / "two.har"))


def test_a_truncated_har(recorded: Recorded, tmp_path: Path) -> None:
    text = recorded("json").read_text("utf-8")
    cut = tmp_path / "cut.har"
    cut.write_text(text[: len(text) // 2], "utf-8")
    with pytest.raises(RecordingError, match=r"not complete JSON .* truncated"):
        scenario_from_har(cut)


@pytest.mark.parametrize(("content", "message"), [
    ('{"entries": []}', "no log.entries"),
    ('{"log": {"entries": [{"request": {}}]}}', "entry 0 has no request or startedDateTime"),
    ("[1, 2]", "no log.entries"),
])
def test_a_har_missing_its_parts(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content, "utf-8")
    with pytest.raises(RecordingError, match=message):
        Recording(path)


@pytest.mark.parametrize(("content", "message"), [
    ('{"log": {"entries": [{"startedDateTime": "2026-12-01T10:00:00Z", "request": "GET /"}]}}',
     r'entry 0 has no request or startedDateTime .*\("request" is a string\)'),
    ("[" * 100_000 + "]" * 100_000, r"bad\.har: not a HAR file \(JSON nested too deeply\)"),
    ('{"log": {"entries": [{"startedDateTime": "2026-12-01T10:00:00Z", "request": {}, '
     '"_ucwa": {"seq": "one"}}]}}',
     r'bad\.har: entry 0: "_ucwa\.seq" is not an integer \(one\); the recording cannot'),
])
def test_a_hostile_har_is_refused_through_the_logs_har_error(
        tmp_path: Path, content: str, message: str) -> None:
    # Issue 25, attack 3: the recording builds on the log's HarError (what and where).
    path = tmp_path / "bad.har"
    path.write_text(content, "utf-8")
    with pytest.raises(RecordingError, match=message) as caught:
        Recording(path)
    assert isinstance(caught.value.__cause__, HarError)


def test_no_such_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such file"):
        Recording(tmp_path / "missing.har")


def test_a_recording_without_the_signed_in_user(recorded: Recorded, tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    har["log"]["entries"] = [e for e in har["log"]["entries"]
                             if e["request"]["method"] != "POST"
                             or not e["request"]["url"].endswith("/applications")]
    with pytest.raises(RecordingError,
                       match=r"the signed-in user \(no me resource with a uri\) is missing"):
        scenario_from_har(save(har, tmp_path / "late.har"))
