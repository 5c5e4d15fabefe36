"""What the doctor says: a ``Finding`` per problem, made by a ``Rule``.

A rule has an id (``family.name``), a title, the reference page that explains its case and
the simulator's **reproduction** of its signature (a scenario or fault that makes it fire:
the tests prove each one). A finding is one occurrence: the rows that show it (``seqs``, the
log's ``seq``), the cause in one sentence, what to do, and the page's address on
learn.microsoft.com. Every text a finding holds is scrubbed of secrets when it is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal

from ucwa_nb.doctor.core.redact import scrub

if TYPE_CHECKING:
    from ucwa_nb.doctor.core.record import Record

__all__ = ["FAMILIES", "Finding", "Rule", "Severity", "page_url"]

Severity = Literal["error", "warning", "outcome"]
# The order findings are listed in, for a reader following a session from its start.
FAMILIES: tuple[str, ...] = ("signin", "application", "channel", "operation", "outcome")
_BASE = "https://learn.microsoft.com/en-us/skype-sdk/ucwa/"


def page_url(page: str) -> str:
    """The address of a UCWA reference page: ``addPhoneAudio_ref`` becomes
    ``https://learn.microsoft.com/en-us/skype-sdk/ucwa/addphoneaudio_ref``."""
    return _BASE + page.removesuffix(".md").lower()


@dataclass(frozen=True)
class Finding:
    """One problem seen in a log: which rule, the rows (by ``seq``), why, what to do."""

    rule: str
    title: str
    seqs: tuple[int, ...]
    evidence: str
    cause: str
    fix: str
    link: str
    severity: Severity = "error"
    operation_id: str | None = None

    def __post_init__(self) -> None:
        # A HAR from a browser may quote a token in a message or a URL: nothing secret
        # ever leaves the doctor, whichever rule wrote the text.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, scrub(value))

    def as_dict(self) -> dict[str, object]:
        """The finding as plain data (a row of ``Diagnosis.df``, JSON for the CLI)."""
        return {"rule": self.rule, "severity": self.severity, "title": self.title,
                "seqs": list(self.seqs), "operation_id": self.operation_id,
                "evidence": self.evidence, "cause": self.cause, "fix": self.fix,
                "link": self.link}


Check = Callable[["Record", "Rule"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A signature the doctor looks for; ``check`` yields a finding per occurrence."""

    id: str
    title: str
    page: str
    reproduction: str
    check: Check = field(repr=False, compare=False)
    severity: Severity = "error"

    @property
    def family(self) -> str:
        """The family of the rule: the part of its id before the dot."""
        return self.id.split(".", 1)[0]

    @property
    def link(self) -> str:
        """The reference page's address."""
        return page_url(self.page)

    def finding(self, seqs: Iterable[int], evidence: str, cause: str, fix: str,
                operation_id: str | None = None) -> Finding:
        """A finding of this rule."""
        return Finding(self.id, self.title, tuple(sorted(set(seqs))), evidence, cause, fix,
                       self.link, self.severity, operation_id)
