"""An exercise and its check: ask the simulator the session is signed in to, which judges
from its own record of what it saw this attendee do (``sim/rules/exercises.py``), and show
its verdict: passed, or a hint that gets more specific on each try.

The check is one POST to the simulator's progress resource (``protocol/exercises.py``),
beside its UCWA paths, with the session's own client: the session's token (so the server
knows who asks, and tells each attendee only about themselves) and its log (the check is
an exchange like any other, with rel ``progress``). A real Skype for Business server has no
such resource: whatever it answers, the verdict says that only the simulator can check.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import httpx

from ucwa_nb.client.hooks import tag
from ucwa_nb.client.session import Session
from ucwa_nb.protocol.exercises import MAX_ANSWER, PROGRESS_PATH, ExerciseSpec

__all__ = ["Exercise", "Verdict", "progress"]

_UCWA = "/ucwa/"  # where the UCWA paths begin in the applications URL


@dataclass(frozen=True)
class Verdict:
    """A check's answer: ``passed``; ``tries`` (how many checks of this exercise the server
    counted for you); ``hint`` when not passed; ``checked`` False when the server is not
    the simulator (or could not say), with ``hint`` saying why."""

    exercise: str
    title: str
    passed: bool
    tries: int
    hint: str | None
    checked: bool = True

    def __str__(self) -> str:
        if self.passed:
            return f"✓ {self.title}: passed (checked by the server, try {self.tries})."
        if not self.checked:
            return f"? {self.title}: not checked. {self.hint}"
        return f"✗ {self.title}: not yet (try {self.tries}). Hint: {self.hint}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = ("var(--jp-success-color1, #2e7d32)" if self.passed else
                  "var(--jp-warn-color1, #b26a00)")
        return (f'<div role="status" style="border-left:4px solid {colour};'
                f'padding:.3em .6em">{html.escape(str(self))}</div>')


@dataclass(frozen=True)
class Exercise:
    """One exercise of the notebooks (``ucwa_nb.exercises.<id>``): ``check(session)`` asks
    the simulator whether you did it."""

    spec: ExerciseSpec

    @property
    def id(self) -> str:
        """The exercise's name (``ucwa_nb.exercises.<id>``, the trainer's grid column)."""
        return self.spec.id

    @property
    def title(self) -> str:
        """A few words."""
        return self.spec.title

    @property
    def task(self) -> str:
        """What to do."""
        return self.spec.task

    def check(self, session: Session, answer: str | None = None) -> Verdict:
        """Ask the simulator ``session`` is signed in to whether you did this exercise
        (``answer``: for an exercise that asks for one). Each check is a try: the hint gets
        more specific with each."""
        if answer is not None and len(answer) > MAX_ANSWER:
            raise ValueError(f"an answer is at most {MAX_ANSWER} characters")
        base = _simulator_base(session)
        if base is None:
            return self._unchecked("The session has no application: sign in first.")
        body = {} if answer is None else {"answer": answer}
        response = session.http_client.post(
            f"{base}{PROGRESS_PATH}/{self.id}", json=body,
            headers={"Accept": "application/json"}, extensions=tag("progress"))
        data = _simulator_json(response)
        if data is None:
            return self._unchecked(_not_checked(session, response))
        return Verdict(self.id, self.title, bool(data.get("passed")),
                       int(data.get("tries") or 0), _text(data.get("hint")))

    def _unchecked(self, why: str) -> Verdict:
        return Verdict(self.id, self.title, False, 0, why, checked=False)

    def __repr__(self) -> str:
        return f"<Exercise {self.id}: {self.title} ({self.spec.notebook})>"


def progress(session: Session) -> dict[str, Any]:
    """The simulator's record of you: the ``steps`` it saw (operations with their answers,
    calls' outcomes, resyncs) and each exercise passed or not. Raises ``LookupError`` when
    the server is not the simulator."""
    base = _simulator_base(session)
    if base is None:
        raise LookupError("the session has no application: sign in first")
    response = session.http_client.get(f"{base}{PROGRESS_PATH}",
                                       headers={"Accept": "application/json"},
                                       extensions=tag("progress"))
    data = _simulator_json(response)
    if data is None:
        raise LookupError(_not_checked(session, response))
    return data


def _simulator_base(session: Session) -> str | None:
    """The simulator's root (its prefix included): the applications URL before "/ucwa/"."""
    applications = session.applications_url
    if not applications or _UCWA not in applications:
        return None
    return applications[:applications.index(_UCWA)]


def _simulator_json(response: httpx.Response) -> dict[str, Any] | None:
    if response.status_code != 200:
        return None
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("simulator") != "ucwa-nb":
        return None
    return data


def _not_checked(session: Session, response: httpx.Response) -> str:
    if response.status_code == 401:
        return "The server did not accept the session's token any more: sign in again."
    embedded = " (nor does this one answer as the ucwa-nb simulator)" \
        if session.simulator is None else ""
    return ("Exercises can only be checked against the ucwa-nb simulator, which keeps a "
            "record of what each attendee did; a real Skype for Business server keeps none"
            f"{embedded}. Connect with ucwa_nb.connect() (the embedded simulator, or your "
            f"class's) to check it. (The server answered {response.status_code}.)")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
