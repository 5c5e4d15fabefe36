"""The judge of the exercises (``protocol/exercises.py``): from the server's own record of a
user (``progress.py``), passed or not, and hints that get more specific on each try.

Each exercise's rule reads the steps and returns what is still missing as a ladder of hints,
most general first: the first try gets the first rung, the next try the next one, the last
rung (close to the answer) stays. Hints name what the server saw, so an attendee whose call
went wrong learns where. The ladder is the server's, and so is the count of tries
(``Progress.count_try``): it survives a kernel restart, and the trainer's grid shows who is
trying hardest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ucwa_nb.protocol.exercises import ExerciseSpec
from ucwa_nb.sim.rules.progress import Step, UserProgress

__all__ = ["JUDGES", "Verdict", "check", "judge", "passed"]

# The rule of an exercise: the steps and the answer given (if any) -> the hints of what is
# missing (most general first), or an empty list when the exercise is done.
Rule = Callable[[Sequence[Step], str | None], list[str]]

JOHN = "sip:john@contoso.com"


@dataclass(frozen=True)
class Verdict:
    """The answer to one check: ``passed``, the ``tries`` so far and, if not passed, the
    ``hint`` for this try."""

    exercise: ExerciseSpec
    passed: bool
    tries: int
    hint: str | None

    def as_json(self) -> dict[str, object]:
        """The verdict as the progress resource's POST answers it."""
        return {"exercise": self.exercise.id, "title": self.exercise.title,
                "passed": self.passed, "tries": self.tries, "hint": self.hint}


def _calls(steps: Sequence[Step]) -> dict[str, tuple[Step, Step | None]]:
    """Each call the server accepted (a 201), by invitation id, with its outcome if any."""
    accepted = {s.invitation: s for s in steps
                if s.kind == "operation" and s.status == 201 and s.invitation}
    outcomes = {s.invitation: s for s in steps if s.kind == "outcome" and s.invitation}
    return {inv: (op, outcomes.get(inv)) for inv, op in accepted.items() if inv is not None}


def _json_and_xml(steps: Sequence[Step], _: str | None) -> list[str]:
    connected = {op.format for op, done in _calls(steps).values()
                 if done is not None and done.outcome == "Success" and done.to == JOHN}
    missing = [fmt for fmt in ("json", "xml") if fmt not in connected]
    if not missing:
        return []
    if len(missing) == 2:
        first = "The server has seen no call of yours to John that connected."
    else:
        done_in = "JSON" if missing == ["xml"] else "XML"
        first = (f"The server saw your call to John in {done_in}; now the same call in "
                 f"{missing[0].upper()}.")
    return [first,
            f"Send addPhoneAudio to {JOHN} with format={missing[0]!r} and wait until it "
            "connects; if John's conversation is busy, hang up the call on it first.",
            f"For example: c = session.add_phone_audio(session.conversations()[0], "
            f"to={JOHN!r}, format={missing[0]!r}).wait(10)"]


def _in_order(steps: Sequence[Step], rels: Sequence[str]) -> int:
    """How many of ``rels`` the server accepted (204) one after the other, in that order."""
    done = 0
    for step in steps:
        if done < len(rels) and step.kind == "operation" and step.rel == rels[done] \
                and step.status == 204:
            done += 1
    return done


def _hold_resume_hang_up(steps: Sequence[Step], _: str | None) -> list[str]:
    rels = ("holdPhoneAudio", "resumePhoneAudio", "stopPhoneAudio")
    done = _in_order(steps, rels)
    if done == len(rels):
        return []
    saw = ("The server has not seen a call of yours put on hold." if done == 0 else
           f"The server saw {', then '.join(rels[:done])}; next it expects {rels[done]}.")
    return [saw,
            "On a connected call: call.hold(), then call.resume(), then call.stop(); each "
            "is a POST on the link the call's phoneAudio offers at that moment.",
            "For example: c = session.add_phone_audio(session.conversations()[0], "
            f"to={JOHN!r}).wait(10); c.hold(); c.resume(); c.stop()"]


