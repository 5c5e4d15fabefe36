"""The rules of add/continue/startPhoneAudio input, shared by the client and the simulator.

The server's rules (ucwa-protocol.md 6.1-6.3): ``to`` a SIP URI (add and startPhoneAudio),
``phoneNumber`` normalisable with the user's dial plan, ``operationId`` at most 50
characters, ``subject`` (startPhoneAudio) at most 250. ``callee_uri`` and ``dialled_number``
are the one rule for the two URIs: the simulator reads a request's ``to`` and ``phoneNumber``
with them, and the fields' checks in ``operations.py`` (the client's local check, which the
forms show as the user types) call the same functions with the same spacing setting, so
that a value passes the local check exactly when the simulator accepts it.
"""

from __future__ import annotations

from ucwa_nb.protocol.phone import normalize_phone_number, parse_sip_uri

__all__ = [
    "LENIENT_URI_SPACING",
    "MAX_OPERATION_ID",
    "MAX_SUBJECT",
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


def callee_uri(to: str, *, lenient_spacing: bool = LENIENT_URI_SPACING) -> str:
    """``to`` as the server reads it, ``sip:user@host``; ValueError says what is wrong."""
    return str(parse_sip_uri(to, allow_spaces=lenient_spacing))


def dialled_number(number: str, region: str, *,
                   lenient_spacing: bool = LENIENT_URI_SPACING) -> str:
    """``phoneNumber`` as the server dials it, ``tel:+<E.164>`` with the dial plan of
    ``region``; NormalizationError (a ValueError) says why it cannot be normalised."""
    return "tel:" + normalize_phone_number(number, region, allow_spaces=lenient_spacing)
