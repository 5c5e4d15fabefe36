"""The events each change sends, on the event channel of the application that sees it, with
its hrefs (ucwa-protocol.md section 2; the senders and priorities of the reference
pages' "Events" sections).
"""

from __future__ import annotations

from ucwa_nb.protocol.representation import Event, Link
from ucwa_nb.sim import paths, render
from ucwa_nb.sim.channel import Priority
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.state import ApplicationState, ConversationState, InvitationState

__all__ = [
    "communication_changed",
    "conversation_changed",
    "conversation_ended",
    "invitation_changed",
    "me_changed",
    "phone_audio_changed",
]


def conversation_changed(world: World, app: ApplicationState, conv: ConversationState,
                         added: bool = False, *, local_joined: bool = False,
                         joined: str | None = None) -> None:
    """conversation added/updated (sender communication), then, sender conversation, the
    user's localParticipant added (``local_joined``), a remote participant added
    (``joined``) and phoneAudio updated, to the application the conversation belongs to.

    The order is the real trace's (SendAnIM): conversation added, localParticipant added,
    the modality updated; on answer conversation updated, participant added, the modality
    updated; the invitation's completed comes after them (calls.py)."""
    conv_res = render.conversation(app, conv)
    assert conv_res.href is not None
    world.emit(app, "communication", paths.path("communication", app=app.id), Event(
        "added" if added else "updated", Link("conversation", conv_res.href),
        embedded={"conversation": [conv_res]}))
    if local_joined:
        # localParticipant_ref: added, High, sender conversation, "raised when the user is
        # first added". The link's rel is localParticipant, the embedded copy's rel
        # participant (SendAnIM's trace); the title is the display name (participant_ref).
        local = render.local_participant(app, conv)
        assert local.href is not None
        _from_conversation(world, app, conv, Event(
            "added", Link("localParticipant", local.href, app.user.spec.name),
            embedded={"localParticipant": [local]}))
    if joined is not None:
        # participant_ref: added, High, sender conversation, "when the participant is
        # first added to the conversation".
        remote = render.participant(app, conv, joined, world.scenario)
        assert remote.href is not None
        _from_conversation(world, app, conv, Event(
            "added", Link("participant", remote.href, remote.get("name")),
            embedded={"participant": [remote]}))
    _phone_audio_updated(world, app, conv)


def conversation_ended(world: World, app: ApplicationState, conv: ConversationState,
                       phone_audio_stopped: bool) -> None:
    """The user left or the conversation ended: phoneAudio updated (Disconnected) if it was
    not, localParticipant deleted (sender conversation; localParticipant_ref "Indicates that
    the user has left a conversation") and conversation deleted (sender communication;
    conversation_ref "Delivered when the conversation resource is deleted"), to the
    application the conversation belongs to. [infer] the order, which no trace shows."""
    if phone_audio_stopped:
        _phone_audio_updated(world, app, conv)
    local = render.local_participant(app, conv)
    assert local.href is not None
    _from_conversation(world, app, conv, Event(
        "deleted", Link("localParticipant", local.href, app.user.spec.name)))
    href = paths.path("conversation", app=app.id, conv=conv.id)
    world.emit(app, "communication", paths.path("communication", app=app.id),
               Event("deleted", Link("conversation", href)))


def _from_conversation(world: World, app: ApplicationState, conv: ConversationState,
                       event: Event) -> None:
    world.emit(app, "conversation", paths.path("conversation", app=app.id, conv=conv.id),
               event)


def phone_audio_changed(world: World, app: ApplicationState, conv: ConversationState) -> None:
    """phoneAudio updated (sender conversation) alone, to the conversation's application."""
    _phone_audio_updated(world, app, conv)


def _phone_audio_updated(world: World, app: ApplicationState, conv: ConversationState) -> None:
    pa = render.phone_audio(app, conv)
    assert pa.href is not None
    _from_conversation(world, app, conv, Event("updated", Link("phoneAudio", pa.href),
                                               embedded={"phoneAudio": [pa]}))


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


def me_changed(world: World, app: ApplicationState) -> None:
    """me updated, medium priority, sender me (me_ref: "The application is no longer in
    lurker mode"), after communication updated as in EventChannelDetails' sample."""
    me = render.me(app)
    assert me.href is not None
    world.emit(app, "me", me.href, Event("updated", Link("me", me.href),
                                         embedded={"me": [me]}), Priority.MEDIUM)
