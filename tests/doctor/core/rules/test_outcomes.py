"""Outcome rules: each default contact's behaviour, a cancel and the own phone, named from
the completed event's reason; a reason the simulator never gives, from a Fiddler HAR."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import DESK_PHONE_NEVER_ANSWERED, JOHN, MARIA, NOBODY, NORA, PIERRE
from support.doctor import fired

from ucwa_nb import ExchangeLog, Session


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


def test_a_cancel_whose_answer_is_logged_after_the_completed_event_is_still_named() -> None:
    # A request's row is written when its answer arrives: the completed event of a cancelled
    # call can be logged before the cancel's 204 (it was, one full run in a few).
    app = "https://lyncweb.contoso.com/ucwa/oauth/v1/applications/101/communication"
    log = ExchangeLog()
    log.record_http(method="POST", url=f"{app}/conversations/1/phoneAudio/addPhoneAudio",
                    status=201, request_headers={}, request_body=None, response_headers={},
                    response_body=None, elapsed_ms=1.0, rel="addPhoneAudio",
                    operation_id="op-1")
    log.record_event(url=f"{app}/../events?ack=2", event_type="completed",
                     rel="phoneAudioInvitation", event_status="Failure", operation_id="op-1",
                     code="LocalFailure", subcode="Canceled")
    log.record_http(method="POST", url=f"{app}/phoneAudioInvitations/1/cancel", status=204,
                    request_headers={}, request_body=None, response_headers={},
                    response_body=None, elapsed_ms=1.0, rel="cancel", operation_id="op-1")
    [finding] = fired(log, "outcome.cancelled")
    assert "by this client (#2 cancel)" in finding.cause
    assert finding.seqs == (0, 1, 2)  # the POST, the event, the cancel
