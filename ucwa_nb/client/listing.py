"""What the session lists, and where an operation starts: the active conversations with their
participants, the conversation logs, and the resource an operation is reached from (its
definition's ``reached_from``: a conversation, a conversation log, or communication)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ucwa_nb.client.errors import UcwaError, ValidationError
from ucwa_nb.client.hooks import absolute
from ucwa_nb.client.navigation import Navigator
from ucwa_nb.client.views import Conversation, ConversationLog, Participant
from ucwa_nb.protocol.operations import OperationSpec
from ucwa_nb.protocol.representation import Resource

__all__ = ["Listings", "Target"]

Target = Conversation | ConversationLog | None  # what an operation that starts a call needs


class Listings:
    """The session's conversations and conversation logs, read through its navigator from
    its application's communication resource."""

    def __init__(self, navigator: Navigator, communication: Callable[[], Resource],
                 application_url: Callable[[], str | None]) -> None:
        self._navigator = navigator
        self._communication = communication
        self._application_url = application_url

    def conversations(self) -> list[Conversation]:
        """The active conversations, each with its participants."""
        nav = self._navigator
        collection = nav.follow(self._communication(), "conversations")
        found = []
        for link in collection.links.get("conversation", []):
            conv = nav.get(absolute(link.href, collection.href or ""), "conversation")
            people: list[Participant] = []
            if conv.link("participants") is not None:
                listing = nav.follow(conv, "participants")
                people = [Participant(str(p.get("name") or ""), str(p.get("uri") or ""))
                          for p in listing.embedded.get("participant", [])]
            found.append(Conversation(conv, people))
        return found

    def conversation_logs(self, limit: int | None = None) -> list[ConversationLog]:
        """Past conversations, newest first (at most ``limit``)."""
        nav = self._navigator
        url = nav.link(self._communication(), "conversationLogs")
        if url is None:
            raise UcwaError(0, "LinkNotOffered", message="no conversationLogs link")
        if limit is not None:
            url = str(httpx.URL(url).copy_merge_params({"limit": str(limit)}))
        collection = nav.get(url, "conversationLogs")
        return [ConversationLog(nav.get(absolute(item.href, collection.href or ""),
                                        "conversationLog"))
                for item in collection.links.get("conversationLog", [])]

    def current(self, conversation: Conversation) -> Conversation:
        """After the application was re-created, the same conversation (by its threadId) in
        the new one; ValidationError when it no longer exists."""
        app_url = self._application_url()
        if app_url and conversation.href.startswith(app_url + "/"):
            return conversation
        for candidate in self.conversations():
            if candidate.thread_id and candidate.thread_id == conversation.thread_id:
                return candidate
        raise ValidationError({"conversation": "this conversation no longer exists"})

    def start_of(self, operation: OperationSpec, target: Target) -> tuple[Resource, str | None]:
        """The resource ``operation`` is reached from for ``target``, and the callee when
        the target names it (a conversation log's first recipient); TypeError when
        ``target`` is not what the operation is reached from."""
        where = operation.reached_from
        if where == "conversation" and isinstance(target, Conversation):
            return self.current(target).resource, None
        if where == "conversationLog" and isinstance(target, ConversationLog):
            start = target.resource
            if start.link(operation.rel) is None:  # read again: it may be offered now
                start = self._navigator.get(target.href, "conversationLog")
            recipients = ConversationLog(start).recipients
            return start, recipients[0].uri if recipients else None
        if where == "communication" and target is None:
            return self._communication(), None
        if where == "phoneAudioInvitation":
            raise TypeError(f"{operation.rel} acts on a call: call.perform({operation.rel!r})")
        raise TypeError(f"{operation.rel} is reached from {where}, not from "
                        f"{type(target).__name__}")
