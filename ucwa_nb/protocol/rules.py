"""Local checks of add/continue/startPhoneAudio input, before anything is sent.

The same rules as the server's (ucwa-protocol.md 6.1-6.3): ``to`` a SIP URI (add and
startPhoneAudio), ``phoneNumber`` normalisable with the user's dial plan, ``operationId`` at
most 50 characters, ``subject`` (startPhoneAudio) at most 250. The forms use them to show
messages as the user types.
"""

from __future__ import annotations

from ucwa_nb.protocol.phone import NormalizationError, normalize_phone_number, parse_sip_uri

__all__ = ["MAX_OPERATION_ID", "MAX_SUBJECT", "check_phone_audio_input"]

MAX_OPERATION_ID = 50
MAX_SUBJECT = 250


def check_phone_audio_input(*, needs_to: bool, to: str | None, phone_number: str | None,
                            operation_id: str | None, region: str = "US",
                            subject: str | None = None) -> dict[str, str]:
    """Problems by field name; an empty dict means the input is valid."""
    problems: dict[str, str] = {}
    if needs_to:
        if not to or not to.strip():
            problems["to"] = "required: the SIP URI of the person to call, e.g. " \
                             "sip:john@contoso.com"
        else:
            try:
                parse_sip_uri(to, allow_spaces=False)
            except ValueError as exc:
                problems["to"] = str(exc)
    if phone_number:
        try:
            normalize_phone_number(phone_number, region, allow_spaces=False)
        except NormalizationError as exc:
            problems["phoneNumber"] = str(exc)
    if operation_id is not None:
        if not operation_id.strip():
            problems["operationId"] = "must not be empty (leave it out to have one generated)"
        elif len(operation_id) > MAX_OPERATION_ID:
            problems["operationId"] = (f"{len(operation_id)} characters; the maximum is "
                                       f"{MAX_OPERATION_ID}")
    if subject is not None and len(subject) > MAX_SUBJECT:
        problems["subject"] = f"{len(subject)} characters; the maximum is {MAX_SUBJECT}"
    return problems
