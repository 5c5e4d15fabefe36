"""Pieces shared by the forms and the log view: safe callbacks, one path for updates from
other threads, status badges, pretty bodies.

Rules that come from ipywidgets' traps (notebook-tooling.md section 2): callback exceptions
are swallowed by ipywidgets, so every callback goes through ``guarded``, which shows the
error in the widget itself; text goes to Output widgets through ``append_*``, never ``print``;
and a widget changed from another thread (the event channel's, a form's link check) is
changed through its owner's ``WidgetLock``, never by a bare assignment.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from defusedxml import minidom

from ucwa_nb.client.errors import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.display.colours import BAD, INFO, MUTED, OK, WARN

# The colours are re-exported for the forms and the log view (ucwa_nb/display/colours.py says why
# they are what they are).
__all__ = ["BAD", "INFO", "MUTED", "OK", "WARN", "WidgetLock", "badge", "describe_exception",
           "guarded", "pre", "pretty_body"]


class WidgetLock:
    """The one path for changing a composite widget (a form, the log view) from more than one
    thread: the kernel's observers, the event thread and a form's link checks.

    Traitlets and ipywidgets are not thread-safe: two threads redrawing at once interleave
    their reads and writes (a preview from one input next to the problems of another, an
    older progress over a newer one), and each assignment is its own comm message. Hold
    ``with lock:`` around a read-then-draw, and ``lock.apply(widget, **traits)`` to set
    traits: under the lock, in one message (``hold_sync``). Re-entrant, because an
    assignment made under it runs the observers, which take it again on the same thread.
    Never do network I/O under it: read first, then apply.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __enter__(self) -> WidgetLock:
        self._lock.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._lock.release()

    def apply(self, widget: Any, **traits: Any) -> None:
        """Set ``traits`` on ``widget`` under the lock, sent to the front end together."""
        with self._lock, widget.hold_sync():
            for name, value in traits.items():
                setattr(widget, name, value)


def badge(text: str, colour: str) -> str:
    """A coloured status pill that reads in light and dark themes (theme variables)."""
    return (f'<span role="status" style="border:1px solid {colour};color:{colour};'
            f'border-radius:10px;padding:1px 8px;font-weight:600">{html.escape(text)}</span>')


def pre(text: str) -> str:
    return ('<pre style="white-space:pre-wrap;margin:0;font-size:12px;'
            'color:var(--jp-content-font-color1, inherit)">' + html.escape(text) + "</pre>")


def describe_exception(exc: BaseException) -> str:
    """What a person needs to know about an error, without a traceback or any secret."""
    if isinstance(exc, UcwaError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return str(exc)
    if isinstance(exc, DiscoveryError):
        return f"Sign-in failed: {exc}"
    if isinstance(exc, httpx.ConnectError):
        return ("Cannot reach the server (connection refused or no route). Is the simulator "
                "or the UCWA server still running?")
    if isinstance(exc, httpx.TimeoutException):
        return "The server did not answer in time."
    if isinstance(exc, httpx.HTTPError):
        return f"Network error: {type(exc).__name__}: {exc}"
    return f"Unexpected error: {type(exc).__name__}: {exc}"


def guarded(show: Callable[[BaseException], None]) -> Callable[[Callable[..., Any]],
                                                               Callable[..., None]]:
    """Decorate a widget callback so that any exception is shown by ``show``."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., None]:
        def wrapper(*args: Any, **kwargs: Any) -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:  # shown in the form; ipywidgets would swallow it
                show(exc)

        wrapper.__name__ = getattr(fn, "__name__", "callback")
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


def pretty_body(body: str | None, content_type: str | None = None) -> str:
    """Indent JSON or XML for reading; anything else as it is."""
    if not body:
        return ""
    text = body.strip()
    if text.startswith(("{", "[")):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return body
    if text.startswith("<"):
        try:
            pretty = minidom.parseString(text.encode()).toprettyxml(indent="  ")
        except Exception:  # defusedxml refusals and syntax errors alike: show it raw
            return body
        return "\n".join(line for line in pretty.splitlines() if line.strip())
    return body
