"""The rules of add/continue/startPhoneAudio input, shared by the client and the simulator.

The server's rules (ucwa-protocol.md 6.1-6.3): ``to`` a SIP URI or a URI carrying a phone
number (add and startPhoneAudio; ``phone.py`` says which forms), ``phoneNumber`` normalisable
with the user's dial plan, ``operationId`` at most 50 characters, ``subject``
(startPhoneAudio) at most 250. ``callee_syntax``, ``callee_uri`` and ``dialled_number`` are
the one rule for the two URIs: the simulator reads a request's ``to`` and ``phoneNumber`` with
them, and the fields' checks in ``operations.py`` (the client's local check, which the forms
show as the user types) call the same functions with the same spacing setting, so that a
value passes the local check exactly when the simulator accepts it.

A number the dial plan cannot normalise is answered 400 NormalizationFailed whether it is
``phoneNumber`` or in ``to`` (add/startPhoneAudio_ref: "BadRequest 400 NormalizationFailed:
The phone normalization failed"); a ``to`` that is no URI at all is 400
ParameterValidationFailure, as any malformed parameter.
"""

from __future__ import annotations

from ucwa_nb.protocol.phone import normalize_phone_number, parse_sip_uri, phone_number_in

__all__ = [
    "LENIENT_URI_SPACING",
    "MAX_OPERATION_ID",
    "MAX_SUBJECT",
    "callee_syntax",
    "callee_uri",
    "dialled_number",
]

MAX_OPERATION_ID = 50
MAX_SUBJECT = 250
# [infer] The continuePhoneAudio page writes "tel : +1..." and "sip : john@..." with spaces
# around the colon; whether real servers took them is unknown (ucwa-protocol.md 10). The
# simulator accepts them unless its scenario says `lenient_uri_spacing = false`, and the
# client's local check follows the same setting (its default is this one).
LENIENT_URI_SPACING = True


def callee_syntax(to: str, *, lenient_spacing: bool = LENIENT_URI_SPACING) -> str | None:
    """Whether ``to`` has the shape of a callee: the number it carries (not normalised yet)
    for a ``tel:`` or ``sip:...;user=phone`` URI, None for a person's SIP URI; ValueError
    (never NormalizationError) says what is wrong with anything else."""
    number = phone_number_in(to, allow_spaces=lenient_spacing)
    if number is not None:
        return number
    try:
        parse_sip_uri(to, allow_spaces=lenient_spacing)
    except ValueError as exc:
        raise ValueError(f"{exc}; to call a phone number, write tel:+14255550100 or "
                         "sip:+14255550100@contoso.com;user=phone") from None
    return None


def callee_uri(to: str, region: str = "US", *,
               lenient_spacing: bool = LENIENT_URI_SPACING) -> str:
    """``to`` as the server reads it: ``sip:user@host`` for a person, ``tel:+<E.164>`` for a
    number (normalised with the dial plan of ``region``: the number as dialled). ValueError
    says what is wrong; NormalizationError (a ValueError) that the number cannot be
    normalised."""
    number = callee_syntax(to, lenient_spacing=lenient_spacing)
    if number is not None:
        return "tel:" + normalize_phone_number(number, region, allow_spaces=lenient_spacing)
    return str(parse_sip_uri(to, allow_spaces=lenient_spacing))


def dialled_number(number: str, region: str, *,
                   lenient_spacing: bool = LENIENT_URI_SPACING) -> str:
    """``phoneNumber`` as the server dials it, ``tel:+<E.164>`` with the dial plan of
    ``region``; NormalizationError (a ValueError) says why it cannot be normalised."""
    return "tel:" + normalize_phone_number(number, region, allow_spaces=lenient_spacing)
