"""Outcome rules: each default contact's behaviour, a cancel and the own phone, named from
the completed event's reason; a reason the simulator never gives, from a Fiddler HAR."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import DESK_PHONE_NEVER_ANSWERED, JOHN, MARIA, NOBODY, NORA, PIERRE
from support.doctor import fired

from ucwa_nb import Session


@pytest.mark.parametrize(("to", "phone", "rule"), [
    (MARIA, None, "outcome.busy"), (PIERRE, None, "outcome.declined"),
    (NORA, None, "outcome.no-answer"), (NOBODY, None, "outcome.not-found"),
    (JOHN, DESK_PHONE_NEVER_ANSWERED, "outcome.own-phone")])
def test_outcome_is_named(session: Session, to: str, phone: str | None, rule: str) -> None:
    call = session.add_phone_audio(session.conversations()[0], to=to, phone_number=phone)
    call.wait()
    [finding] = fired(session, rule)
    assert finding.operation_id == call.operation_id
    assert finding.severity == "outcome"
    assert [f.rule for f in call.explain()] == [rule]


def test_cancel_names_the_cancel_request(session: Session) -> None:
    call = session.add_phone_audio(session.conversations()[0], to=NORA)  # rings a while
    call.cancel()
    call.wait()
    [finding] = fired(session, "outcome.cancelled")
    assert "by this client" in finding.cause


def test_another_reason_from_a_fiddler_har(fixtures: Path) -> None:
    [finding] = fired(fixtures / "fiddler-proxy-and-tokens.har", "outcome.failed")
    assert "Forbidden/DialoutNotAllowed" in finding.evidence
    assert finding.operation_id == "op-77"


@pytest.mark.parametrize("to", ["tel:+14255550111", "sip:+14255550100@contoso.com"])
def test_a_number_nobody_answers_to_is_not_found(session: Session, to: str) -> None:
    # A number outside the world, and a number written as a SIP user without user=phone.
    call = session.add_phone_audio(session.conversations()[0], to=to)
    call.wait()
    [finding] = fired(session, "outcome.not-found")
    assert "user=phone" in finding.fix