def _outcome(steps: Sequence[Step], code: str, subcode: str | None) -> bool:
    return any(s.kind == "outcome" and s.code == code and s.subcode == subcode
               for s in steps)


def _cancel_while_ringing(steps: Sequence[Step], _: str | None) -> list[str]:
    if _outcome(steps, "LocalFailure", "Canceled"):
        return []
    return ["The server has not seen a call of yours cancelled (LocalFailure/Canceled).",
            "Start a call, wait until it rings (call.wait_for('Alerting')) and cancel it "
            "before the callee answers: call.cancel().",
            "For example: c = session.add_phone_audio(session.conversations()[2], "
            "to='sip:nora@contoso.com'); c.wait_for('Alerting', timeout=10); c.cancel()"]


def _is_number(to: str | None) -> bool:
    text = (to or "").lower().replace(" ", "")
    return text.startswith("tel:") or ";user=phone" in text


def _call_a_number(steps: Sequence[Step], _: str | None) -> list[str]:
    outcomes = {s.invitation for s in steps if s.kind == "outcome"}
    started = [s for s in steps if s.kind == "operation" and s.rel == "startPhoneAudio"
               and _is_number(s.to)]
    if any(s.invitation in outcomes for s in started if s.status == 201):
        return []
    if any(s.status == 201 for s in started):
        first = "The server accepted your call to a number; wait for its completed event."
    elif started:
        last = started[-1]
        first = (f"The server refused your startPhoneAudio to a number: {last.status} "
                 f"{last.code}/{last.subcode}.")
    else:
        first = "The server has seen no startPhoneAudio of yours to a phone number."
    return [first,
            "startPhoneAudio takes to= a phone number as a URI: tel:+14255550100, or "
            "sip:+14255550100@contoso.com;user=phone; wait for the call to complete.",
            "For example: session.start_phone_audio(to='tel:+14255550100').wait(10)"]


def _continue_from_log(steps: Sequence[Step], _: str | None) -> list[str]:
    if any(s.kind == "outcome" and s.rel == "continuePhoneAudio" and s.outcome == "Success"
           for s in steps):
        return []
    tried = [s for s in steps if s.kind == "outcome" and s.rel == "continuePhoneAudio"]
    first = ("The server has seen no continuePhoneAudio of yours that connected." if not tried
             else f"Your continued call to {tried[-1].to} failed "
                  f"({tried[-1].code}/{tried[-1].subcode}); pick a log whose recipient "
                  "answers.")
    return [first,
            "session.conversation_logs() lists your logs; continue one whose recipient "
            "answers (John) and wait until the call connects.",
            "For example: log = next(l for l in session.conversation_logs() "
            "if 'john' in str(l.recipients)); session.continue_phone_audio(log).wait(10)"]


def _normalization_failed(steps: Sequence[Step], _: str | None) -> list[str]:
    if any(s.kind == "operation" and s.status == 400 and s.subcode == "NormalizationFailed"
           for s in steps):
        return []
    return ["The server has not refused a call of yours with NormalizationFailed.",
            "Send a phoneNumber that no dial plan can normalise (a short extension such as "
            "4411) with validate=False: the local check stops it otherwise.",
            "For example: session.add_phone_audio(session.conversations()[1], "
            "to='sip:maria@contoso.com', phone_number='4411', validate=False) inside "
            "try: ... except ucwa_nb.UcwaError as error: print(error.subcode)"]


_FAILURES = {"busy": ("RemoteFailure", "Busy", "sip:maria@contoso.com"),
             "declined": ("RemoteFailure", "Declined", "sip:pierre@contoso.com"),
             "unanswered": ("Timeout", None, "sip:nora@contoso.com")}


