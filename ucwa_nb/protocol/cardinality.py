"""Which JSON relations are always arrays: one table, each entry with the page it comes from.

PayloadFormat: "If there can be more than one link with a certain "rel", the property value
will instead be an array of objects. It will be an array even if it currently contains only
one such link ... This way the client application can expect a certain "rel" to always be a
single link or always an array, without having to handle both cases." The same holds for
``_embedded`` ("either an object ... (if there can be only one embedded resource with that
name), or an array of objects (if there can be multiple embedded resources)").

So cardinality belongs to the pair (the resource's rel, the relation), never to how many items
there are now. The JSON codec asks :func:`is_many` when it builds a body (the simulator's
renderer, the client's event log); the parser keeps accepting both shapes. XML is not
concerned: it repeats ``<link>`` and "there is no way to distinguish a single link from a
one-element collection of links". Array-valued *properties* (``activeModalities``, ...) are
always arrays and need no entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MULTI_VALUED", "Relation", "Where", "is_many"]

Where = Literal["_links", "_embedded"]


@dataclass(frozen=True)
class Relation:
    """A multi-valued relation of a resource type, and the page whose sample shows it."""

    owner: str
    where: Where
    rel: str
    page: str
    sample: str


MULTI_VALUED: tuple[Relation, ...] = (
    Relation("conversations", "_links", "conversation", "conversations_ref",
             '"conversation" : [ { "href" : ".../conversations/343" } ]'),
    Relation("conversationLogs", "_links", "conversationLog", "conversationLogs_ref",
             '"conversationLog" : [ { "href" : ...'),
    Relation("conversationLog", "_embedded", "conversationLogRecipient", "conversationLog_ref",
             '"conversationLogRecipient" : [ { "rel" : "conversationLogRecipient", ...'),
    # participants_ref has no sample; attendees_ref, the sibling collection of the same
    # generator, shows "participant" : [ ... ] with one item. The embedded copy the simulator
    # adds follows the link [infer].
    Relation("participants", "_links", "participant", "attendees_ref",
             '"participant" : [ { "href" : ".../participants/425" } ]'),
    Relation("participants", "_embedded", "participant", "attendees_ref [infer]",
             '"participant" : [ { "href" : ".../participants/425" } ]'),
    Relation("phoneAudioInvitation", "_embedded", "acceptedByParticipant",
             "phoneAudioInvitation_ref",
             '"acceptedByParticipant" : [ { "rel" : "participant", ...} ]'),
    Relation("phoneAudioInvitation", "_embedded", "startEmergencyCallInput",
             "phoneAudioInvitation_ref", '"startEmergencyCallInput" : [ { ... } ]'),
    Relation("messagingInvitation", "_embedded", "acceptedByParticipant", "SendAnIM",
             '"acceptedByParticipant": [ { ... "rel":"participant" } ]'),
    Relation("phones", "_embedded", "phone", "phones_ref",
             '"_embedded" : { "phone" : [ { "rel" : "phone", ...'),
)

_INDEX = frozenset((r.owner, r.where, r.rel) for r in MULTI_VALUED)


def is_many(owner: str | None, where: Where, rel: str) -> bool:
    """Whether ``rel`` under ``where`` of a resource of type ``owner`` is always an array."""
    return (owner or "", where, rel) in _INDEX
