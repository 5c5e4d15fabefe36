"""Tests for ucwa_nb.protocol.phone: E.164 normalisation (a dial plan's stand-in) and SIP URIs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ucwa_nb.protocol.phone import (
    NormalizationError,
    SipUri,
    is_sip_uri,
    normalize_phone_number,
    parse_sip_uri,
    tel_uri,
)

# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "value",
    [
        "4255551234",
        "tel:+14255551234",
        "tel : +14255551234",  # as printed on the continuePhoneAudio reference page
        "+14255551234",
        "+1 (425) 555-1234",
        "(425) 555-1234",
        "425.555.1234",
        "1-425-555-1234",
        "TEL:+14255551234",
        "  tel:+14255551234  ",
        "tel:+14255551234;ext=12",  # tel: parameters are not dialled
        "tel:4255551234",
    ],
)
def test_normalises_us_numbers(value: str) -> None:
    assert normalize_phone_number(value, "US") == "+14255551234"


def test_region_defaults_to_us() -> None:
    assert normalize_phone_number("4255551234") == "+14255551234"
    assert tel_uri("(425) 555-1234") == "tel:+14255551234"


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("020 7946 0958", "GB", "+442079460958"),
        ("07700 900123", "GB", "+447700900123"),
        ("tel:+44 20 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),  # region codes in any case
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("030 123456", "DE", "+4930123456"),
        # An explicit country code wins over the dial plan's region.
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("+14255551234", "GB", "+14255551234"),
    ],
)
def test_normalises_other_regions(value: str, region: str, expected: str) -> None:
    assert normalize_phone_number(value, region) == expected
    assert tel_uri(value, region) == "tel:" + expected


def test_same_digits_differ_by_region() -> None:
    assert normalize_phone_number("2079460958", "GB") == "+442079460958"
    assert normalize_phone_number("2079460958", "US") == "+12079460958"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("555", "cannot be normalised to an E.164 number with the US dial plan"),
        ("42555512345678", "cannot be normalised to an E.164 number with the US dial plan"),
        ("abc", "'abc' is not a phone number"),
        ("425-555-CALL", "is not a phone number"),
        ("sip:john@contoso.com", "is a SIP URI, not a phone number"),
        ("sip : john@contoso.com", "is a SIP URI, not a phone number"),
        ("", "the phone number is empty"),
        ("   ", "the phone number is empty"),
        ("tel:", "'tel:' is not a phone number"),
        ("tel: ", "is not a phone number"),
        ("tel:;ext=1", "is not a phone number"),
        ("+", "is not a phone number"),
        ("john@contoso.com", "is not a phone number"),
        ("+999 1234", "cannot be normalised"),
        ("()", "cannot be normalised"),
    ],
)
def test_rejections_say_why(value: str, message: str) -> None:
    with pytest.raises(NormalizationError, match=message):
        normalize_phone_number(value, "US")


def test_rejection_names_the_region() -> None:
    with pytest.raises(NormalizationError, match="with the GB dial plan"):
        normalize_phone_number("123", "GB")


def test_unknown_region_is_a_normalization_error() -> None:
    with pytest.raises(NormalizationError, match="invalid default region"):
        normalize_phone_number("4255551234", "ZZ")


def test_normalization_error_is_a_value_error() -> None:
    assert issubclass(NormalizationError, ValueError)
    with pytest.raises(ValueError, match="not a phone number"):
        tel_uri("letters")


def test_spaces_around_the_scheme_can_be_refused() -> None:
    assert normalize_phone_number("tel : +14255551234", allow_spaces=True) == "+14255551234"
    assert normalize_phone_number("tel:+14255551234", allow_spaces=False) == "+14255551234"
    with pytest.raises(NormalizationError, match="is not a phone number"):
        normalize_phone_number("tel : +14255551234", allow_spaces=False)


NANP_FORMATS = [
    "{d}",
    "+1{d}",
    "1{d}",
    "tel:+1{d}",
    "tel : +1{d}",
    "({a}) {e}-{s}",
    "+1 ({a}) {e}-{s}",
    "{a}-{e}-{s}",
    "{a}.{e}.{s}",
]


@given(
    st.from_regex(r"[2-9][0-9]{9}", fullmatch=True),
    st.sampled_from(NANP_FORMATS),
)
def test_any_nanp_number_normalises(digits: str, template: str) -> None:
    written = template.format(d=digits, a=digits[:3], e=digits[3:6], s=digits[6:])
    assert normalize_phone_number(written, "US") == "+1" + digits


# --------------------------------------------------------------------------- SIP URIs


@pytest.mark.parametrize(
    ("value", "user", "host"),
    [
        ("sip:john@contoso.com", "john", "contoso.com"),
        ("sip : john@contoso.com", "john", "contoso.com"),  # continuePhoneAudio page
        ("SIP:John.Smith@Contoso.COM", "John.Smith", "contoso.com"),
        ("  sip:o'brien+ucwa@fe1.contoso.co.uk ", "o'brien+ucwa", "fe1.contoso.co.uk"),
        ("sip:john@my-host.contoso.com", "john", "my-host.contoso.com"),
    ],
)
def test_parse_sip_uri(value: str, user: str, host: str) -> None:
    uri = parse_sip_uri(value)
    assert uri == SipUri(user, host)
    assert str(uri) == f"sip:{user}@{host}"
    assert is_sip_uri(value)


def test_spaces_in_sip_uri_follow_allow_spaces() -> None:
    assert parse_sip_uri("sip : john@contoso.com", allow_spaces=True) == SipUri(
        "john", "contoso.com"
    )
    assert parse_sip_uri("sip:john@contoso.com", allow_spaces=False) == SipUri(
        "john", "contoso.com"
    )
    with pytest.raises(ValueError, match="is not a SIP URI of the form sip:user@domain"):
        parse_sip_uri("sip : john@contoso.com", allow_spaces=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("john@contoso.com", "must start with 'sip:'"),
        ("tel:+14255551234", "must start with 'sip:'"),
        ("+14255551234", "must start with 'sip:'"),
        ("sips:john@contoso.com", "must start with 'sip:'"),
        ("sip:johncontoso.com", "of the form sip:user@domain"),
        ("sip:john@", "of the form sip:user@domain"),
        ("sip:@contoso.com", "of the form sip:user@domain"),
        ("sip:john@contoso", "of the form sip:user@domain"),
        ("sip:john doe@contoso.com", "of the form sip:user@domain"),
        ("sip:john@contoso..com", "of the form sip:user@domain"),
        ("sip:", "of the form sip:user@domain"),
        ("", "a SIP URI is required"),
        ("   ", "a SIP URI is required"),
    ],
)
def test_parse_sip_uri_rejections_say_why(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sip_uri(value)
    assert not is_sip_uri(value)


def test_sip_uri_message_quotes_the_value() -> None:
    with pytest.raises(ValueError, match="'tel:\\+14255551234' is not a SIP URI"):
        parse_sip_uri("tel:+14255551234")
