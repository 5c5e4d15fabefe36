"""The notebooks' exercises, checked by the server: each "Your turn" cell does something and
ends with ``exercises.<id>.check(session)``.

    from ucwa_nb import exercises
    exercises.json_and_xml.check(session)     # ✓ passed, or ✗ not yet, with a hint

The simulator judges from its own record of what it saw you do (not from your log, which is
yours to edit), counts your tries (each hint is more specific than the last), and shows your
trainer a grid of who did what (``/_simulator/activity``). Against a real server a check
says that only the simulator can check. ``progress(session)`` is the simulator's record of
you. The table of exercises is ``ucwa_nb.protocol.exercises``, shared with the simulator.
"""

from __future__ import annotations

from ucwa_nb.exercises.checking import Exercise, Verdict, progress
from ucwa_nb.protocol.exercises import EXERCISES

__all__ = [
    "ALL",
    "Exercise",
    "Verdict",
    "busy_declined_no_answer",
    "call_a_number",
    "cancel_while_ringing",
    "continue_from_log",
    "find_failure_cause",
    "follow_resync",
    "hold_resume_hang_up",
    "json_and_xml",
    "normalization_failed",
    "progress",
]

ALL: tuple[Exercise, ...] = tuple(Exercise(spec) for spec in EXERCISES)
_BY_ID = {exercise.id: exercise for exercise in ALL}

# One name per exercise, in the notebooks' order (01 ... 06).
json_and_xml = _BY_ID["json_and_xml"]
hold_resume_hang_up = _BY_ID["hold_resume_hang_up"]
cancel_while_ringing = _BY_ID["cancel_while_ringing"]
call_a_number = _BY_ID["call_a_number"]
continue_from_log = _BY_ID["continue_from_log"]
normalization_failed = _BY_ID["normalization_failed"]
busy_declined_no_answer = _BY_ID["busy_declined_no_answer"]
follow_resync = _BY_ID["follow_resync"]
find_failure_cause = _BY_ID["find_failure_cause"]
