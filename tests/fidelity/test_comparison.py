"""compare(a, b): what differs between two recordings, what is ignored, the score."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from support.recording import Recorded, edit_extra_link, edit_nora_declines, save

import ucwa_nb
from ucwa_nb.fidelity import Comparison
from ucwa_nb.record import RecordingError


def test_a_recording_agrees_with_itself(recorded: Recorded) -> None:
    comparison = ucwa_nb.compare(recorded("json"), recorded("json"), names=("x", "y"))
    assert isinstance(comparison, Comparison)
    assert comparison.score == 1.0
    assert comparison.differences.empty
    assert set(comparison.df.aspect.unique()) >= {"resource", "operation", "channel",
                                                  "server", "timing"}
    assert "No difference" in comparison._repr_html_()
    assert "score 1.000" in repr(comparison)


def test_minted_ids_dates_header_order_and_tokens_are_ignored(recorded: Recorded,
                                                             tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    text = json.dumps(har).replace("/applications/101", "/applications/7c3e") \
        .replace("2026-11-02T09:00:00", "2031-01-01T00:00:00")
    other = json.loads(text)
    for entry in other["log"]["entries"]:
        entry["response"]["headers"].reverse()
        entry["request"]["headers"].append({"name": "Authorization", "value": "Bearer other"})
    comparison = ucwa_nb.compare(recorded("json"), save(other, tmp_path / "other.har"))
    assert comparison.score == 1.0, comparison.differences.to_string()


def test_differences_are_reported_by_item(recorded: Recorded, tmp_path: Path) -> None:
    har = json.loads(recorded("json").read_text("utf-8"))
    edit_nora_declines(har)
    edit_extra_link(har, "bat<ch>")
    comparison = ucwa_nb.compare(recorded("json"), save(har, tmp_path / "edited.har"),
                                 names=("server 2019", "server SE"))
    found = set(zip(comparison.differences.subject, comparison.differences.item, strict=True))
    assert found == {("addPhoneAudio to sip:nora@contoso.com #1", "events"),
                     ("addPhoneAudio to sip:nora@contoso.com #1", "outcome"),
                     ("me", "link bat<ch>")}
    assert 0.9 < comparison.score < 1.0
    counts = comparison.by_aspect().to_dict("index")["operation"]
    assert counts["agree"] == counts["items"] - 2
    page = comparison._repr_html_()
    assert "bat&lt;ch&gt;" in page
    assert "<th>server 2019</th>" in page


def test_timings_agree_within_the_tolerance(recorded: Recorded, tmp_path: Path) -> None:
    slow = json.loads(recorded("json").read_text("utf-8"))
    for event in slow["log"]["_ucwaEvents"]:
        # Two seconds later than recorded, past the default tolerance of 0.5 s.
        if event["type"] == "completed":
            event["time"] = (datetime.fromisoformat(event["time"])
                             + timedelta(seconds=2)).isoformat()
    path = save(slow, tmp_path / "slow.har")
    strict = ucwa_nb.compare(recorded("json"), path)
    assert set(strict.differences.aspect) == {"timing"}
    assert ucwa_nb.compare(recorded("json"), path, tolerance=3.0).score == 1.0


def test_bad_input_names_what_is_missing(recorded: Recorded, tmp_path: Path) -> None:
    empty = tmp_path / "empty.har"
    empty.write_text('{"log": {"entries": []}}', "utf-8")
    with pytest.raises(RecordingError, match=r"b \(empty\.har\): no UCWA traffic"):
        ucwa_nb.compare(recorded("json"), empty)
