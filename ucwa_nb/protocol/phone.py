"""``tel:``/``sip:`` URIs and E.164 normalisation, the way a UCWA server applies a dial plan.

A real Skype for Business server normalises the ``phoneNumber`` of addPhoneAudio and
continuePhoneAudio with the user's dial-plan rules and answers 400 NormalizationFailed when no
rule yields an E.164 number. We stand in for dial-plan rules with ``phonenumbers`` and a
region: in region US, ``4255551234`` becomes ``+14255551234``.

A callee (``to``) is a person's SIP URI or a URI that carries a phone number, in the two forms
clients and servers write them: ``tel:+14255550100`` (RFC 3966; a national number such as
``tel:4255550100`` is normalised by the dial plan too) and
``sip:+14255550100@contoso.com;user=phone`` (RFC 3261 19.1.1: ``user=phone`` marks the user
part as a telephone number). CoreCapabilities.md, "Phone audio": the other contacts "are
identified by a URI including phone number".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

__all__ = [
    "NormalizationError",
    "SipUri",
    "is_sip_uri",
    "normalize_phone_number",
    "parse_sip_uri",
    "phone_number_in",
    "tel_uri",
]

# The continuePhoneAudio reference page writes "tel : +14255551234" and "sip : john@...".
# Whether real servers accepted the spaces is unknown (ucwa-protocol.md section 10); we accept
# spaces around the scheme's colon by default and let a scenario turn that off.
_SCHEME = re.compile(r"^\s*(?P<scheme>tel|sip)\s*:\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_SIP_USER = re.compile(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+$")
_DIALABLE = re.compile(r"^\+?[0-9 ()./\-]+$")
# sip:<number>@<host>;user=phone (parameters in any case and order; user=phone among them).
_SIP_PHONE = re.compile(r"^(?P<user>[^@;]*)@(?P<host>[^;@]+)(?P<params>(?:;[^;]*)+)$")


class NormalizationError(ValueError):
    """The number cannot be normalised to E.164 with the given dial plan."""


@dataclass(frozen=True)
class SipUri:
    user: str
    host: str

    def __str__(self) -> str:
        return f"sip:{self.user}@{self.host}"


def _split_scheme(value: str, allow_spaces: bool) -> tuple[str | None, str]:
    match = _SCHEME.match(value)
    if not match:
        return None, value.strip()
    if not allow_spaces and re.search(r"\s", value.strip()):
        return match.group("scheme").lower(), value  # keeps the spaces so validation fails
    return match.group("scheme").lower(), match.group("rest").strip()


def parse_sip_uri(value: str, *, allow_spaces: bool = True) -> SipUri:
    """Parse ``sip:user@host``; raise ValueError with a reason otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a SIP URI is required, such as sip:john@contoso.com")
    scheme, rest = _split_scheme(value, allow_spaces)
    if scheme != "sip":
        raise ValueError(f"{value!r} is not a SIP URI: it must start with 'sip:'")
    if not _SIP_USER.match(rest):
        raise ValueError(f"{value!r} is not a SIP URI of the form sip:user@domain")
    user, host = rest.split("@", 1)
    return SipUri(user, host.lower())


def is_sip_uri(value: str) -> bool:
    try:
        parse_sip_uri(value)
    except ValueError:
        return False
    return True


def phone_number_in(value: str, *, allow_spaces: bool = True) -> str | None:
    """The number a callee URI carries, as written (not normalised): the text after
    ``tel:``, or the user part of ``sip:...;user=phone``. None for any other value (a
    person's SIP URI, or something that is no URI at all): ``parse_sip_uri`` judges those."""
    if not isinstance(value, str):
        return None
    scheme, rest = _split_scheme(value, allow_spaces)
    if scheme == "tel":
        return rest
    if scheme != "sip":
        return None
    match = _SIP_PHONE.match(rest)
    if match is None:
        return None
    params = [p.strip().lower() for p in match.group("params").split(";")[1:]]
    return match.group("user") if "user=phone" in params else None


def normalize_phone_number(value: str, region: str = "US", *, allow_spaces: bool = True) -> str:
    """Normalise a ``tel:`` URI, an E.164 string or a dialled number to ``+<digits>``.

    Raises NormalizationError when the dial plan of ``region`` cannot produce a possible
    E.164 number (too short, letters, a ``sip:`` URI, ...).
    """
    if not isinstance(value, str) or not value.strip():
        raise NormalizationError("the phone number is empty")
    scheme, rest = _split_scheme(value, allow_spaces)
    if scheme == "sip":
        raise NormalizationError(f"{value!r} is a SIP URI, not a phone number")
    rest = rest.split(";", 1)[0]  # tel: parameters such as ;ext= are not dialled
    if not _DIALABLE.match(rest):
        raise NormalizationError(f"{value!r} is not a phone number")
    try:
        # phonenumbers knows regions by upper-case code only ("us" would be "invalid").
        number = phonenumbers.parse(rest, None if rest.startswith("+") else region.upper())
    except phonenumbers.NumberParseException as exc:
        raise NormalizationError(f"{value!r} cannot be normalised: {exc}") from None
    # "possible" (a plausible length for the country) rather than "valid": training scenarios
    # use fictional 555 numbers that a strict validity check would reject.
    if not phonenumbers.is_possible_number(number):
        raise NormalizationError(
            f"{value!r} cannot be normalised to an E.164 number with the {region} dial plan"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def tel_uri(value: str, region: str = "US") -> str:
    """``tel:+<E.164>`` for any number that normalises."""
    return "tel:" + normalize_phone_number(value, region)
