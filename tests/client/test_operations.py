"""The operation definitions: bodies, local validation and the drafted request, no network."""

from __future__ import annotations

import json
import shlex

import pytest

from ucwa_nb import PhoneAudioCall, parse_input
from ucwa_nb.client import PreparedCall
from ucwa_nb.client.operations import (
    ADD_PHONE_AUDIO,
    CANCEL,
    CONTINUE_PHONE_AUDIO,
    HOLD_PHONE_AUDIO,
    OPERATIONS,
    RESUME_PHONE_AUDIO,
    START_PHONE_AUDIO,
    STOP_PHONE_AUDIO,
    draft,
    operation_named,
)
from ucwa_nb.protocol.representation import Format

URL = "https://fe1.contoso.com/ucwa/oauth/v1/applications/1/communication/startPhoneAudio"
JOHN = "sip:john@contoso.com"


class _NeverSends:
    def send(self, prepared: PreparedCall) -> PhoneAudioCall:
        raise AssertionError("a draft is not sent")


def test_every_operation_once_with_its_link_and_result() -> None:
    assert list(OPERATIONS) == ["addPhoneAudio", "continuePhoneAudio", "startPhoneAudio",
                                "stopPhoneAudio", "holdPhoneAudio", "resumePhoneAudio",
                                "cancel"]
    assert [(op.reached_from, op.acts_on) for op in OPERATIONS.values()] == [
        ("conversation", "phoneAudio"), ("conversationLog", "conversationLog"),
        ("communication", "communication"), ("phoneAudioInvitation", "phoneAudio"),
        ("phoneAudioInvitation", "phoneAudio"), ("phoneAudioInvitation", "phoneAudio"),
        ("phoneAudioInvitation", "phoneAudioInvitation")]
    creating = [op.rel for op in OPERATIONS.values() if op.creates_call]
    assert creating == ["addPhoneAudio", "continuePhoneAudio", "startPhoneAudio"]
    for op in (STOP_PHONE_AUDIO, HOLD_PHONE_AUDIO, RESUME_PHONE_AUDIO, CANCEL):
        assert op.fields == ()  # body-less


def test_an_operation_is_named_by_its_definition_or_its_rel() -> None:
    assert operation_named("holdPhoneAudio") is HOLD_PHONE_AUDIO
    assert operation_named(CANCEL) is CANCEL
    with pytest.raises(ValueError, match="no operation 'hold'"):
        operation_named("hold")


def test_bodies_hold_the_fields_in_order_and_leave_out_unset_optional_ones() -> None:
    values = {"to": JOHN, "phone_number": "tel:+14255551234", "subject": "Hi",
              "operation_id": "op-1"}
    assert list(START_PHONE_AUDIO.body(values).items()) == [
        ("operationId", "op-1"), ("phoneNumber", "tel:+14255551234"), ("subject", "Hi"),
        ("to", JOHN)]
    assert ADD_PHONE_AUDIO.body(values) == {
        "operationId": "op-1", "phoneNumber": "tel:+14255551234", "to": JOHN}
    assert CONTINUE_PHONE_AUDIO.body(values) == {
        "operationId": "op-1", "phoneNumber": "tel:+14255551234"}
    # a required field and the operationId are sent even when empty (for the server to
    # judge); optional ones not
    assert ADD_PHONE_AUDIO.body({"to": "", "phone_number": "", "operation_id": ""}) == {
        "operationId": "", "to": ""}


def test_checks_come_from_the_fields() -> None:
    assert set(ADD_PHONE_AUDIO.problems({"to": None, "operation_id": "x" * 51})) == \
        {"to", "operationId"}
    assert CONTINUE_PHONE_AUDIO.problems({"to": None}) == {}  # no `to` to check
    problems = START_PHONE_AUDIO.problems({"to": JOHN, "subject": "s" * 251,
                                           "phone_number": "555"})
    assert set(problems) == {"subject", "phoneNumber"}
    assert "the maximum is 250" in problems["subject"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_draft_is_the_exact_request(fmt: Format) -> None:
    prepared = draft(START_PHONE_AUDIO, _NeverSends(), url=URL, format=fmt,
                     values={"to": JOHN, "subject": "It's me"}, operation_id="op-9",
                     region="US")
    media = f"application/{fmt}"
    assert (prepared.kind, prepared.target, prepared.problems) == ("startPhoneAudio", JOHN, {})
    assert parse_input(prepared.body, media) == {"operationId": "op-9", "subject": "It's me",
                                                 "to": JOHN}
    line, rest = prepared.preview().split("\n", 1)
    assert line == f"POST {URL}"
    assert rest == (f"Authorization: Bearer [REDACTED]\nContent-Type: {media}\n"
                    f"Accept: {media}\n\n{prepared.body.decode()}")
    # As the shell reads it: the URL and body arrive as they are (test_snippets.py runs it).
    words = shlex.split(prepared.curl().replace("\\\n", ""), comments=True)
    assert words[:4] == ["curl", "-i", "-X", "POST"]
    assert words[4] == URL
    assert words[-2:] == ["--data-binary", prepared.body.decode()]
    assert "Authorization: Bearer $UCWA_TOKEN" in words  # expanded by the shell, not here
    compile(prepared.python(), "<snippet>", "exec")
    if fmt == "json":
        assert json.loads(prepared.body)["subject"] == "It's me"


def test_draft_reports_problems_and_keeps_the_target_given() -> None:
    prepared = draft(CONTINUE_PHONE_AUDIO, _NeverSends(), url=URL, format="json",
                     values={"phone_number": "abc"}, operation_id="op", region="US",
                     target=JOHN)
    assert list(prepared.problems) == ["phoneNumber"]
    assert prepared.target == JOHN
