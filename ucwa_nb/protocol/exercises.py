"""The exercises of the notebooks, as both halves know them: their ids, titles and notebooks,
and where the simulator serves each attendee's progress.

The simulator judges an exercise from its own record of what the attendee did
(``sim/rules/exercises.py``) and shows the trainer a grid of them; the client's
``ucwa_nb.exercises`` asks it to check one. Both read this one table, so the grid's columns
and the learner's ``exercises.<id>`` are the same exercises. Not UCWA: the simulator's own
extension, served beside its UCWA routes (``PROGRESS_PATH``, under any root path prefix).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXERCISES", "MAX_ANSWER", "PROGRESS_PATH", "ExerciseSpec", "exercise_named"]

# The signed-in attendee's own record (GET) and the check of one exercise (POST
# PROGRESS_PATH/<id>), both behind the attendee's bearer token. Under the same prefix as the
# simulator's UCWA paths: the part of the applications URL before "/ucwa/".
PROGRESS_PATH = "/_simulator/progress"
# An answer (an exercise that asks for one) is a code or subcode: a few dozen characters.
MAX_ANSWER = 100


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise: ``id`` (a Python name: ``exercises.<id>``), ``title``, the notebook
    that asks it, ``task`` (what to do, one or two sentences) and whether it takes an
    ``answer``."""

    id: str
    title: str
    notebook: str
    task: str
    takes_answer: bool = False


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec("json_and_xml", "Call John in JSON, then in XML", "01-quickstart.ipynb",
                 "Call sip:john@contoso.com with addPhoneAudio once in JSON and once in XML, "
                 "each until it connects."),
    ExerciseSpec("hold_resume_hang_up", "Hold, resume, hang up", "01-quickstart.ipynb",
                 "Connect a call, put it on hold, take it off hold, then hang up."),
    ExerciseSpec("cancel_while_ringing", "Cancel a call while it rings",
                 "02-add-phone-audio.ipynb",
                 "Start a call and cancel it before it is answered."),
    ExerciseSpec("call_a_number", "Start a call to a phone number", "02-add-phone-audio.ipynb",
                 "startPhoneAudio to a phone number (tel:... or sip:...;user=phone) and wait "
                 "for its completed event, whatever its outcome."),
    ExerciseSpec("continue_from_log", "Continue a conversation from its log",
                 "03-continue-phone-audio.ipynb",
                 "continuePhoneAudio on a conversation log whose recipient answers."),
    ExerciseSpec("normalization_failed", "Make a call fail with NormalizationFailed",
                 "04-errors.ipynb",
                 "Send a call whose phoneNumber the server cannot normalise, and read the "
                 "error's subcode."),
    ExerciseSpec("busy_declined_no_answer", "Busy, declined, no answer", "04-errors.ipynb",
                 "Place three calls that fail: one busy, one declined, one never answered."),
    ExerciseSpec("follow_resync", "Follow a resync", "05-event-channel.ipynb",
                 "Poll the event channel with an ack out of range, then follow the resync "
                 "link the answer holds."),
    ExerciseSpec("find_failure_cause", "Find a failure's cause in the log",
                 "06-log-analysis.ipynb",
                 "Give the subcode (or, without one, the code) of your latest failed call "
                 "as answer=..., read from your log.", takes_answer=True),
)

_BY_ID = {spec.id: spec for spec in EXERCISES}


def exercise_named(exercise_id: str) -> ExerciseSpec | None:
    """The exercise of that id, or None."""
    return _BY_ID.get(exercise_id)
