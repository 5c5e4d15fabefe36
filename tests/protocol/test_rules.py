"""Local checks of addPhoneAudio/continuePhoneAudio input (the server's rules, before sending),
as the operations' fields apply them."""

from __future__ import annotations

import pytest

from ucwa_nb.protocol.operations import ADD_PHONE_AUDIO, CONTINUE_PHONE_AUDIO, CheckContext
from ucwa_nb.protocol.rules import MAX_OPERATION_ID


def _check(to: str | None = "sip:john@contoso.com", phone: str | None = None,
           op: str | None = None, needs_to: bool = True, region: str = "US",
           lenient: bool = True) -> dict[str, str]:
    operation = ADD_PHONE_AUDIO if needs_to else CONTINUE_PHONE_AUDIO
    return operation.problems({"to": to, "phone_number": phone, "operation_id": op},
                              CheckContext(region, lenient))


def test_valid_input() -> None:
    assert _check() == {}
    assert _check(phone="tel:+14255551234", op="a" * MAX_OPERATION_ID) == {}
    assert _check(phone="4255551234") == {}  # national format, US dial plan
    assert _check(to=None, needs_to=False) == {}  # continuePhoneAudio takes no "to"


@pytest.mark.parametrize(("to", "text"), [
    (None, "required"),
    ("", "required"),
    ("   ", "required"),
    ("john@contoso.com", "must start with 'sip:'"),
    ("tel:555", "cannot be normalised"),
    ("sip:555@contoso.com;user=phone", "cannot be normalised"),
    ("sip:john", "sip:user@domain"),
])
def test_bad_to(to: str | None, text: str) -> None:
    problems = _check(to=to)
    assert list(problems) == ["to"]
    assert text in problems["to"]


@pytest.mark.parametrize(("to", "phone"), [
    ("sip: john@contoso.com", None),
    ("sip : john@contoso.com", "tel : +14255551234"),
    ("sip:john@contoso.com", "tel:+44 20 7946 0958"),
])
def test_spaces_follow_the_server_setting(to: str, phone: str | None) -> None:
    # The simulator's default (lenient_uri_spacing = true) takes them; a strict one does not.
    assert _check(to=to, phone=phone) == {}
    strict = _check(to=to, phone=phone, lenient=False)
    assert strict
    assert "sip:user@domain" in strict.get("to", "sip:user@domain")


@pytest.mark.parametrize(("phone", "text"), [
    ("555", "cannot be normalised to an E.164 number with the US dial plan"),
    ("tel:555", "cannot be normalised"),
    ("abc", "is not a phone number"),
])
def test_bad_phone_number(phone: str, text: str) -> None:
    problems = _check(phone=phone)
    assert list(problems) == ["phoneNumber"]
    assert text in problems["phoneNumber"]
    # the same rule for continuePhoneAudio
    assert list(_check(to=None, phone=phone, needs_to=False)) == ["phoneNumber"]


def test_dial_plan_region_matters() -> None:
    assert _check(phone="020 7946 0958", region="GB") == {}
    assert "phoneNumber" in _check(phone="020 7946 0958", region="US")


def test_empty_phone_number_means_the_default_phone() -> None:
    assert _check(phone="") == {}


@pytest.mark.parametrize(("op", "text"), [
    ("x" * (MAX_OPERATION_ID + 1), "51 characters; the maximum is 50"),
    ("", "must not be empty"),
    ("   ", "must not be empty"),
])
def test_bad_operation_id(op: str, text: str) -> None:
    problems = _check(op=op)
    assert list(problems) == ["operationId"]
    assert text in problems["operationId"]


def test_every_problem_at_once() -> None:
    problems = _check(to="nobody", phone="555", op="y" * 60)
    assert set(problems) == {"to", "phoneNumber", "operationId"}


@pytest.mark.parametrize(("to", "read"), [
    ("sip:john@contoso.com", "sip:john@contoso.com"),
    ("sip:John@Contoso.COM", "sip:John@contoso.com"),
    ("tel:+14255550100", "tel:+14255550100"),
    ("tel:4255550100", "tel:+14255550100"),              # the dial plan adds +1
    ("tel:+1 (425) 555-0100", "tel:+14255550100"),
    ("tel:+14255550100;phone-context=contoso.com", "tel:+14255550100"),
    ("sip:+14255550100@contoso.com;user=phone", "tel:+14255550100"),
    ("sip:4255550100@contoso.com;transport=tls;USER=PHONE", "tel:+14255550100"),
    # Without user=phone the user part is a name (RFC 3261 19.1.1), not a number.
    ("sip:+14255550100@contoso.com", "sip:+14255550100@contoso.com"),
])
def test_callee_uri_reads_people_and_numbers(to: str, read: str) -> None:
    from ucwa_nb.protocol.rules import callee_uri

    assert callee_uri(to) == read
    assert _check(to=to) == {}


def test_callee_numbers_follow_the_dial_plan_of_the_region() -> None:
    from ucwa_nb.protocol.phone import NormalizationError
    from ucwa_nb.protocol.rules import callee_uri

    assert callee_uri("tel:020 7946 0958", "GB") == "tel:+442079460958"
    with pytest.raises(NormalizationError):
        callee_uri("tel:020 7946 0958", "US")
