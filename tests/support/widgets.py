"""What a widget shows, read the way a person (or a screen reader) would: the text of an HTML
value, every widget under a form, every string its traits hold.

Headless ipywidgets (notebook-tooling.md section 2): ``button.click()`` runs the handlers but
never raises (ipywidgets swallows callback exceptions), so tests check these effects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import ipywidgets as w


def text_of(markup: str) -> str:
    """The text a person reads in an HTML widget's value: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def all_widgets(root: w.Widget) -> list[w.Widget]:
    """``root`` and every widget reachable from its traits (children, accordions, ...)."""
    found: list[w.Widget] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        found.append(widget)
        for name in widget.trait_names():
            value = getattr(widget, name, None)
            items = value if isinstance(value, list | tuple) else [value]
            stack.extend(item for item in items if isinstance(item, w.Widget))
    return found


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a trait value (nested tuples, lists and dicts included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)


def widget_strings(root: w.Widget) -> list[str]:
    """Every string held by any trait of ``root`` or its descendants."""
    return [text for widget in all_widgets(root) for name in widget.trait_names()
            for text in strings_in(getattr(widget, name, None))]
