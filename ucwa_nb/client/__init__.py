"""The UCWA client: sign in, follow links, place phone-audio calls, follow the event channel.

``session`` (connect, Session: the façade that wires the parts), ``auth`` (sign-in),
``discovery`` and ``tls`` (finding and trusting the server), ``navigation`` (requests and
links), ``application`` (its lifetime), ``operations`` (each phone-audio operation defined
once) run by ``runner``, ``registry`` and ``delivery`` (calls and the events about them),
``channel`` (the event channel's thread), ``hooks`` (the log), ``call`` (one call followed to
its outcome), ``views`` (Conversation, ConversationLog), ``embedded`` (the simulator that
``connect()`` starts), ``pacing`` (a server's 429 Retry-After waited out) and ``errors``.
"""

from ucwa_nb.client.call import CallEvent, PhoneAudioCall
from ucwa_nb.client.channel import EventChannel
from ucwa_nb.client.discovery import Challenge, parse_challenge
from ucwa_nb.client.errors import (
    DiscoveryError,
    SignInError,
    UcwaError,
    UntrustedHostError,
    ValidationError,
)
from ucwa_nb.client.pacing import PacingWarning
from ucwa_nb.client.preflight import Preflight, preflight
from ucwa_nb.client.session import PreparedCall, Session, connect
from ucwa_nb.client.tls import InsecureTLSWarning
from ucwa_nb.client.trust import export_token
from ucwa_nb.client.views import Conversation, ConversationLog, Participant

__all__ = [
    "CallEvent",
    "Challenge",
    "Conversation",
    "ConversationLog",
    "DiscoveryError",
    "EventChannel",
    "InsecureTLSWarning",
    "PacingWarning",
    "Participant",
    "PhoneAudioCall",
    "Preflight",
    "PreparedCall",
    "Session",
    "SignInError",
    "UcwaError",
    "UntrustedHostError",
    "ValidationError",
    "connect",
    "export_token",
    "parse_challenge",
    "preflight",
]
