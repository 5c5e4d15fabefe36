"""Operation rules on the simulator: NormalizationFailed, bad parameters, a call in progress
(and the stale link it was sent on), CannotRedirect, 403, one operationId for two calls."""

from __future__ import annotations

import pytest
from support import JOHN, MARIA
from support.doctor import fired

from ucwa_nb import Session, Simulator, UcwaError


def test_normalization_failed_shows_the_number_as_dialled(session: Session) -> None:
    with pytest.raises(UcwaError):
        session.add_phone_audio(session.conversations()[1], to=JOHN, phone_number="4411",
                                validate=False)
    [finding] = fired(session, "operation.normalization-failed")
    assert "'4411'" in finding.evidence
    assert "US dial plan" in finding.evidence  # the server's message names the plan
    assert "Get-CsDialPlan" in finding.fix


def test_parameters_are_listed(session: Session) -> None:
    with pytest.raises(UcwaError):
        session.add_phone_audio(session.conversations()[1], to="", validate=False)
    [finding] = fired(session, "operation.parameters")
    assert "to:" in finding.evidence


def test_second_call_on_a_conversation_is_a_conflict_on_a_stale_link(session: Session) -> None:
    conversation = session.conversations()[0]
    first = session.add_phone_audio(conversation, to=JOHN)
    with pytest.raises(UcwaError):
        session.add_phone_audio(conversation, to=JOHN, validate=False)
    first.cancel()
    [conflict] = fired(session, "operation.conflict")
    assert first.operation_id in conflict.evidence
    assert "in progress" in conflict.cause
    [stale] = fired(session, "operation.stale-link")
    assert "addPhoneAudio" in stale.evidence


@pytest.mark.parametrize(("fault", "rule"), [("CannotRedirect", "operation.cannot-redirect"),
                                             ("Forbidden", "operation.forbidden"),
                                             ("Conflict", "operation.conflict")])
def test_injected_faults(session: Session, sim: Simulator, fault: str, rule: str) -> None:
    sim.inject_fault("addPhoneAudio", fault)
    with pytest.raises(UcwaError):
        session.add_phone_audio(session.conversations()[1], to=MARIA)
    [finding] = fired(session, rule)
    assert "injected" in finding.evidence


def test_one_operation_id_for_two_calls(session: Session) -> None:
    project, budget, _ = session.conversations()
    session.add_phone_audio(project, to=JOHN, operation_id="same-id").wait()
    session.add_phone_audio(budget, to=MARIA, operation_id="same-id").wait()
    [finding] = fired(session, "operation.reused-operation-id")
    assert finding.operation_id == "same-id"
    assert len(finding.seqs) == 2


@pytest.mark.parametrize("to", ["tel:4411", "sip:4411@contoso.com;user=phone"])
def test_normalization_failed_of_a_callee_number(session: Session, to: str) -> None:
    # The reproduction: a number in to that the dial plan cannot normalise (400
    # NormalizationFailed, add/startPhoneAudio_ref), which the local check also refuses.
    with pytest.raises(UcwaError):
        session.add_phone_audio(session.conversations()[1], to=to, validate=False)
    [finding] = fired(session, "operation.normalization-failed")
    assert f"to as dialled {to!r}" in finding.evidence
    assert "the number called (to)" in finding.cause
    assert "user=phone" in finding.fix
