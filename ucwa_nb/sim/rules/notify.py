"""The events each change sends, on the event channel of every application that sees it, each
with its own hrefs (ucwa-protocol.md section 2; the senders and priorities of the reference
pages' "Events" sections).
"""

from __future__ import annotations

from ucwa_nb.protocol.representation import Event, Link
from ucwa_nb.sim import paths, render
from ucwa_nb.sim.channel import Priority
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState, ConversationState, InvitationState, UserState

__all__ = [
    "communication_changed",
    "conversation_changed",
    "invitation_changed",
    "phone_audio_changed",
]


def conversation_changed(world: World, user: UserState, conv: ConversationState,
                         added: bool = False) -> None:
    """conversation added/updated (sender communication) and phoneAudio updated (sender
    conversation), to every application of the user."""
    for app in list(user.apps.values()):
        conv_res = render.conversation(app, conv)
        assert conv_res.href is not None
        world.emit(app, "communication", paths.path("communication", app=app.id), Event(
            "added" if added else "updated", Link("conversation", conv_res.href),
            embedded={"conversation": [conv_res]}))
        _phone_audio_updated(world, app, conv)


def phone_audio_changed(world: World, user: UserState, conv: ConversationState) -> None:
    """phoneAudio updated (sender conversation) alone, to every application of the user."""
    for app in list(user.apps.values()):
        _phone_audio_updated(world, app, conv)


def _phone_audio_updated(world: World, app: ApplicationState, conv: ConversationState) -> None:
    pa = render.phone_audio(app, conv)
    assert pa.href is not None
    world.emit(app, "conversation", paths.path("conversation", app=app.id, conv=conv.id),
               Event("updated", Link("phoneAudio", pa.href), embedded={"phoneAudio": [pa]}))


def invitation_changed(world: World, inv: InvitationState, event_type: str) -> None:
    """phoneAudioInvitation started/updated/completed (sender communication), to the
    application that started it; completed carries the outcome."""
    res = render.invitation(inv, world.scenario)
    assert res.href is not None
    completed = event_type == "completed"
    world.emit(inv.app, "communication", paths.path("communication", app=inv.app.id), Event(
        event_type, Link("phoneAudioInvitation", res.href),
        status=inv.status if completed else None,
        reason=inv.reason if completed else None,
        embedded={"phoneAudioInvitation": [res]}))


def communication_changed(world: World, app: ApplicationState) -> None:
    """communication updated, medium priority (communication_ref: e.g. after
    makeMeAvailable)."""
    comm = render.communication(app)
    assert comm.href is not None
    world.emit(app, "communication", comm.href,
               Event("updated", Link("communication", comm.href),
                     embedded={"communication": [comm]}), Priority.MEDIUM)
