"""The operation definitions that client, forms and simulator share."""

from __future__ import annotations

from ucwa_nb.protocol.operations import (
    ADD_PHONE_AUDIO,
    CANCEL,
    OPERATIONS,
    START_PHONE_AUDIO,
    CheckContext,
    reference_page,
)


def test_every_operation_is_named_by_its_rel_and_links_its_page() -> None:
    for rel, op in OPERATIONS.items():
        assert op.rel == rel
        assert op.page == reference_page(rel + "_ref")
        assert op.page.startswith("https://learn.microsoft.com/en-us/skype-sdk/ucwa/")
        assert op.page == op.page.lower()


def test_what_each_operation_creates() -> None:
    assert ADD_PHONE_AUDIO.creates_call
    assert START_PHONE_AUDIO.creates_call
    assert not CANCEL.creates_call
    assert CANCEL.fields == ()


def test_problems_by_ucwa_name() -> None:
    problems = ADD_PHONE_AUDIO.problems(
        {"to": None, "operation_id": "x" * 51, "phone_number": "abc"})
    assert set(problems) == {"to", "operationId", "phoneNumber"}
    assert problems["operationId"] == "51 characters; the maximum is 50"
    assert problems["to"].startswith("required: who to call")


def test_choices_and_either_spelling() -> None:
    assert START_PHONE_AUDIO.problems({"to": "sip:a@contoso.com", "importance": "High"}) == {
        "importance": "must be one of Normal, Urgent, Emergency"}
    field = START_PHONE_AUDIO.field("thread_id")
    assert field is not None
    assert field is START_PHONE_AUDIO.field("threadId")
    assert field.normalization is None  # a failed check is ParameterValidationFailure


def test_a_number_in_to_is_checked_by_the_dial_plan() -> None:
    """CoreCapabilities.md: the other contacts "are identified by a URI including phone
    number". Both forms pass; one the dial plan cannot normalise fails its normalization
    (NormalizationFailed at the server), one that is no URI its check
    (ParameterValidationFailure)."""
    to = ADD_PHONE_AUDIO.field("to")
    assert to is not None
    assert to.normalization is not None
    for good in ("tel:+14255550100", "tel:4255550100", "tel:(425) 555-0100",
                 "sip:+14255550100@contoso.com;user=phone",
                 "sip:4255550100@contoso.com;user=phone"):
        assert ADD_PHONE_AUDIO.problems({"to": good}) == {}, good
        assert START_PHONE_AUDIO.problems({"to": good}) == {}, good
    context = CheckContext()
    for unnormalisable in ("tel:555", "tel:+1", "sip:abc@contoso.com;user=phone"):
        assert to.problem(unnormalisable, context) is not None
        assert to.problem(unnormalisable, context, normalize=False) is None, unnormalisable
    for malformed in ("john", "+14255550100", "mailto:john@contoso.com"):
        assert to.problem(malformed, context, normalize=False) is not None, malformed
        assert "tel:+14255550100" in (to.problem(malformed, context) or "")


def test_the_dial_plan_is_the_users_region() -> None:
    values = {"to": "tel:020 7946 0958"}
    assert "to" in ADD_PHONE_AUDIO.problems(values, CheckContext(region="US"))
    assert ADD_PHONE_AUDIO.problems(values, CheckContext(region="GB")) == {}


def test_spacing_follows_the_context() -> None:
    values = {"to": "sip : john@contoso.com"}
    assert ADD_PHONE_AUDIO.problems(values, CheckContext(lenient_spacing=True)) == {}
    assert "to" in ADD_PHONE_AUDIO.problems(values, CheckContext(lenient_spacing=False))


def test_body_sends_required_fields_even_empty_and_optional_ones_when_set() -> None:
    assert ADD_PHONE_AUDIO.body({"to": "", "operation_id": "1", "phone_number": ""}) == {
        "operationId": "1", "to": ""}
