"""Run the rules over a record: a ``Diagnosis``, the table of findings, as text or HTML.

A diagnosis is silent on a clean run (no findings, a one-line "nothing to explain"). It
also says when there was nothing to diagnose (no UCWA traffic at all), so that an empty
table never passes for a clean bill of health. Every text in the HTML is escaped: findings
quote what servers and users wrote.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ucwa_nb.doctor.core.finding import FAMILIES, Finding, Rule
from ucwa_nb.doctor.core.record import Record
from ucwa_nb.doctor.core.rules import RULES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Diagnosis", "diagnose", "findings_html"]

_logger = logging.getLogger(__name__)
_COLUMNS = ("rule", "severity", "title", "seqs", "operation_id", "evidence", "cause", "fix",
            "link")


@dataclass(frozen=True)
class Diagnosis:
    """The findings of one record, in the order of a session (sign-in first), and how
    many rows were read; ``note`` says why there was nothing to read, when so."""

    findings: tuple[Finding, ...]
    rows: int
    note: str | None = None

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def __bool__(self) -> bool:
        return bool(self.findings)

    def __getitem__(self, index: int) -> Finding:
        return self.findings[index]

    @property
    def rules(self) -> list[str]:
        """The ids of the rules that fired, each once, in order."""
        return list(dict.fromkeys(f.rule for f in self.findings))

    def about(self, seq: int) -> list[Finding]:
        """The findings whose evidence includes the row ``seq``."""
        return [f for f in self.findings if seq in f.seqs]

    @property
    def df(self) -> pd.DataFrame:
        """The findings as a DataFrame, one row each (columns: rule ... link)."""
        import pandas as pd  # only here: the simulator's view uses the rest without pandas

        return pd.DataFrame([f.as_dict() for f in self.findings], columns=list(_COLUMNS))

    def summary(self) -> str:
        """One line: how many findings of how many rows, or why there were none."""
        if self.note:
            return self.note
        if not self.findings:
            return f"Nothing to explain: {self.rows} rows read, no known failure signature."
        count = len(self.findings)
        return f"{count} finding{'s' if count != 1 else ''} in {self.rows} rows"

    def __str__(self) -> str:
        lines = [self.summary()]
        for f in self.findings:
            rows = ", ".join(f"#{s}" for s in f.seqs)
            lines += ["", f"[{f.severity}] {f.rule}: {f.title} (rows {rows})",
                      f"  evidence: {f.evidence}", f"  cause:    {f.cause}",
                      f"  do:       {f.fix}", f"  see:      {f.link}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Diagnosis: {self.summary()}>"

    def _repr_html_(self) -> str:
        return findings_html(self)


def _order(finding: Finding) -> tuple[int, int]:
    family = finding.rule.split(".", 1)[0]
    rank = FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)
    return (finding.seqs[-1] if finding.seqs else -1, rank)


def diagnose(record: Record, rules: Sequence[Rule] = RULES) -> Diagnosis:
    """Run ``rules`` over ``record``; the findings come in the order of their last row."""
    if not len(record):
        return Diagnosis((), 0, "Nothing to explain: the log is empty.")
    if not record.looks_like_ucwa:
        return Diagnosis((), len(record), "Nothing to explain: no UCWA traffic in these "
                         f"{len(record)} rows (no UCWA path, media type, challenge or event).")
    found: list[Finding] = []
    for rule in rules:
        try:
            found.extend(rule.check(record, rule))
        except Exception:  # one rule's bug must not hide what the others found
            _logger.exception("doctor rule %s failed", rule.id)
    return Diagnosis(tuple(sorted(found, key=_order)), len(record))


_SEVERITY_COLOURS = {"error": "#c62828", "warning": "#ef6c00", "outcome": "#1565c0"}


def findings_html(findings: Iterable[Finding] | Diagnosis, *, caption: str | None = None
                  ) -> str:
    """The findings as an HTML table, every text escaped."""
    items = list(findings)
    head = caption if caption is not None else (
        findings.summary() if isinstance(findings, Diagnosis) else f"{len(items)} findings")
    parts = [f"<div class='ucwa-nb-doctor'><p><b>{html.escape(head)}</b></p>"]
    if items:
        parts.append("<table style='border-collapse:collapse;font-size:13px'><tr>"
                     + "".join(f"<th style='text-align:left;padding:2px 6px'>{h}</th>"
                               for h in ("rule", "rows", "evidence", "cause", "what to do",
                                         "reference")) + "</tr>")
        for f in items:
            colour = _SEVERITY_COLOURS.get(f.severity, "#555")
            cells = (
                f"<span style='color:{colour}'>{html.escape(f.severity)}</span> "
                f"<code>{html.escape(f.rule)}</code><br>{html.escape(f.title)}",
                html.escape(", ".join(f"#{s}" for s in f.seqs)),
                html.escape(f.evidence), html.escape(f.cause), html.escape(f.fix),
                f"<a href='{html.escape(f.link, quote=True)}' target='_blank' "
                f"rel='noopener'>{html.escape(f.link.rsplit('/', 1)[-1])}</a>")
            parts.append("<tr>" + "".join(
                f"<td style='vertical-align:top;padding:2px 6px;border-top:1px solid #ccc'>"
                f"{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)