def _busy_declined_no_answer(steps: Sequence[Step], _: str | None) -> list[str]:
    missing = [name for name, (code, subcode, _who) in _FAILURES.items()
               if not _outcome(steps, code, subcode)]
    if not missing:
        return []
    seen = [name for name in _FAILURES if name not in missing]
    first = ("The server has completed none of these failures for you yet." if not seen
             else f"The server saw: {', '.join(seen)}; still missing: {', '.join(missing)}.")
    who = ", ".join(f"{name}: {_FAILURES[name][2]}" for name in missing)
    return [first,
            "Each callee of the scenario does one thing when rung: call the ones that fail "
            "and wait for each call's completed event (its reason's code and subcode).",
            f"Call them (their conversations are in session.conversations()): {who}."]


def _follow_resync(steps: Sequence[Step], _: str | None) -> list[str]:
    if any(s.kind == "resync_followed" for s in steps):
        return []
    asked = any(s.kind == "resync" for s in steps)
    return [("The server sent you a resync, but saw no poll follow it." if asked else
             "The server has not answered a poll of yours with a resync yet."),
            "GET the events link with an ack the server does not have (ack=99): the answer "
            "holds only a resync link; then GET that link (with a short timeout).",
            "The resync link's href ends in ?ack=N: GET it on the same application, before "
            "any other poll of that application."]


def _find_failure_cause(steps: Sequence[Step], answer: str | None) -> list[str]:
    failures = [s for s in steps if s.kind == "outcome" and s.outcome == "Failure"]
    if not failures:
        return ["The server has seen no failed call of yours yet: make one (Maria is busy).",
                "Call sip:maria@contoso.com and wait for the call to complete; then read "
                "its failure in your log.",
                "Then look at the completed event's row: session.log.df.query(\"event_type "
                "== 'completed'\")[['code', 'subcode']], or ucwa_nb.explain(session.log)."]
    latest = failures[-1]
    expected = latest.subcode or latest.code or ""
    given = (answer or "").strip()
    if given and given.lower() == expected.lower():
        return []
    first = ("Give your answer: check(session, answer='...')." if not given else
             f"{given!r} is not what the server sent for your latest failed call.")
    return [first,
            "Your latest failed call is the last completed event with status Failure in "
            "session.log.df; the answer is its subcode (or its code when it has none).",
            "session.log.df.query(\"event_type == 'completed' and event_status == "
            "'Failure'\").iloc[-1][['code', 'subcode']], or ucwa_nb.explain(session.log)."]


JUDGES: dict[str, Rule] = {
    "json_and_xml": _json_and_xml,
    "hold_resume_hang_up": _hold_resume_hang_up,
    "cancel_while_ringing": _cancel_while_ringing,
    "call_a_number": _call_a_number,
    "continue_from_log": _continue_from_log,
    "normalization_failed": _normalization_failed,
    "busy_declined_no_answer": _busy_declined_no_answer,
    "follow_resync": _follow_resync,
    "find_failure_cause": _find_failure_cause,
}


def judge(exercise: ExerciseSpec, record: UserProgress, answer: str | None = None
          ) -> list[str]:
    """The hints of what is missing (none: passed); a pass is latched in ``record``."""
    if exercise.id in record.passed:
        return []
    hints = JUDGES[exercise.id](list(record.steps), answer)
    if not hints:
        record.passed.add(exercise.id)
    return hints


def passed(exercise: ExerciseSpec, record: UserProgress) -> bool:
    """Whether the record shows ``exercise`` done (what the trainer's grid shows). An
    exercise that takes an answer is passed only by a check that gave the right one."""
    if exercise.takes_answer:
        return exercise.id in record.passed
    return not judge(exercise, record)


def check(exercise: ExerciseSpec, record: UserProgress, tries: int,
          answer: str | None = None) -> Verdict:
    """The verdict of a check, the ``tries``-th of this exercise by this user."""
    hints = judge(exercise, record, answer)
    if not hints:
        return Verdict(exercise, True, tries, None)
    # What the server saw now, then the rung of this try (the same rung for try 1).
    rung = hints[min(tries, len(hints)) - 1]
    return Verdict(exercise, False, tries, hints[0] if rung == hints[0] else
                   f"{hints[0]} {rung}")
