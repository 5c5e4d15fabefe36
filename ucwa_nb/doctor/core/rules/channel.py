"""The event channel: one poll at a time, ``next`` links only, and every call's ``completed``.

EventsInUCWA and EventChannelDetails: a client follows the ``next`` (or ``resync``,
``resume``) link of each answer and never edits ``ack``; a second poll with the same ack
replaces the first (409 PGetReplaced); an ``ack`` out of range is answered with a ``resync``
link alone. The outcome of every phone-audio call arrives on the channel only, so an
operation needs a live channel when it starts (500 CallbackChannelError) and a client that
stops polling never learns how its call ended.
"""

from __future__ import annotations

from collections.abc import Iterator

from ucwa_nb.doctor.core.finding import Finding, Rule
from ucwa_nb.doctor.core.record import Exchange, Record
from ucwa_nb.protocol.representation import Events, Resource

__all__ = ["RULES"]

_FOLLOWED = ("next", "resync", "resume")


def _ack_of(href: str) -> str | None:
    probe = Exchange(seq=-1, kind="http", url=href)
    return probe.query("ack")


def _path_of(href: str, base: Exchange) -> str:
    from urllib.parse import urljoin

    try:
        return Exchange(seq=-1, kind="http", url=urljoin(base.url or "", href)).path
    except ValueError:
        return ""


def _offered(e: Exchange) -> list[tuple[str, str]]:
    """The (events path, ack) pairs an answer hands out: an application's ``events`` link,
    an event batch's ``next``/``resync``/``resume``."""
    parsed = e.parsed if e.kind == "http" and e.status is not None and e.status < 400 else None
    hrefs: list[str] = []
    if isinstance(parsed, Events):
        hrefs = [link.href for rel in _FOLLOWED for link in parsed.links.get(rel, [])]
    elif isinstance(parsed, Resource):
        hrefs = [link.href for link in parsed.links.get("events", [])]
    pairs = []
    for href in hrefs:
        ack = _ack_of(href)
        if ack is not None:
            pairs.append((_path_of(href, e), ack))
    return pairs


def _hand_built_ack(record: Record, rule: Rule) -> Iterator[Finding]:
    offered: dict[str, set[str]] = {}
    for e in record.http:
        ack = e.query("ack") if e.is_poll else None
        known = offered.get(e.path)
        if ack is not None and known and ack not in known:
            yield rule.finding(
                [e.seq], f"#{e.seq} GET events?ack={ack}: no answer before it offered "
                f"ack={ack} (offered: {', '.join(sorted(known, key=_number))})",
                "The poll's ack was not taken from a link: it was built or edited by hand, "
                "so events may be skipped or delivered twice.",
                "Poll the href of the previous answer's next link (or resync, resume) as it "
                "is; only add timeout, priority, low and medium to it.")
        for path, value in _offered(e):
            offered.setdefault(path, set()).add(value)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _resync_ignored(record: Record, rule: Rule) -> Iterator[Finding]:
    polls = [e for e in record.http if e.is_poll]
    for i, e in enumerate(polls):
        parsed = e.parsed if e.status == 200 else None
        if not isinstance(parsed, Events) or not parsed.links.get("resync"):
            continue
        wanted = _ack_of(parsed.links["resync"][0].href)
        later = next((p for p in polls[i + 1:] if p.path == e.path), None)
        if later is None or later.query("ack") == wanted:
            continue
        yield rule.finding(
            [e.seq, later.seq], f"#{e.seq} answered only a resync link to ack={wanted}; "
            f"the next poll #{later.seq} asked for ack={later.query('ack')}",
            "The server asked the client to resynchronise and the client did not follow "
            "the resync link: the events it had not acknowledged are not delivered.",
            "Follow the resync href exactly, and treat what you cached (calls in progress, "
            "states) as possibly stale until the events catch up.")


