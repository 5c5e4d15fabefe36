"""A diagnosis: silent on clean runs of the notebooks' flows, escaped HTML, text, a frame."""

from __future__ import annotations

from pathlib import Path

from support import JOHN, MakeSession

import ucwa_nb
from ucwa_nb.doctor.core import Exchange, Finding, Record, diagnose, findings_html


def test_clean_runs_are_silent(make_session: MakeSession, tmp_path: Path) -> None:
    # What the notebooks do when nothing goes wrong: sign in (JSON and XML), read
    # conversations and logs, add, continue and start phone audio, hang up.
    for fmt in ("json", "xml"):
        session = make_session(format=fmt)
        project = session.conversations()[0]
        weekly = session.conversation_logs()[0]
        call = session.add_phone_audio(project, to=JOHN).wait()
        call.stop()
        session.continue_phone_audio(weekly).wait().stop()
        session.start_phone_audio(JOHN).wait()
        diagnosis = ucwa_nb.explain(session)
        assert not diagnosis, str(diagnosis)
        assert diagnosis.summary().startswith("Nothing to explain")
        session.log.to_har(tmp_path / f"{fmt}.har")
        assert not ucwa_nb.explain(tmp_path / f"{fmt}.har")


def test_html_is_escaped() -> None:
    finding = Finding("operation.x", "<b>title</b>", (3,), "<script>alert(1)</script>",
                      "a & b", "<i>fix</i>", "https://learn.microsoft.com/'onmouseover='x")
    page = findings_html([finding])
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "'onmouseover='" not in page


def test_text_and_frame() -> None:
    record = Record.of([Exchange(seq=0, kind="event", event_type="completed",
                                 rel="phoneAudioInvitation", event_status="Failure",
                                 code="RemoteFailure", subcode="Busy", operation_id="op")])
    diagnosis = diagnose(record)
    assert diagnosis.rules == ["outcome.busy"]
    assert "outcome.busy" in str(diagnosis)
    assert list(diagnosis.df.columns)[:2] == ["rule", "severity"]
    assert diagnosis.about(0) == list(diagnosis)
    assert not diagnose(Record.of([]))
