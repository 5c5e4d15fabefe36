"""ucwa_nb.exercises: a check asks the simulator, which judges from its own record; hints
get more specific; editing one's log passes nothing; a server that is not the simulator gets
"only the simulator can check"; a prefixed server works too."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest
from support import JOHN, MARIA, Lab, MakeSession, fast_scenario

import ucwa_nb
from ucwa_nb import exercises
from ucwa_nb.protocol.exercises import EXERCISES


def test_every_exercise_is_a_name_of_the_module() -> None:
    assert [exercise.id for exercise in exercises.ALL] == [spec.id for spec in EXERCISES]
    for exercise in exercises.ALL:
        assert getattr(exercises, exercise.id) is exercise
        assert exercise.id in repr(exercise)
        assert exercise.task
    assert "exercises" not in ucwa_nb.__all__


def test_a_check_passes_after_the_work_and_hints_before(make_session: MakeSession) -> None:
    session = make_session()
    first = exercises.json_and_xml.check(session)
    assert (first.passed, first.checked, first.tries) == (False, True, 1)
    assert "no call of yours to John" in str(first)
    call = session.add_phone_audio(session.conversations()[0], to=JOHN).wait(10)
    second = exercises.json_and_xml.check(session)
    assert "in JSON; now the same call in XML" in str(second.hint)
    assert "format='xml'" in str(second.hint)  # more specific on the second try
    call.stop()
    session.add_phone_audio(session.conversations()[0], to=JOHN, format="xml").wait(10)
    passed = exercises.json_and_xml.check(session)
    assert passed.passed
    assert passed.tries == 3
    assert "passed" in passed._repr_html_()
    # The checks are exchanges of the session's log, with their own rel.
    assert (session.log.df.rel == "progress").sum() == 3
    assert exercises.progress(session)["exercises"][0]["passed"] is True


def test_editing_the_log_passes_nothing(make_session: MakeSession) -> None:
    session = make_session()
    session.add_phone_audio(session.conversations()[1], to=MARIA).wait(10)
    df = session.log.df
    df.loc[df.event_type == "completed", "subcode"] = "Canceled"  # the learner's copy only
    assert isinstance(df, pd.DataFrame)
    assert not exercises.cancel_while_ringing.check(session).passed
    wrong = exercises.find_failure_cause.check(session, answer="Canceled")
    assert not wrong.passed
    assert "'Canceled' is not what the server sent" in str(wrong.hint)
    assert exercises.find_failure_cause.check(session, answer="Busy").passed


class _NotASimulator(httpx.HTTPTransport):
    """A server that answers UCWA but has no progress resource (as a real server would)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/_simulator/"):
            return httpx.Response(404, json={"code": "NotFound"})
        return super().handle_request(request)


def test_a_real_server_cannot_check(make_session: MakeSession) -> None:
    session = make_session(transport=_NotASimulator())
    verdict = exercises.hold_resume_hang_up.check(session)
    assert not verdict.checked
    assert not verdict.passed
    assert "only be checked against the ucwa-nb simulator" in str(verdict)
    with pytest.raises(LookupError, match="simulator"):
        exercises.progress(session)


def test_a_simulator_under_a_prefix(lab: Lab) -> None:
    sim = lab.start(fast_scenario({"root_path": "/services/ucwa-nb"}))
    session = lab.connect(sim=sim)
    verdict = exercises.follow_resync.check(session)
    assert verdict.checked
    assert not verdict.passed
