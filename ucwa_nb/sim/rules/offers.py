"""What each resource offers in its current state: the one statement of when an operation is
possible and which modalities are on.

``render.py`` shows a link for exactly what is offered here, and the operations
(``phone_audio.py``, ``me.py``) refuse what is not, with the documented error, so a link and
its operation cannot disagree (Hypermedia.md: clients follow links, and a missing link means
"not possible now"). Kept apart from the operations because they report their changes in
events that embed rendered resources: render reads this module, the operations read render.
"""

from __future__ import annotations

from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
)

__all__ = [
    "CALL_OPERATIONS",
    "CALL_SCOPES",
    "active_modalities",
    "allowed",
    "can_start_phone_audio",
    "conversation_log_operations",
    "exists",
    "invitation_operations",
    "is_active",
    "may_place_calls",
    "me_operations",
    "phone_audio_operations",
    "supported_modalities",
]


def phone_audio_operations(conv: ConversationState) -> tuple[str, ...]:
    """The operations of a conversation's phoneAudio, in the order of its links.

    Capability links [infer, ucwa-protocol.md 3.1]: add while nothing is under way, stop
    while connecting or connected, hold while connected, resume while held."""
    if conv.phone_audio_state == "Disconnected":
        return ("addPhoneAudio",)
    if conv.phone_audio_state == "Connected":
        return ("stopPhoneAudio", "resumePhoneAudio" if conv.on_hold else "holdPhoneAudio")
    return ("stopPhoneAudio",)


def invitation_operations(inv: InvitationState) -> tuple[str, ...]:
    """A phoneAudioInvitation can be cancelled while it is in progress."""
    return ("cancel",) if inv.in_progress else ()


def me_operations(app: ApplicationState) -> tuple[str, ...]:
    """[infer] MeDashboard.md: makeMeAvailable is offered until the application is
    available."""
    return ("makeMeAvailable",) if app.available_modalities is None else ()


def conversation_log_operations(log: ConversationLogState) -> tuple[str, ...]:
    """A conversation log can be continued by phone unless a call continuing it is in
    progress; it can always be marked as read."""
    if log.call is not None and log.call.in_progress:
        return ("markAsRead",)
    return ("continuePhoneAudio", "markAsRead")


def supported_modalities(app: ApplicationState) -> list[str]:
    """communication's supportedModalities: none until makeMeAvailable names them
    (CreateAnApplication's trace: "supportedModalities":[] in a fresh application), or what
    a PUT on communication set last."""
    put = app.communication_put.get("supportedModalities")
    if put is not None:
        return list(put)
    return list(app.available_modalities or [])


# add/continue/startPhoneAudio_ref (the current generation's scope tables): "The user must
# have at least one of these scopes for operations on the resource to be allowed."
CALL_SCOPES = ("Conversations.Initiate", "Conversations.Receive")
CALL_OPERATIONS = ("addPhoneAudio", "continuePhoneAudio", "startPhoneAudio")


def may_place_calls(scopes: tuple[str, ...]) -> bool:
    """Whether a token with ``scopes`` may add, continue or start phone audio."""
    return any(scope in scopes for scope in CALL_SCOPES)


def allowed(app: ApplicationState, operations: tuple[str, ...]) -> tuple[str, ...]:
    """``operations`` less those the application's user may not use: a resource offers no
    link its user would be refused (403) on (Hypermedia.md: a link means "possible now")."""
    if may_place_calls(app.user.spec.scopes):
        return operations
    return tuple(op for op in operations if op not in CALL_OPERATIONS)


def can_start_phone_audio(app: ApplicationState) -> bool:
    """startPhoneAudio_ref: 403 "Phone audio is not listed in the capabilities"; [infer] the
    capabilities are supportedModalities once makeMeAvailable or a PUT has set them. Before,
    makeMeAvailable_ref: "a user can initiate communications, such as ... starting a phone
    call, without invoking this capability"."""
    if app.available_modalities is None and "supportedModalities" not in app.communication_put:
        return True
    return "PhoneAudio" in supported_modalities(app)


def exists(app: ApplicationState, conv: ConversationState | None) -> bool:
    """Whether ``conv`` is still one of the application's conversations (not left, not
    ended): links to it are shown only then."""
    return conv is not None and app.conversations.get(conv.id) is conv


def is_active(conv: ConversationState) -> bool:
    """Listed in ``conversations?filter=active``, its messaging connected if it has any."""
    return conv.state != "Disconnected"


def active_modalities(conv: ConversationState) -> list[str]:
    """conversation_ref: "activeModalities | The active media in the conversation", members of
    ConversationModalityType (ApplicationSharing, Audio, DataCollaboration, Messaging, Video:
    no PhoneAudio). [infer] Phone audio is therefore not listed (its phoneAudio resource's
    state tells), rather than passed off as Audio, which is VoIP; a conversation made by a
    call shows none (SendAnIM: a new conversation's "activeModalities": [])."""
    return list(conv.modalities)
