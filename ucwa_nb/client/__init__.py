"""The UCWA client: sign in, follow links, place phone-audio calls, follow the event channel.

``session`` (connect, Session), ``discovery`` and ``tls`` (finding and trusting the server),
``channel`` (the event channel's thread), ``call`` (one call followed to its outcome),
``views`` (Conversation, ConversationLog) and ``errors``.
"""

from ucwa_nb.client.call import CallEvent, PhoneAudioCall
from ucwa_nb.client.errors import DiscoveryError, UcwaError, ValidationError
from ucwa_nb.client.session import PreparedCall, Session, connect
from ucwa_nb.client.views import Conversation, ConversationLog, Participant

__all__ = [
    "CallEvent",
    "Conversation",
    "ConversationLog",
    "DiscoveryError",
    "Participant",
    "PhoneAudioCall",
    "PreparedCall",
    "Session",
    "UcwaError",
    "ValidationError",
    "connect",
]
