"""The trainer's view of failures: each attendee's latest failed call, explained.

The simulator knows every call's outcome (its invitation's reason); the doctor's core
(``ucwa_nb.doctor.core``, which imports only the protocol) turns it into the same finding a
learner's ``call.explain()`` shows. Everything is escaped by ``findings_html``: attendees
choose what some of the text says.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from ucwa_nb.doctor.core import Exchange, Record, diagnose, findings_html
from ucwa_nb.sim.state import InvitationState

__all__ = ["latest_failures_html"]


def latest_failures_html(calls: Iterable[InvitationState]) -> str:
    """An HTML section: per attendee, their latest failed call and why it failed."""
    latest: dict[str, InvitationState] = {}
    for inv in calls:
        if inv.status == "Failure":
            latest[inv.app.user.spec.uri] = inv  # calls come oldest first
    parts = ["<h2>Latest failure of each attendee</h2>"]
    if not latest:
        parts.append("<p>No failed call yet.</p>")
    for user, inv in sorted(latest.items()):
        reason = inv.reason
        record = Record.of([Exchange(
            seq=0, kind="event", event_type="completed", rel="phoneAudioInvitation",
            event_status="Failure", code=reason.code if reason else None,
            subcode=reason.subcode if reason else None, operation_id=inv.operation_id)])
        parts.append(f"<h3>{html.escape(user)}: {html.escape(inv.kind)} to "
                     f"{html.escape(inv.to or '')}</h3>")
        parts.append(findings_html(diagnose(record), caption=""))
    return "".join(parts)
