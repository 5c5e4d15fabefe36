"""The colours of the HTML that ucwa_nb draws: status badges, form messages, call timelines.

All of them are JupyterLab theme variables, so that they follow the light and dark themes,
with fallbacks for front ends that define none. Text has to reach the 4.5:1 contrast that
WCAG asks of it, and JupyterLab's status colours (``--jp-success-color1`` and friends) are
made for fills and borders: as text on white, its green is 4.1:1 and its orange 2.7:1. So
the status colours are mixed with the theme's own text colour (black in light themes, white
in dark ones), which keeps their hue and takes them past 5:1 in both themes (measured in
tests/browser/test_accessibility.py). Plain text colours are used as they are.
"""

from __future__ import annotations

__all__ = ["BAD", "FG", "INFO", "MUTED", "OK", "WARN"]


def _text(colour: str) -> str:
    """``colour``, 70 %, with the theme's text colour (the surrounding text without one)."""
    return f"color-mix(in srgb, {colour} 70%, var(--jp-content-font-color0, currentColor))"


OK = _text("var(--jp-success-color1, #2e7d32)")
BAD = _text("var(--jp-error-color1, #c62828)")
WARN = _text("var(--jp-warn-color1, #ef6c00)")
INFO = _text("var(--jp-brand-color1, #1565c0)")
FG = "var(--jp-ui-font-color1, #222)"
MUTED = "var(--jp-ui-font-color2, #666)"
