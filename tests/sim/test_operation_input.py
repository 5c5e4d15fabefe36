"""One generic judge of an operation's input (``rules/operation_input.py``): the protocol's
fields and messages, the client's too, with the simulator's string check first."""

from __future__ import annotations

from typing import Any

import pytest

from ucwa_nb.protocol.operations import (
    ADD_PHONE_AUDIO,
    CONTINUE_PHONE_AUDIO,
    START_PHONE_AUDIO,
    CheckContext,
    OperationSpec,
)
from ucwa_nb.sim.errors import SimError
from ucwa_nb.sim.rules.operation_input import judge_input

JOHN = "sip:john@contoso.com"
TO_FIELD = ADD_PHONE_AUDIO.fields[-1]
assert TO_FIELD.name == "to"


@pytest.mark.parametrize(("spec", "props", "problems"), [
    (ADD_PHONE_AUDIO, {"to": JOHN, "operationId": "x" * 51},
     {"operationId": "51 characters; the maximum is 50"}),
    (START_PHONE_AUDIO, {"to": JOHN, "subject": "s" * 251},
     {"subject": "251 characters; the maximum is 250"}),
    (START_PHONE_AUDIO, {"to": JOHN, "importance": "High"},
     {"importance": "must be one of Normal, Urgent, Emergency"}),
    (ADD_PHONE_AUDIO, {"operationId": 7}, {
        "operationId": "This parameter must be a string.",
        "to": "required: " + TO_FIELD.help}),
    # phoneNumber is judged later (NormalizationFailed), but must be a string here too.
    (CONTINUE_PHONE_AUDIO, {"phoneNumber": ["tel:+1"]},
     {"phoneNumber": "This parameter must be a string."}),
    (CONTINUE_PHONE_AUDIO, {"phoneNumber": "not a number"}, {}),
])
def test_each_failed_field_is_named_with_the_protocols_message(
        spec: OperationSpec, props: dict[str, Any], problems: dict[str, str]) -> None:
    if not problems:
        judge_input(spec, props, CheckContext())
        return
    with pytest.raises(SimError) as caught:
        judge_input(spec, props, CheckContext())
    assert (caught.value.status, caught.value.reason.subcode) == (
        400, "ParameterValidationFailure")
    assert caught.value.reason.parameters == problems


def test_names_are_case_insensitive_and_unknown_or_null_ones_are_left_out() -> None:
    values = judge_input(ADD_PHONE_AUDIO, {"TO": JOHN, "OperationID": None, "x": "y"},
                         CheckContext())
    assert values == {"to": JOHN}
