"""The trainer's view of failures: each attendee's latest failure, explained: a refused
operation (a 400 NormalizationFailed, a 409 Conflict, a 403...) or a failed call, whichever
came last.

The simulator keeps its own record of what each user did (``rules/progress.py``: every
operation with its answer's status, code and subcode, every call's outcome); the doctor's
core (``ucwa_nb.doctor.core``, which imports only the protocol) turns the latest failure into
the same finding a learner's ``explain()`` shows for that row of their log. Everything is
escaped (``html.escape`` and ``findings_html``): attendees choose what some of the text says.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from ucwa_nb.doctor.core import Exchange, Record, diagnose, findings_html
from ucwa_nb.sim import paths
from ucwa_nb.sim.rules.progress import Progress, Step
from ucwa_nb.sim.state import InvitationState

__all__ = ["latest_failures_html"]


def _failed(step: Step) -> bool:
    return (step.kind == "operation" and step.status is not None and step.status >= 400) \
        or (step.kind == "outcome" and step.outcome == "Failure")


def _refusal_record(step: Step) -> Record:
    """The refused POST as the learner's log has it: the rel, the answer's status and
    reason, and the callee as sent (the operations' rules read ``to``). No other input is
    kept by the server's record."""
    body = json.dumps({"to": step.to}) if step.to is not None else None
    headers = (("Content-Type", "application/json"),) if body is not None else ()
    return Record.of([Exchange(
        seq=0, kind="http", method="POST", url=_template(step.rel), rel=step.rel,
        status=step.status, code=step.code, subcode=step.subcode, request_body=body,
        request_headers=headers)])


def _template(rel: str) -> str:
    # The operation's path with its ids left as placeholders: the record keeps no ids, and
    # the doctor needs a UCWA path to know the row for UCWA traffic.
    return paths.TEMPLATES.get(rel, "/ucwa/oauth/v1/applications/{app}/" + rel)


def _outcome_record(code: str | None, subcode: str | None,
                    operation_id: str | None) -> Record:
    return Record.of([Exchange(
        seq=0, kind="event", event_type="completed", rel="phoneAudioInvitation",
        event_status="Failure", code=code, subcode=subcode, operation_id=operation_id)])


def _section(user: str, title: str, record: Record) -> str:
    return (f"<h3>{html.escape(user)}: {html.escape(title)}</h3>"
            + findings_html(diagnose(record), caption=""))


def _call_section(user: str, inv: InvitationState) -> str:
    reason = inv.reason
    return _section(user, f"{inv.kind} to {inv.to or ''}", _outcome_record(
        reason.code if reason else None, reason.subcode if reason else None,
        inv.operation_id))


def _step_section(user: str, step: Step, calls: dict[str, InvitationState]) -> str:
    if step.kind == "outcome":
        inv = calls.get(step.invitation or "")
        if inv is not None:
            return _call_section(user, inv)
        return _section(user, f"{step.rel} to {step.to or ''}",
                        _outcome_record(step.code, step.subcode, None))
    answer = " ".join(str(x) for x in (step.status, step.code, step.subcode) if x)
    title = f"{step.rel} refused: {answer}" + (f" (to {step.to})" if step.to else "")
    return _section(user, title, _refusal_record(step))


def latest_failures_html(calls: Iterable[InvitationState],
                         progress: Progress | None = None) -> str:
    """An HTML section: per attendee, their latest failure and why: from ``progress`` (the
    server's record, refused operations and failed calls) when given, else from ``calls``'
    outcomes (a user whose record rolled over keeps their latest failed call)."""
    latest_call: dict[str, InvitationState] = {}
    by_id: dict[str, InvitationState] = {}
    for inv in calls:  # calls come oldest first
        by_id[inv.id] = inv
        if inv.status == "Failure":
            latest_call[inv.app.user.key] = inv
    latest_step: dict[str, Step] = {}
    for key, record in (progress.users.items() if progress is not None else ()):
        failed = [step for step in record.steps if _failed(step)]
        if failed:
            latest_step[key] = failed[-1]
    parts = ["<h2>Latest failure of each attendee</h2>"]
    users = sorted({*latest_call, *latest_step})
    if not users:
        parts.append("<p>No failure yet.</p>")
    for key in users:
        user = "sip:" + key  # UserState.key: the sign-in name, lower case
        step = latest_step.get(key)
        if step is not None:
            parts.append(_step_section(user, step, by_id))
        else:
            parts.append(_call_section(user, latest_call[key]))
    return "".join(parts)
