"""A per-call sequence picture: client, server and event channel, as self-contained HTML/SVG.

Used by ``PhoneAudioCall._repr_html_`` and by the forms. Colours come from JupyterLab's theme
variables (with fallbacks) so the picture reads in light and dark themes alike (see
ucwa_nb/display/colours.py).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Protocol

from ucwa_nb.display.colours import BAD as _BAD
from ucwa_nb.display.colours import FG as _FG
from ucwa_nb.display.colours import INFO as _INFO
from ucwa_nb.display.colours import MUTED as _MUTED
from ucwa_nb.display.colours import OK as _OK
from ucwa_nb.protocol.representation import Event

__all__ = ["DrawnCall", "DrawnEvent", "call_timeline_html", "call_timeline_text"]


# What the picture reads, as protocols: display sits beside the client, not above it, so it
# draws a PhoneAudioCall without importing the client (which imports display to draw itself).


class DrawnEvent(Protocol):
    """An event as received about the call (``client.call.CallEvent``)."""

    @property
    def event(self) -> Event: ...

    @property
    def state(self) -> str | None: ...


class DrawnCall(Protocol):
    """A call as the timeline draws it (``client.call.PhoneAudioCall``)."""

    @property
    def kind(self) -> str: ...

    @property
    def operation_id(self) -> str: ...

    @property
    def target(self) -> str | None: ...

    @property
    def http_status(self) -> int | None: ...

    @property
    def events_before_response(self) -> int: ...

    @property
    def events(self) -> Sequence[DrawnEvent]: ...

    @property
    def progress(self) -> str: ...

    @property
    def phone_number(self) -> str | None: ...


def _steps(call: DrawnCall) -> list[tuple[str, str, str, str]]:
    """(from lane, to lane, label, colour) for each arrow of the picture."""
    steps = [("client", "server", f"POST {call.kind}", _FG)]
    events: list[tuple[str, str, str, str]] = []
    for item in call.events:
        event = item.event
        label = f"{event.type}"
        if item.state:
            label += f" ({item.state})"
        colour = _INFO
        if event.type == "completed":
            ok = event.status == "Success"
            colour = _OK if ok else _BAD
            label = f"completed {event.status or ''}"
            if event.reason is not None:
                label += f" {event.reason.code}" + (
                    f"/{event.reason.subcode}" if event.reason.subcode else "")
        events.append(("events", "client", label, colour))
    if call.http_status is None:
        return steps + events
    label = f"{call.http_status} Created" if call.http_status == 201 else f"{call.http_status}"
    answer = ("server", "client", label, _OK if call.http_status == 201 else _BAD)
    # In the order the client saw them: events that beat the 201 are drawn above it.
    before = min(call.events_before_response, len(events))
    return steps + events[:before] + [answer] + events[before:]


def call_timeline_html(call: DrawnCall) -> str:
    """The call's exchanges and events as an HTML/SVG sequence picture, in the order the
    client saw them."""
    lanes = {"client": 70, "server": 270, "events": 470}
    steps = _steps(call)
    row = 26
    height = 50 + row * len(steps)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{height}" role="img" '
        f'aria-label="Timeline of call {html.escape(call.operation_id)}" '
        'style="font: 12px sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="context-stroke"/></marker></defs>',
    ]
    for name, x in lanes.items():
        parts.append(f'<text x="{x}" y="16" text-anchor="middle" fill="{_FG}" '
                     f'font-weight="bold">{name}</text>')
        parts.append(f'<line x1="{x}" y1="24" x2="{x}" y2="{height - 6}" stroke="{_MUTED}" '
                     'stroke-dasharray="4 3"/>')
    for i, (src, dst, label, colour) in enumerate(steps):
        y = 44 + i * row
        x1, x2 = lanes[src], lanes[dst]
        parts.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" '
                     'stroke-width="1.5" marker-end="url(#arrow)"/>')
        parts.append(f'<text x="{(x1 + x2) / 2}" y="{y - 5}" text-anchor="middle" '
                     f'fill="{colour}">{html.escape(label)}</text>')
    parts.append("</svg>")
    status = html.escape(call.progress)
    dialled = (f'; your phone, as dialled: <code>{html.escape(call.phone_number)}</code>'
               if call.phone_number else "")
    header = (f'<div style="color:{_FG}"><b>{html.escape(call.kind)}</b> '
              f'<code>{html.escape(call.operation_id)}</code> to '
              f'<code>{html.escape(call.target or "(from the log)")}</code>: {status}'
              f'{dialled}</div>')
    return f'<div class="ucwa-nb-timeline">{header}{"".join(parts)}</div>'



def call_timeline_text(call: DrawnCall) -> str:
    """The same picture as plain text, one line per arrow: what a notebook shows before its
    cells run again (stored outputs, nbviewer, a terminal), where the HTML is not drawn."""
    lines = [f"{call.kind} {call.operation_id} to {call.target or '(from the log)'}: "
             f"{call.progress}"]
    if call.phone_number:
        lines.append(f"your phone, as dialled: {call.phone_number}")
    lines += [f"  {src:>6} -> {dst:<7} {label}" for src, dst, label, _ in _steps(call)]
    return "\n".join(lines)