def _replaced(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if not (e.is_poll and e.status == 409 and e.subcode == "PGetReplaced"):
            continue
        rivals = [p for p in record.before(e) if p.is_poll and p.path == e.path
                  and p.seq != e.seq and p.time is not None and e.time is not None
                  and p.time >= e.time]
        yield rule.finding(
            [e.seq, *(p.seq for p in rivals[-1:])],
            f"#{e.seq} {e.what}" + (f"; #{rivals[-1].seq} polled the same channel while it "
                                    "was parked" if rivals else ""),
            "Two polls were parked on one application's event channel at once: the newer "
            "one replaced this one (another thread, tab or copy of the client uses the same "
            "application).",
            "Keep one poll per application at a time; give each browser tab its own "
            "instanceId, and each device its own endpointId.")


def _no_channel(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if not (e.status == 500 and e.subcode == "CallbackChannelError"):
            continue
        polls = [p for p in record.before(e) if p.is_poll]
        if not polls:
            evidence = f"#{e.seq} {e.what}: no event poll in this log before it"
            seqs = [e.seq]
        else:
            last = polls[-1]
            ago = ""
            if last.time is not None and e.time is not None:
                ended = (last.elapsed_ms or 0) / 1000
                ago = f", started {(e.time - last.time).total_seconds() - ended:.1f} s " \
                      "after it ended" if last.status is not None else ""
            evidence = f"#{e.seq} {e.what}; last poll #{last.seq} ({last.what}){ago}"
            seqs = [last.seq, e.seq]
        injected = e.response_header("x-ucwa-nb-injected-fault")
        if injected:
            evidence += " (a fault injected by the simulator)"
        yield rule.finding(
            seqs, evidence,
            "No event poll was parked when the operation started, so the server had no "
            "channel to report the call on and refused to start it.",
            "Park a GET on the events link (and keep one parked) before starting a call; "
            "then send the request again.", e.operation_id)


def _completed_missing(record: Record, rule: Rule) -> Iterator[Finding]:
    completed = {e.operation_id for e in record.events
                 if e.event_type == "completed" and e.operation_id}
    completed_at = {e.location for e in record.events
                    if e.event_type == "completed" and e.location}
    for e in record.http:
        if not (e.method == "POST" and e.status == 201 and e.operation_id
                and "invitation" in (e.location or "").lower()):
            continue
        if e.operation_id in completed or e.location in completed_at:
            continue
        later = record.after(e)
        polls = [p for p in later if p.is_poll]
        if not polls:
            cause = ("No event poll followed the POST: without an event channel the call's "
                     "outcome (its completed event) cannot reach the client.")
            seqs = [e.seq]
        else:
            last = polls[-1]
            after_last = [x for x in later if x.seq > last.seq and x.kind == "http"]
            if last.status == 200 and not after_last:
                continue  # polling went on to the end of the log: the call may be ringing
            why = f"{last.what}: {last.error}" if last.error else last.what
            cause = (f"The client stopped polling after #{last.seq}"
                     + (f", whose poll failed ({why})" if last.status != 200 else "")
                     + ", so the call's completed event was never received.")
            seqs = [e.seq, last.seq]
        yield rule.finding(
            seqs, f"#{e.seq} {e.what} (operationId {e.operation_id}): no completed event "
            "for it in the log", cause,
            "Keep polling until every call has completed; after a failed poll, poll the "
            "same href again (the server re-sends the batch). GET the invitation (its "
            "Location) to see its state meanwhile.", e.operation_id)


RULES: tuple[Rule, ...] = (
    Rule("channel.pget-replaced", "Two polls at once (PGetReplaced)", "EventChannelDetails",
         "simulator: a second GET on the events link while the session's poll is parked",
         _replaced),
    Rule("channel.hand-built-ack", "ack built by hand", "EventsInUCWA",
         "simulator: a GET of events?ack=99 beside the session's own polls",
         _hand_built_ack),
    Rule("channel.resync-ignored", "resync link not followed", "EventsInUCWA",
         "simulator: a GET of events?ack=99 (answered resync), then a poll elsewhere",
         _resync_ignored),
    Rule("channel.no-poll", "No poll parked when the call started (CallbackChannelError)",
         "events_ref",
         "simulator: an application that never polls, or inject_fault(rel, "
         "'CallbackChannelError')", _no_channel),
    Rule("channel.completed-missing", "A call's completed event never arrived",
         "phoneAudioInvitation_ref",
         "simulator: stop the event channel, then call Nora (still accepted: callback_grace)",
         _completed_missing),
)
