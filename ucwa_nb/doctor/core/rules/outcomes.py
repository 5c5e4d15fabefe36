"""How a call ended, named from its ``completed`` event's reason.

phoneAudioInvitation_ref lists the asynchronous reasons (code and subcode) a failed
invitation completes with; call via work rings the user's own phone first, so
LocalFailure/PstnCallFailed is the user's phone, not the callee's. These are outcomes, not
bugs: the doctor names them in a person's words with what to do next.
"""

from __future__ import annotations

from collections.abc import Iterator

from ucwa_nb.doctor.core.finding import Finding, Rule
from ucwa_nb.doctor.core.record import Exchange, Record

__all__ = ["RULES", "outcome_of"]

# (code, subcode) -> (rule id, cause, what to do); a None subcode matches any subcode.
_OUTCOMES: dict[tuple[str, str | None], tuple[str, str, str]] = {
    ("RemoteFailure", "Busy"): (
        "outcome.busy", "The callee was busy (on another call, or busy on all devices).",
        "Call again later, or leave a message another way."),
    ("RemoteFailure", "Declined"): (
        "outcome.declined", "The callee declined the call.",
        "Nothing to fix in the client; call again later."),
    ("LocalFailure", "Declined"): (
        "outcome.own-phone", "The user declined the ring on their own phone (the first leg "
        "of call via work), so the callee was never called.",
        "Answer the own phone when it rings; check phoneNumber rings the phone at hand."),
    ("LocalFailure", "PstnCallFailed"): (
        "outcome.own-phone", "The user's own phone (the first leg of call via work) did not "
        "answer or could not be reached, so the callee was never called.",
        "Check phoneNumber is the phone at hand and that it can be reached from the PSTN "
        "gateway; answer it when it rings."),
    ("RemoteFailure", "Timeout"): (
        "outcome.no-answer", "The callee did not answer before the ring timed out.",
        "Call again later."),
    ("Timeout", None): (
        "outcome.no-answer", "Nobody answered before the call timed out.",
        "Call again later."),
    ("LocalFailure", "Timeout"): (
        "outcome.own-phone", "The user's own phone (the first leg of call via work) rang "
        "out without an answer.", "Answer the own phone when it rings."),
    ("RemoteFailure", "TemporarilyUnavailable"): (
        "outcome.no-answer", "The callee could not be reached at the moment.",
        "Call again later."),
    ("NotFound", "DestinationNotFound"): (
        "outcome.not-found", "The callee could not be found: no user or number answers to "
        "that address.", "Check the to address: sip:user@domain for a person; a number as "
        "tel:+E.164 or sip:+E.164@domain;user=phone (without user=phone the digits are read "
        "as a user's name)."),
    ("RemoteFailure", "DoNotDisturb"): (
        "outcome.busy", "The callee is in Do Not Disturb.", "Call again later."),
}
_CANCELLED = ("outcome.cancelled", "The call was cancelled before it connected.",
              "Expected if this client cancelled it (its cancel link); otherwise the user hung "
              "up the own phone before the callee answered.")
_OTHER = ("outcome.failed", "The call failed for a reason the server named in its "
          "completed event.", "Read the reason's code and subcode on the "
          "phoneAudioInvitation page; do not retry a Forbidden or NotFound as is.")
_TITLES = {"outcome.busy": "Callee busy", "outcome.declined": "Call declined",
           "outcome.no-answer": "No answer", "outcome.cancelled": "Call cancelled",
           "outcome.own-phone": "Own phone did not answer",
           "outcome.not-found": "Callee not found", "outcome.failed": "Call failed"}


def outcome_of(code: str | None, subcode: str | None) -> tuple[str, str, str]:
    """(rule id, cause, what to do) for a failed call's reason."""
    code = code or ""
    if subcode in ("Canceled", "Cancelled"):
        return _CANCELLED
    if code == "ServiceFailure" and subcode == "CallbackChannelError":
        return ("outcome.failed", "The server lost the application's event channel while "
                "the call was being set up.", "Keep a poll parked all along the call.")
    return (_OUTCOMES.get((code, subcode)) or _OUTCOMES.get((code, None)) or _OTHER)


def _failed_calls(record: Record) -> Iterator[Exchange]:
    for e in record.events:
        if e.event_type == "completed" and e.event_status == "Failure" \
                and "invitation" in (e.rel or "").lower():
            yield e


def _requests_of(record: Record, e: Exchange) -> list[Exchange]:
    """The POSTs about the call whose ``completed`` event ``e`` is. With an operationId:
    those that carry it, wherever the log has them (a request's row is written when its
    answer arrives, which may be after the call's events: ``started`` can beat the 201, and
    ``completed`` a cancel's 204). Without one (a foreign HAR): the POSTs before ``e``."""
    if e.operation_id:
        return [x for x in record.http if x.method == "POST"
                and x.operation_id == e.operation_id]
    return [x for x in record.before(e) if x.kind == "http" and x.method == "POST"]


def _check(rule_id: str) -> object:
    def check(record: Record, rule: Rule) -> Iterator[Finding]:
        for e in _failed_calls(record):
            found, cause, fix = outcome_of(e.code, e.subcode)
            if found != rule_id:
                continue
            requests = _requests_of(record, e)
            cancel = None
            if found == "outcome.cancelled":
                cancel = next((x for x in reversed(requests)
                               if x.rel == "cancel" or x.path.endswith("/cancel")), None)
                if cancel is not None:
                    cause = f"The call was cancelled by this client (#{cancel.seq} cancel)."
            reason = f"{e.code}/{e.subcode}" if e.subcode else (e.code or "no reason")
            posts = [x.seq for x in requests if x.operation_id == e.operation_id
                     and x is not cancel][-1:] if e.operation_id else []
            yield rule.finding(
                [*posts, *([cancel.seq] if cancel else []), e.seq],
                f"#{e.seq} completed Failure {reason}"
                + (f" (operationId {e.operation_id})" if e.operation_id else ""),
                cause, fix, e.operation_id)
    return check


RULES: tuple[Rule, ...] = tuple(
    Rule(rule_id, _TITLES[rule_id], "phoneAudioInvitation_ref", reproduction,
         _check(rule_id), severity="outcome")  # type: ignore[arg-type]
    for rule_id, reproduction in (
        ("outcome.busy", "simulator: call Maria (behaviour busy)"),
        ("outcome.declined", "simulator: call Pierre (behaviour declines)"),
        ("outcome.no-answer", "simulator: call Nora (behaviour never_answers)"),
        ("outcome.cancelled", "simulator: call John and cancel() before he answers"),
        ("outcome.own-phone", "simulator: phone_number tel:+14255550199 (never answered)"),
        ("outcome.not-found", "simulator: call sip:nobody@contoso.com"),
        ("outcome.failed", "simulator: none of the default contacts; a completed event "
                           "with another reason (HAR fixture)"),
    ))
