"""The application: its expiry, the per-user limit, and reuse through endpointId.

ApplicationDashboard: an application nobody uses for a while is deleted (real servers wait
about 15 minutes without a request or a parked poll), and later requests get 404
ApplicationNotFound or 410 InactiveApplicationExpired; a user with too many applications
loses the oldest one (410 TooManyApplications). applications_ref: POST answers 201 for a new
application and 200 when one with the same endpointId (and instanceId) already exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ucwa_nb.doctor.core.finding import Finding, Rule
from ucwa_nb.doctor.core.record import Exchange, Record

__all__ = ["REAL_EXPIRY_SECONDS", "RULES", "application_path"]

# MeDashboard / ApplicationDashboard: about 15 minutes without a request.
REAL_EXPIRY_SECONDS = 15 * 60
_APP = re.compile(r"^(.*/applications/[^/]+)")


def application_path(e: Exchange) -> str | None:
    """The path of the application a request is about (``.../applications/<id>``)."""
    found = _APP.match(e.path)
    return found.group(1) if found else None


def _minutes(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _expired(record: Record, rule: Rule) -> Iterator[Finding]:
    reported: set[str] = set()
    for e in record.http:
        subcode = e.subcode or ""
        if not ((e.status == 404 and subcode == "ApplicationNotFound")
                or (e.status == 410 and subcode == "InactiveApplicationExpired")):
            continue
        app = application_path(e)
        if app is None or app in reported:
            continue  # one finding per application: every later request fails alike
        reported.add(app)
        earlier = [x for x in record.before(e) if x.kind == "http" and x.status is not None
                   and x.status < 400 and application_path(x) == app and x.time is not None]
        deleted = [x for x in earlier if x.method == "DELETE" and x.path == app]
        if deleted:
            yield rule.finding(
                [deleted[-1].seq, e.seq],
                f"#{e.seq} {e.what}, after #{deleted[-1].seq} DELETE of the application",
                "The application was deleted by this client (DELETE) and then used again.",
                "Create a new application (POST on the applications link) and find the "
                "conversation again from its links.")
            continue
        if not earlier or e.time is None:
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.what}: no earlier request of this application",
                "The application is not known to the server: it was created on another "
                "server or pool, deleted by another client, or the server restarted.",
                "Create a new application (POST on the applications link).")
            continue
        last = earlier[-1]
        assert last.time is not None
        gap = (e.time - last.time).total_seconds()
        if gap >= REAL_EXPIRY_SECONDS * 0.9:
            cause = (f"The application expired: nothing reached it for {_minutes(gap)}, "
                     "about the server's limit of 15 minutes, and no poll was parked.")
        else:
            cause = (f"The application was deleted although the last request was only "
                     f"{_minutes(gap)} earlier, less than a real server's 15 minutes: this "
                     "server expires applications sooner, its events queue overflowed "
                     "(nobody polled), or it restarted.")
        yield rule.finding(
            [last.seq, e.seq], f"#{e.seq} {e.what}; the previous request of this "
            f"application was #{last.seq}, {_minutes(gap)} before", cause,
            "Keep an event poll parked (it keeps the application alive); once expired, "
            "create a new application and find the conversation again.")


def _too_many(record: Record, rule: Rule) -> Iterator[Finding]:
    reported: set[str] = set()
    for e in record.http:
        if e.status != 410 or e.subcode != "TooManyApplications":
            continue
        app = application_path(e) or e.path
        if app in reported:
            continue
        reported.add(app)
        creations = [x for x in record.before(e) if x.method == "POST"
                     and x.path.endswith("/applications") and x.status in (200, 201)]
        evidence = f"#{e.seq} {e.what}"
        if len(creations) > 1:
            evidence += f"; {len(creations)} applications created before it in this log"
        yield rule.finding(
            [*(x.seq for x in creations[-3:]), e.seq], evidence,
            "The user had too many applications: the server deleted this one, the least "
            "recently used, to make room for a newer one.",
            "Create one application per device and reuse it (the same endpointId), DELETE "
            "applications you are done with, and do not create one per request.")


def _reused(record: Record, rule: Rule) -> Iterator[Finding]:
    for e in record.http:
        if e.method == "POST" and e.path.endswith("/applications") and e.status == 200 \
                and e.content_type not in ("text/html", "application/xhtml+xml"):
            # An HTML page is no application at all: signin.html-body explains it.
            endpoint = e.input_value("endpointId")
            yield rule.finding(
                [e.seq], f"#{e.seq} {e.what}" + (
                    f" for endpointId {endpoint}" if isinstance(endpoint, str) else ""),
                "The server answered 200, not 201: an application with this endpointId "
                "(and instanceId) already existed and was handed back, with its "
                "conversations and its event channel.",
                "Expected if this client meant to resume; otherwise use a new endpointId "
                "per device, or another instanceId per browser tab, so that two clients do "
                "not share one event channel.")


RULES: tuple[Rule, ...] = (
    Rule("application.expired", "Application expired or unknown", "ApplicationDashboard",
         "simulator: fast(application_expiry=0.5), wait, then use the application",
         _expired),
    Rule("application.too-many", "Too many applications", "ApplicationDashboard",
         "simulator: [server] max_applications_per_user = 1, then a second application",
         _too_many),
    Rule("application.reused", "Existing application reused (200, not 201)",
         "applications_ref",
         "simulator: POST applications twice with the same endpointId", _reused,
         severity="warning"),
)
