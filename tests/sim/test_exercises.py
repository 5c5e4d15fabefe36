"""The judge of the exercises (sim/rules/exercises.py), on records made step by step: what
passes each exercise, what does not, and hints that get more specific on each try."""

from __future__ import annotations

import pytest

from ucwa_nb.protocol.exercises import EXERCISES, exercise_named
from ucwa_nb.sim.rules import exercises
from ucwa_nb.sim.rules.progress import Step, UserProgress

JOHN = "sip:john@contoso.com"


def record_of(*steps: dict[str, object]) -> UserProgress:
    record = UserProgress()
    for seq, fields in enumerate(steps, 1):
        record.steps.append(Step(seq=seq, **fields))  # type: ignore[arg-type]
    return record


def call(inv: str, rel: str = "addPhoneAudio", *, fmt: str = "json", to: str = JOHN,
         outcome: str = "Success", code: str | None = None, subcode: str | None = None
         ) -> list[dict[str, object]]:
    """A call the server accepted (201) and its completed outcome."""
    return [{"kind": "operation", "rel": rel, "format": fmt, "status": 201, "to": to,
             "invitation": inv},
            {"kind": "outcome", "rel": rel, "to": to, "invitation": inv, "outcome": outcome,
             "code": code, "subcode": subcode}]


def op(rel: str, status: int = 204, **fields: object) -> dict[str, object]:
    return {"kind": "operation", "rel": rel, "status": status, **fields}


def is_passed(exercise_id: str, record: UserProgress, answer: str | None = None) -> bool:
    spec = exercise_named(exercise_id)
    assert spec is not None
    return not exercises.judge(spec, record, answer)


def test_every_exercise_has_a_judge_and_none_passes_on_an_empty_record() -> None:
    assert set(exercises.JUDGES) == {spec.id for spec in EXERCISES}
    assert 8 <= len(EXERCISES) <= 10
    for spec in EXERCISES:
        assert not exercises.passed(spec, UserProgress()), spec.id


def test_json_and_xml_needs_a_connected_call_to_john_in_each_format() -> None:
    assert not is_passed("json_and_xml", record_of(*call("1")))
    assert not is_passed("json_and_xml", record_of(*call("1"), *call("2", fmt="xml",
                                                                    outcome="Failure")))
    assert not is_passed("json_and_xml", record_of(*call("1"), *call("2", fmt="xml",
                                                                    to="sip:maria@contoso.com")))
    assert is_passed("json_and_xml", record_of(*call("1"), *call("2", fmt="xml")))


def test_hold_resume_hang_up_in_that_order() -> None:
    assert not is_passed("hold_resume_hang_up", record_of(
        op("resumePhoneAudio"), op("holdPhoneAudio"), op("stopPhoneAudio")))
    assert not is_passed("hold_resume_hang_up", record_of(
        op("holdPhoneAudio"), op("resumePhoneAudio", 409), op("stopPhoneAudio")))
    assert is_passed("hold_resume_hang_up", record_of(
        op("holdPhoneAudio"), op("resumePhoneAudio"), op("stopPhoneAudio")))


def test_cancel_continue_and_the_three_failures() -> None:
    assert is_passed("cancel_while_ringing", record_of(*call(
        "1", outcome="Failure", code="LocalFailure", subcode="Canceled")))
    assert not is_passed("continue_from_log", record_of(*call("1")))
    assert is_passed("continue_from_log", record_of(*call("1", "continuePhoneAudio")))
    busy = call("1", outcome="Failure", code="RemoteFailure", subcode="Busy")
    declined = call("2", outcome="Failure", code="RemoteFailure", subcode="Declined")
    unanswered = call("3", outcome="Failure", code="Timeout")
    assert not is_passed("busy_declined_no_answer", record_of(*busy, *declined))
    assert is_passed("busy_declined_no_answer", record_of(*busy, *declined, *unanswered))


def test_normalization_failed_is_the_servers_400() -> None:
    assert not is_passed("normalization_failed", record_of(
        op("addPhoneAudio", 400, code="BadRequest", subcode="ParameterValidationFailure")))
    assert is_passed("normalization_failed", record_of(
        op("addPhoneAudio", 400, code="BadRequest", subcode="NormalizationFailed")))


@pytest.mark.parametrize("to", ["tel:+14255550100", "sip:+14255550100@contoso.com;user=phone"])
def test_call_a_number_completed_whatever_its_outcome(to: str) -> None:
    started = call("1", "startPhoneAudio", to=to, outcome="Failure", code="NotFound")
    assert is_passed("call_a_number", record_of(*started))
    assert not is_passed("call_a_number", record_of(started[0]))  # not completed yet
    assert not is_passed("call_a_number", record_of(*call("1", "startPhoneAudio")))
    refused = record_of(op("startPhoneAudio", 400, code="BadRequest", to=to))
    spec = exercise_named("call_a_number")
    assert spec is not None
    assert "refused" in str(exercises.check(spec, refused, 1).hint)


def test_follow_resync_needs_the_follow() -> None:
    assert not is_passed("follow_resync", record_of({"kind": "resync", "rel": "events"}))
    assert is_passed("follow_resync", record_of({"kind": "resync", "rel": "events"},
                                                {"kind": "resync_followed", "rel": "events"}))


def test_find_failure_cause_compares_the_answer_with_the_latest_failure() -> None:
    record = record_of(*call("1", outcome="Failure", code="RemoteFailure", subcode="Busy"),
                       *call("2", outcome="Failure", code="Timeout"))
    assert not is_passed("find_failure_cause", record)
    assert not is_passed("find_failure_cause", record, "Busy")  # not the latest
    spec = exercise_named("find_failure_cause")
    assert spec is not None
    assert not exercises.passed(spec, record)  # only a check with the answer passes it
    assert is_passed("find_failure_cause", record, " timeout ")
    assert exercises.passed(spec, record)  # latched by the check that passed


def test_hints_get_more_specific_and_always_say_what_the_server_saw() -> None:
    spec = exercise_named("json_and_xml")
    assert spec is not None
    record = record_of(*call("1"))
    hints = [exercises.check(spec, record, tries).hint for tries in (1, 2, 3, 4)]
    saw = "The server saw your call to John in JSON; now the same call in XML."
    assert hints[0] == saw
    assert all(str(hint).startswith(saw) for hint in hints)
    assert len(set(hints)) == 3
    assert hints[2] == hints[3]
    assert "format='xml'" in str(hints[2])


def test_a_pass_is_latched_when_old_steps_roll_off() -> None:
    spec = exercise_named("normalization_failed")
    assert spec is not None
    record = record_of(op("addPhoneAudio", 400, code="BadRequest",
                          subcode="NormalizationFailed"))
    assert exercises.check(spec, record, 1).passed
    record.steps.clear()
    assert exercises.passed(spec, record)
