"""The table of the operations the simulator serves: for each, its definition and when it is
offered (``rules/offers.py``, from the protocol's ``OperationSpec``), how its target is found
from its path, what is checked before its input is judged, and its rule.

The routes of all of them are made from this table by one handler (``routes/operations.py``),
which judges an operation's input from its fields: an operation with input (say sendDtmf on
phoneAudio) needs here only its row and, in ``rules/``, its rule. ``create_app`` serves this
table unless it is given another (tests serve one with an operation of their own).
"""

from __future__ import annotations

from typing import Any

from ucwa_nb.sim.routes.operations import (
    SimOperation,
    on_communication,
    on_conversation,
    on_conversation_log,
    on_invitation,
)
from ucwa_nb.sim.rules import calls, phone_audio
from ucwa_nb.sim.rules.offers import OFFERS

__all__ = ["OPERATIONS"]

OPERATIONS: tuple[SimOperation[Any], ...] = (
    # add/continue/startPhoneAudio_ref: scopes, then the call's admission; 201 + Location.
    SimOperation(OFFERS["addPhoneAudio"], on_conversation, phone_audio.add_phone_audio,
                 admit=phone_audio.admit_call),
    SimOperation(OFFERS["continuePhoneAudio"], on_conversation_log,
                 phone_audio.continue_phone_audio, admit=phone_audio.admit_call),
    SimOperation(OFFERS["startPhoneAudio"], on_communication, phone_audio.start_phone_audio,
                 admit=phone_audio.admit_call),
    # On a call under way: 204. Injected faults answer hold, resume and markAsRead; stop
    # and cancel check none (as before the table).
    SimOperation(OFFERS["stopPhoneAudio"], on_conversation, phone_audio.stop_phone_audio),
    SimOperation(OFFERS["holdPhoneAudio"], on_conversation, phone_audio.hold_phone_audio,
                 admit=phone_audio.admit_faults),
    SimOperation(OFFERS["resumePhoneAudio"], on_conversation, phone_audio.resume_phone_audio,
                 admit=phone_audio.admit_faults),
    SimOperation(OFFERS["cancel"], on_invitation,
                 lambda world, target, _: calls.cancel(world, target.resource)),
    # conversationLog_ref: markAsRead, 204; [infer] no read state is shown anywhere.
    SimOperation(OFFERS["markAsRead"], on_conversation_log, lambda *_: None,
                 admit=phone_audio.admit_faults),
)
