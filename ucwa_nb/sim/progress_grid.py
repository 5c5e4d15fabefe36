"""The trainer's progress grid: attendees by exercises, judged from the server's own record
(``rules/progress.py``, ``rules/exercises.py``), as rows (the JSON), an HTML table (on the
trainer's activity page, which refreshes itself) and CSV.

A cell is "passed", or how many times the attendee checked it without passing ("" when
never). Attendees are the users who signed in or did anything. Everything is escaped in
HTML, and a CSV cell that a spreadsheet would read as a formula (starting with = + - @, tab
or CR) is neutralised with a leading apostrophe (OWASP's advice for CSV injection):
attendees choose their usernames on JupyterHub.
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from ucwa_nb.protocol.exercises import EXERCISES
from ucwa_nb.sim.rules.exercises import passed
from ucwa_nb.sim.rules.world import World

__all__ = ["grid_csv", "grid_html", "grid_rows"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def grid_rows(world: World) -> list[dict[str, Any]]:
    """One row per attendee: ``user`` and, per exercise id, ``{"passed", "tries"}``."""
    rows = []
    for user in sorted(world.users.values(), key=lambda u: u.spec.uri):
        record = world.progress.users.get(user.key)
        if record is None and not user.apps and not user.tokens:
            continue  # never signed in: not an attendee of this class
        record = world.progress.of(user)
        rows.append({"user": user.spec.uri, "exercises": {
            spec.id: {"passed": passed(spec, record), "tries": record.tries.get(spec.id, 0)}
            for spec in EXERCISES}})
    return rows


def _cell(result: dict[str, Any]) -> str:
    if result["passed"]:
        return "passed"
    tries = int(result["tries"])
    return f"{tries} tr{'y' if tries == 1 else 'ies'}" if tries else ""


def grid_html(rows: list[dict[str, Any]]) -> str:
    """The grid as an HTML section (green: passed; amber: tried, not passed yet)."""
    head = "".join(f'<th title="{html.escape(spec.title)}">{html.escape(spec.id)}</th>'
                   for spec in EXERCISES)
    parts = ['<h2>Exercises</h2><p>Checked by the server from what it saw each attendee do '
             '(<a href="grid">JSON</a>, <a href="grid.csv">CSV</a>).</p>',
             f'<table class="grid"><thead><tr><th>attendee</th>{head}</tr></thead><tbody>']
    if not rows:
        parts.append(f'<tr><td colspan="{len(EXERCISES) + 1}">Nobody has signed in yet.'
                     "</td></tr>")
    for row in rows:
        cells = []
        for spec in EXERCISES:
            result = row["exercises"][spec.id]
            kind = "passed" if result["passed"] else "tried" if result["tries"] else "none"
            cells.append(f'<td class="{kind}">{html.escape(_cell(result))}</td>')
        parts.append(f"<tr><th>{html.escape(row['user'])}</th>{''.join(cells)}</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def grid_csv(rows: list[dict[str, Any]]) -> str:
    """The grid as CSV: a header of exercise ids, one line per attendee."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["attendee", *(spec.id for spec in EXERCISES)])
    for row in rows:
        writer.writerow([_safe(row["user"]),
                         *(_cell(row["exercises"][spec.id]) for spec in EXERCISES)])
    return out.getvalue()
