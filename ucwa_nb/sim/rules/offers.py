"""What each resource offers in its current state: the one statement of when an operation is
possible and which modalities are on.

Each resource's operations are a tuple of ``Offer``: the operation's definition (the
protocol's ``OperationSpec``) and when the resource offers it. ``render.py`` shows a link for
exactly what is offered here, the table of operations (``sim/operations.py``) serves each
from its ``Offer``, and the rules (``phone_audio.py``, ``calls.py``, ``me.py``) refuse what is
not offered, with the documented error, so a link and its operation cannot disagree
(Hypermedia.md: clients follow links, and a missing link means "not possible now"). Kept
apart from the operations because they report their changes in events that embed rendered
resources: render reads this module, the operations read render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ucwa_nb.protocol.operations import (
    ADD_PHONE_AUDIO,
    CANCEL,
    CONTINUE_PHONE_AUDIO,
    HOLD_PHONE_AUDIO,
    OPERATIONS,
    RESUME_PHONE_AUDIO,
    START_PHONE_AUDIO,
    STOP_PHONE_AUDIO,
    OperationSpec,
)
from ucwa_nb.sim.state import (
    ApplicationState,
    ConversationLogState,
    ConversationState,
    InvitationState,
)

__all__ = [
    "CALL_OPERATIONS",
    "CALL_SCOPES",
    "COMMUNICATION_OFFERS",
    "CONVERSATION_LOG_OFFERS",
    "INVITATION_OFFERS",
    "MARK_AS_READ",
    "OFFERS",
    "PHONE_AUDIO_OFFERS",
    "Offer",
    "active_modalities",
    "allowed",
    "can_start_phone_audio",
    "communication_operations",
    "conversation_log_operations",
    "exists",
    "invitation_operations",
    "is_active",
    "may_place_calls",
    "me_operations",
    "phone_audio_operations",
    "supported_modalities",
]

R = TypeVar("R")


@dataclass(frozen=True)
class Offer(Generic[R]):
    """When the resource that carries an operation's link offers it: ``when`` of the
    resource's state (``spec.acts_on`` names the resource)."""

    spec: OperationSpec
    when: Callable[[R], bool]

    @property
    def rel(self) -> str:
        """The operation's rel: its link's, its route's."""
        return self.spec.rel


# conversationLog_ref lists markAsRead; it is no phone-audio operation, so the protocol's
# table (which the client's forms read) does not hold it: its definition is the simulator's.
MARK_AS_READ = OperationSpec(
    "markAsRead", "Mark a past conversation as read.", acts_on="conversationLog",
    reached_from="conversationLog")


def _always(_: object) -> bool:
    return True


def _connected(conv: ConversationState) -> bool:
    return conv.phone_audio_state == "Connected"


# Each tuple is one resource's operations, in the order of its links.
# Capability links of phoneAudio [infer, ucwa-protocol.md 3.1]: add while nothing is under
# way, stop while connecting or connected, hold while connected, resume while held.
PHONE_AUDIO_OFFERS: tuple[Offer[ConversationState], ...] = (
    Offer(ADD_PHONE_AUDIO, lambda conv: conv.phone_audio_state == "Disconnected"),
    Offer(STOP_PHONE_AUDIO, lambda conv: conv.phone_audio_state != "Disconnected"),
    Offer(HOLD_PHONE_AUDIO, lambda conv: _connected(conv) and not conv.on_hold),
    Offer(RESUME_PHONE_AUDIO, lambda conv: _connected(conv) and conv.on_hold),
)
# A conversation log can be continued by phone unless a call continuing it is in progress;
# it can always be marked as read.
CONVERSATION_LOG_OFFERS: tuple[Offer[ConversationLogState], ...] = (
    Offer(CONTINUE_PHONE_AUDIO, lambda log: log.call is None or not log.call.in_progress),
    Offer(MARK_AS_READ, _always),
)
# A phoneAudioInvitation can be cancelled while it is in progress.
INVITATION_OFFERS: tuple[Offer[InvitationState], ...] = (
    Offer(CANCEL, lambda inv: inv.in_progress),
)
# startPhoneAudio's link is always on communication (for a user who may place calls): its
# capabilities check (can_start_phone_audio) answers 403 rather than hiding the link.
COMMUNICATION_OFFERS: tuple[Offer[ApplicationState], ...] = (
    Offer(START_PHONE_AUDIO, _always),
)


def _by_rel(*groups: Iterable[Offer[Any]]) -> dict[str, Offer[Any]]:
    return {offer.rel: offer for group in groups for offer in group}


OFFERS: Mapping[str, Offer[Any]] = _by_rel(
    PHONE_AUDIO_OFFERS, CONVERSATION_LOG_OFFERS, INVITATION_OFFERS, COMMUNICATION_OFFERS)


def _offered(offers: tuple[Offer[R], ...], resource: R) -> tuple[str, ...]:
    return tuple(offer.rel for offer in offers if offer.when(resource))


def phone_audio_operations(conv: ConversationState) -> tuple[str, ...]:
    """The operations of a conversation's phoneAudio, in the order of its links."""
    return _offered(PHONE_AUDIO_OFFERS, conv)


def invitation_operations(inv: InvitationState) -> tuple[str, ...]:
    """The operations of a phoneAudioInvitation: cancel while it is in progress."""
    return _offered(INVITATION_OFFERS, inv)


def conversation_log_operations(log: ConversationLogState) -> tuple[str, ...]:
    """The operations of a conversation log, in the order of its links."""
    return _offered(CONVERSATION_LOG_OFFERS, log)


def communication_operations(app: ApplicationState) -> tuple[str, ...]:
    """The operations of the application's communication resource."""
    return _offered(COMMUNICATION_OFFERS, app)


def me_operations(app: ApplicationState) -> tuple[str, ...]:
    """[infer] MeDashboard.md: makeMeAvailable is offered until the application is
    available."""
    return ("makeMeAvailable",) if app.available_modalities is None else ()


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
# The operations that start a call: the specs that create a phoneAudioInvitation.
CALL_OPERATIONS = tuple(spec.rel for spec in OPERATIONS.values() if spec.creates_call)


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
    """startPhoneAudio_ref: 403 "Phone audio is not listed in the capabilities".

    What the capabilities are, decided from the pages: not communication's
    ``supportedModalities``, which communication_ref and makeMeAvailable_ref call "the list
    of incoming modalities of interest to the user" (what the user may be *reached* with),
    while makeMeAvailable_ref says "a user can initiate communications, such as ... starting
    a phone call, without invoking this capability". So a fresh application, one made
    available for Messaging only, and one whose communication was PUT back unchanged
    (PayloadFormat: GET, change, PUT the whole back) all start calls alike. [infer] The
    capabilities are the user's, set by the server's policies: the scenario's
    ``phone_audio`` per user (true by default)."""
    return app.user.spec.phone_audio


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
