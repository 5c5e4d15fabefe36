"""The phone-audio operations' synchronous errors, and the client mistakes behind some.

addPhoneAudio_ref, continuePhoneAudio_ref and startPhoneAudio_ref list the errors: 400
NormalizationFailed (the dial plan found no E.164 form of the number), 409 AlreadyExists or
Conflict (a call in progress there), 410 CannotRedirect (no backup pool), 403 (no scope or
policy), and the generic 400 ParameterValidationFailure. Two client mistakes show only across
rows: an operationId used for two calls, and a link used after the resource stopped offering
it (Links, not URLs: a client acts on the links of the latest representation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from ucwa_nb.doctor.core.finding import Finding, Rule
from ucwa_nb.doctor.core.record import Exchange, Record
from ucwa_nb.protocol.phone import phone_number_in
from ucwa_nb.protocol.representation import Events, Resource

__all__ = ["OPERATIONS", "RULES"]

OPERATIONS = ("addphoneaudio", "continuephoneaudio", "startphoneaudio")
_PAGES = {"addphoneaudio": "addPhoneAudio_ref", "continuephoneaudio": "continuePhoneAudio_ref",
          "startphoneaudio": "startPhoneAudio_ref"}


def _operation(e: Exchange) -> str | None:
    """Which phone-audio operation a request is (by rel, else by its URL's last segment)."""
    for name in ((e.rel or "").lower(), e.path.rsplit("/", 1)[-1]):
        if name in OPERATIONS:
            return name
    return None


def _injected(e: Exchange) -> str:
    return " (a fault injected by the simulator)" \
        if e.response_header("x-ucwa-nb-injected-fault") else ""


def _normalization(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 400 or e.subcode != "NormalizationFailed":
            continue
        number = e.input_value("phoneNumber")
        dialled = repr(number) if isinstance(number, str) else "none given (the user's own)"
        detail = f"; the server said: {e.message}" if e.message else ""
        # A callee given as a number (tel:, sip:...;user=phone) is normalised by the same
        # dial plan, and its failure has the same subcode (add/startPhoneAudio_ref).
        to = e.input_value("to")
        callee = phone_number_in(to) if isinstance(to, str) else None
        which = "this number"
        evidence = f"#{e.seq} {e.what}: phoneNumber as dialled {dialled}"
        fix = ("Send the number in full international form (tel:+14255551234), or leave "
               "phoneNumber out to ring the user's own")
        if callee is not None:
            evidence += f", to as dialled {to!r}"
            which = "the number called (to) or the number rung first (phoneNumber)"
            fix = ("Send both numbers in full international form (to: tel:+14255550100 or "
                   "sip:+14255550100@contoso.com;user=phone; phoneNumber: tel:+14255551234)")
        yield rule.finding(
            [e.seq], evidence + detail + _injected(e),
            f"The user's dial plan has no normalization rule that turns {which} into an "
            "E.164 number (+ country code and digits), so the server cannot ring it.",
            fix + "; an administrator can add a rule to the user's dial plan "
            "(Get-CsDialPlan, New-CsVoiceNormalizationRule).",
            e.operation_id)


def _parameters(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 400 or e.subcode != "ParameterValidationFailure":
            continue
        reason = e.reason
        listed = "; ".join(f"{k}: {v}" for k, v in (reason.parameters if reason else {}).items())
        yield rule.finding(
            [e.seq], f"#{e.seq} {e.what}" + (f": {listed}" if listed else ""),
            "The server rejected the input: a required property is missing or a value is "
            "out of bounds (the error's parameters name each one).",
            "Fix the properties named and send again; the same body fails the same way.",
            e.operation_id)


def _in_progress(record: Record, e: Exchange) -> Exchange | None:
    """An earlier call on the same link that had not completed when ``e`` was sent."""
    completed_ops = {x.operation_id for x in record.before(e)
                     if x.kind == "event" and x.event_type == "completed"}
    return next((x for x in reversed(record.before(e))
                 if x.method == "POST" and x.status == 201 and x.path == e.path
                 and x.operation_id not in completed_ops), None)


def _conflict(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 409 or e.subcode == "PGetReplaced" or _operation(e) is None:
            continue
        running = _in_progress(record, e)
        what = e.subcode or "no subcode"
        evidence = f"#{e.seq} {e.what}" + _injected(e)
        if running is not None:
            evidence += (f"; the call #{running.seq} (operationId {running.operation_id}) "
                         "on the same link had not completed")
        if e.subcode == "AlreadyExists" or running is not None:
            cause = ("A call is already in progress there: phone audio is connecting or "
                     "connected on this conversation, or the log is already being "
                     "continued.")
            fix = ("Wait for the first call's completed event, or cancel it (its "
                   "invitation's cancel link) or hang up (stopPhoneAudio); then read the "
                   "resource again and use the link it offers.")
        elif e.subcode in ("TooManyConversations", "TooManyGroups"):
            cause = (f"A server limit was reached ({what}): too many calls in progress for "
                     "this user, or (TooManyGroups) the contact list's group limit.")
            fix = "Let calls finish (or cancel them) before starting more; do not retry in a loop."
        else:
            cause = ("The request conflicts with the resource's current state, or the "
                     "service behind it does not support it (409 with no subcode).")
            fix = ("GET the resource again and act on the links it offers now; a missing "
                   "link means the operation is not possible at the moment.")
        yield rule.finding([e.seq, *([running.seq] if running else [])], evidence, cause,
                           fix, e.operation_id)


def _cannot_redirect(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status == 410 and e.subcode == "CannotRedirect":
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.what}" + _injected(e),
                "The user's home pool is unavailable and no backup pool is configured to "
                "take its requests over.",
                "Do not retry (410 means gone); show the error and sign in again from "
                "autodiscovery once the pool is back. Administrators: pair the pool with a "
                "backup pool, or fail it over (Invoke-CsPoolFailOver).", e.operation_id)


def _forbidden(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.status != 403 or _operation(e) is None:
            continue
        text = " ".join([e.response_body or "", e.response_header("x-ms-diagnostics") or ""])
        if "cross domain" in text.lower() or text.strip().startswith(("28055", "28020")):
            continue  # sign-in rules explain these
        detail = f": {e.message}" if e.message else ""
        yield rule.finding(
            [e.seq], f"#{e.seq} {e.what}{detail}" + _injected(e),
            "The user may not place this call: the token carries neither "
            "Conversations.Initiate nor Conversations.Receive (online), or the user's policy "
            "does not allow it (not enabled for Enterprise Voice or call via work).",
            "Do not retry: an administrator grants the scope (consent) or enables the user's "
            "voice policy; until then, do not offer the action (the server shows no link "
            "for it).", e.operation_id)


def _reused_operation_id(record: Record, rule: Rule) -> Iterator[Finding]:
    created: defaultdict[str, list[Exchange]] = defaultdict(list)
    for e in record.http:
        if e.method == "POST" and e.status == 201 and e.operation_id and _operation(e):
            created[e.operation_id].append(e)
    for operation_id, posts in created.items():
        if len(posts) > 1:
            yield rule.finding(
                [p.seq for p in posts], f"{len(posts)} calls started with operationId "
                f"{operation_id}: " + ", ".join(f"#{p.seq}" for p in posts),
                "One operationId was used for more than one call, so their events cannot be "
                "told apart: each call may get the other's outcome.",
                "Generate a new operationId (a GUID) for every operation you start.",
                operation_id)


def _resources(e: Exchange) -> list[Resource]:
    """Every resource a row shows (embedded ones too), for which links it offered."""
    parsed = e.parsed
    roots: list[Resource] = []
    if isinstance(parsed, Resource) and e.kind == "http" and e.status is not None \
            and e.status < 300:
        roots = [parsed]
    elif isinstance(parsed, Events):
        roots = [r for _, event in parsed.all_events()
                 for r in [event.resource] if r is not None]
    found: list[Resource] = []
    while roots:
        resource = roots.pop()
        found.append(resource)
        roots.extend(r for many in resource.embedded.values() for r in many)
    return found


def _absolute(base: Exchange, href: str) -> str:
    try:
        parts = urlsplit(urljoin(base.url or "", href))
    except ValueError:
        return href
    return parts._replace(query="", fragment="").geturl().lower()


def _stale_link(record: Record, rule: Rule) -> Iterator[Finding]:
    # resource (absolute self href) -> (the row that showed it last, its offered links)
    latest: dict[str, tuple[Exchange, dict[str, str]]] = {}
    ever: dict[str, tuple[str, str, Exchange]] = {}  # link href -> (resource, rel, row)
    for e in record:
        if e.kind == "http" and e.method in ("POST", "PUT", "DELETE") \
                and e.status is not None and e.status >= 400:
            target = _absolute(e, e.url or "")
            seen = ever.get(target)
            if seen is not None:
                owner, rel, first = seen
                last_row, links = latest.get(owner, (first, {}))
                if target not in links.values() and last_row.seq > first.seq:
                    yield rule.finding(
                        [first.seq, last_row.seq, e.seq],
                        f"#{e.seq} {e.what}: the {rel} link was offered in #{first.seq} but "
                        f"no longer in #{last_row.seq}, the latest {owner.rsplit('/', 1)[-1]}",
                        "A link was used after the resource stopped offering it: the server "
                        "shows an operation's link only while the operation is possible.",
                        "Act on the links of the latest representation (GET it again, or "
                        "follow its updated events); no link means not now.", e.operation_id)
        for resource in _resources(e):
            if not resource.href:
                continue
            owner = _absolute(e, resource.href)
            links = {rel: _absolute(e, link.href) for rel, many in resource.links.items()
                     for link in many if rel != "self"}
            if not resource.links and e.kind == "event":
                continue  # an event without the resource's links says nothing about them
            latest[owner] = (e, links)
            for rel, href in links.items():
                ever.setdefault(href, (owner, rel, e))


RULES: tuple[Rule, ...] = (
    Rule("operation.normalization-failed", "Phone number not normalised",
         "addPhoneAudio_ref",
         "simulator: add_phone_audio(..., phone_number='4411', validate=False), or "
         "to='tel:4411'", _normalization),
    Rule("operation.parameters", "Input rejected (ParameterValidationFailure)",
         "GenericSynchronousErrors",
         "simulator: add_phone_audio(..., to='', validate=False)", _parameters),
    Rule("operation.conflict", "A call in progress there (409)", "addPhoneAudio_ref",
         "simulator: a second add_phone_audio on the same conversation at once; "
         "inject_fault(rel, 'Conflict')", _conflict),
    Rule("operation.cannot-redirect", "No backup pool (410 CannotRedirect)",
         "continuePhoneAudio_ref", "simulator: inject_fault(rel, 'CannotRedirect')",
         _cannot_redirect),
    Rule("operation.forbidden", "Not allowed to call (403)", "startPhoneAudio_ref",
         "simulator: the guest account (no call scopes) posting addPhoneAudio",
         _forbidden),
    Rule("operation.reused-operation-id", "One operationId for two calls",
         "OperationResource",
         "simulator: two calls with the same operation_id", _reused_operation_id),
    Rule("operation.stale-link", "Link used after it stopped being offered",
         "addPhoneAudio_ref",
         "simulator: a second addPhoneAudio on the conversation with validate=False",
         _stale_link),
)
