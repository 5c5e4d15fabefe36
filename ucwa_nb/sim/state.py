"""The simulated world's state: users, tokens, applications, conversations, invitations.

Plain dataclasses with no behaviour beyond bookkeeping; ``rules/`` holds what may happen to
them and ``render.py`` turns them into UCWA resources. All of it lives on the event loop
thread of the simulator. Every class is named ``...State``, so that none is mistaken for the
client's class of the same UCWA resource (``ucwa_nb.Conversation``, ``ConversationLog``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from ucwa_nb.protocol.representation import Reason
from ucwa_nb.sim.channel import Channel
from ucwa_nb.sim.scenario import ConversationLogSpec, UserSpec

R = TypeVar("R")

__all__ = [
    "ApplicationState",
    "ConversationLogState",
    "ConversationState",
    "InvitationState",
    "Target",
    "TokenState",
    "UserState",
]


@dataclass
class TokenState:
    value: str
    user: UserState
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class ConversationState:
    id: str
    subject: str
    participants: list[str]
    created: datetime
    thread_id: str
    importance: str = "Normal"
    state: str = "Connected"
    modalities: list[str] = field(default_factory=lambda: ["Messaging"])
    phone_audio_state: str = "Disconnected"
    on_hold: bool = False  # holdPhoneAudio while Connected; resumePhoneAudio clears it
    call: InvitationState | None = None
    # Made by a call (continuePhoneAudio, startPhoneAudio): ends when its phone audio ends.
    ends_with_call: bool = False


@dataclass
class ConversationLogState:
    id: str
    spec: ConversationLogSpec
    thread_id: str
    call: InvitationState | None = None


@dataclass
class UserState:
    spec: UserSpec
    # The conversation logs are the user's, on every device; conversations belong to an
    # application (ApplicationState.conversations).
    logs: dict[str, ConversationLogState] = field(default_factory=dict)
    apps: dict[str, ApplicationState] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)  # live token values, oldest first

    @property
    def key(self) -> str:
        return self.spec.username.lower()


@dataclass
class ApplicationState:
    id: str
    user: UserState
    user_agent: str
    endpoint_id: str
    culture: str
    instance_id: str | None
    channel: Channel
    invitations: dict[str, InvitationState] = field(default_factory=dict)
    # An application is one of the user's endpoints, with conversations of its own
    # (ApplicationDashboard: "a single application on one of a user's devices"; the
    # conversations are under its communication); it starts with the scenario's.
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    next_conversation: int = 1
    deleted: bool = False
    # More events came than max_pending_events while nobody polled: retired as inactive.
    overflowed: bool = False
    # Set by makeMeAvailable (None until then): the modalities and the number it gave.
    available_modalities: list[str] | None = None
    phone_number: str | None = None
    # communication's PUT (rules/communication.py): the GUID-named property it must carry,
    # the ETag it must match, and the values it set.
    # When the application last made any request (rules/world.py: it keeps it alive).
    last_request: float = 0.0
    communication_guid: str = ""
    communication_etag: int = 1
    communication_put: dict[str, Any] = field(default_factory=dict)


@dataclass
class InvitationState:
    id: str
    app: ApplicationState
    kind: str  # "addPhoneAudio" | "continuePhoneAudio" | "startPhoneAudio"
    conversation: ConversationState
    to: str
    phone_number: str
    operation_id: str | None
    state: str = "Connecting"
    status: str | None = None  # "Success" | "Failure" once completed
    reason: Reason | None = None
    accepted_by: str | None = None
    # addPhoneAudio answered by someone new: the conversation the call went to.
    derived: ConversationState | None = None
    task: asyncio.Task[None] | None = None

    @property
    def in_progress(self) -> bool:
        return self.status is None


@dataclass(frozen=True)
class Target(Generic[R]):
    """What an operation acts on, as its path names it: the signed-in token, the
    application, and the resource that offers the operation's link (a conversation for the
    operations of its phoneAudio, a conversation log, an invitation, or the application
    itself for those of its communication)."""

    token: TokenState
    app: ApplicationState
    resource: R
