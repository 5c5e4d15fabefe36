"""The comparable items of a recording: what two recordings of the same calls should agree
on, keyed so that what is expected to differ never enters a key or a value.

* **resource**: per resource type (its rel), the rels of its links, its property names with
  their JSON types, the media types it was served in. Not hrefs, ids, dates or values, which
  differ from server to server and run to run.
* **operation**: per call, keyed by operation, callee and its rank among such calls (not by
  operationId, which a replay may choose differently): the POST's status (and error
  code/subcode), the invitation's event sequence (type and state), its outcome (status,
  code/subcode).
* **channel**: how many events of each (sender, resource, type) the event channel carried.
* **error**: how many synchronous errors each operation got, by status and code/subcode.
* **server**: the settings the recording shows (``ucwa_nb.record.settings``).
* **timing**: per call, seconds from the POST to the completed event; compared with a
  tolerance, not for equality.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ucwa_nb.protocol.representation import Resource
from ucwa_nb.record.calls import calls_of
from ucwa_nb.record.recording import Recording
from ucwa_nb.record.settings import observed_settings

__all__ = ["Item", "items_of"]

Key = tuple[str, str, str]  # aspect, subject, item
_APPLICATION = re.compile(r"/applications/[^/]+$")


@dataclass(frozen=True)
class Item:
    """One compared value; ``tolerance`` (seconds) for timings, None: must be equal."""

    value: Any
    tolerance: bool = False


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, datetime):
        return "date-time"
    return "null" if value is None else type(value).__name__


def _resource_items(resource: Resource, media: str | None, items: dict[Key, Item]) -> None:
    rel = resource.rel or "?"
    for link_rel in resource.links:
        if link_rel != "self":
            items[("resource", rel, f"link {link_rel}")] = Item("present")
    for name, value in resource.properties.items():
        if name == "rel":
            continue
        # A property named by a GUID (communication's, CreateAnApplication) is one per server.
        shown = "<guid>" if len(name) == 36 and name.count("-") == 4 else name
        items[("resource", rel, f"property {shown}")] = Item(_type(value))
    if media:
        items[("resource", rel, f"media type {media}")] = Item("served")
    for embedded in resource.embedded.values():
        for item in embedded:
            _resource_items(item, None, items)


def _error(exchange_status: int | None, code: Any, subcode: Any) -> str:
    parts = [str(exchange_status)] + [str(x) for x in (code, subcode) if x and not pd.isna(x)]
    return " ".join(parts)


def _session_end(recording: Recording) -> pd.Timestamp | None:
    """When the DELETE that ended the application was sent: a poll answered after it may be
    404 or not, a race of the client's close, not a property of the server."""
    for exchange in recording.exchanges:
        if exchange.method == "DELETE" and _APPLICATION.search(exchange.path):
            return exchange.time
    return None


def items_of(recording: Recording) -> dict[Key, Item]:
    """Every comparable item of ``recording`` (see the module docstring)."""
    items: dict[Key, Item] = {}
    for exchange, resource in recording.resources():  # the application's 201 included
        _resource_items(resource, exchange.media_type, items)
    ranks: Counter[tuple[str, str]] = Counter()
    for call in calls_of(recording):
        operation, to = call.operation or "call", call.to or "?"
        ranks[(operation, to)] += 1
        subject = f"{operation} to {to} #{ranks[(operation, to)]}"
        if call.post is not None:
            items[("operation", subject, "status")] = Item(call.post.status)
        items[("operation", subject, "events")] = Item(
            " → ".join(f"{e.type}/{e.state}" for e in call.events))
        end = call.outcome
        if end is not None:
            items[("operation", subject, "outcome")] = Item(
                " ".join(str(x) for x in (end.status, end.code, end.subcode) if x))
            if call.post is not None:
                seconds = (end.time - call.post.time).total_seconds()
                items[("timing", subject, "POST to completed (s)")] = Item(
                    round(seconds, 2), tolerance=True)
    events = recording.events
    counted = Counter(zip(events.rel.fillna("?"), events.event_type.fillna("?"), strict=True))
    for (rel, kind), count in counted.items():
        items[("channel", str(rel), f"{kind} events")] = Item(count)
    df = recording.df
    failed = df[(df.kind == "http") & (df.status >= 400).fillna(False).astype(bool)]
    closed = _session_end(recording)
    if closed is not None:
        answered = failed.time + pd.to_timedelta(failed.elapsed_ms.fillna(0), unit="ms")
        failed = failed[answered < closed]
    # Named by the URL's last segment, not the rel column: a browser's HAR has no rels.
    errors = Counter(
        (urlsplit(str(row["url"])).path.rsplit("/", 1)[-1],
         _error(int(row["status"]), row["code"], row["subcode"]))
        for row in failed.to_dict("records") if int(row["status"]) != 401)  # 401: sign-in's
    for (rel, error), count in errors.items():
        items[("error", rel, error)] = Item(count)
    for key, value in observed_settings(recording).items():
        items[("server", "settings", key)] = Item(value)
    return items
