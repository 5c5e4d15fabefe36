"""Pieces shared by the forms and the log view: safe callbacks, status badges, pretty bodies.

Rules that come from ipywidgets' traps (notebook-tooling.md section 2): callback exceptions
are swallowed by ipywidgets, so every callback goes through ``guarded``, which shows the
error in the widget itself; text goes to Output widgets through ``append_*``, never ``print``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import httpx
from defusedxml import minidom

from ucwa_nb.client.errors import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.display.colours import BAD, INFO, MUTED, OK, WARN

# The colours are re-exported for the forms and the log view (ucwa_nb/display/colours.py says why
# they are what they are).
__all__ = ["BAD", "INFO", "MUTED", "OK", "WARN", "badge", "describe_exception", "guarded",
           "pre", "pretty_body"]


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
