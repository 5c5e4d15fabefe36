"""ucwa-nb: explore UCWA's addPhoneAudio and continuePhoneAudio from Jupyter.

The public names live in small private-by-convention modules and are re-exported here: what a
notebook user needs (connect, the Session and its calls, the errors, the log, the simulator,
and parse with the types it returns). The builders the simulator uses, the phone-number
rules and the sign-in machinery stay in their layers (``ucwa_nb.protocol``,
``ucwa_nb.client``); ARCHITECTURE.md maps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ucwa_nb._version import __version__
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
from ucwa_nb.client.preflight import Preflight, preflight
from ucwa_nb.client.session import PreparedCall, Session, connect
from ucwa_nb.client.tls import InsecureTLSWarning
from ucwa_nb.client.views import Conversation, ConversationLog, Participant
from ucwa_nb.log.exchange_log import ExchangeLog
from ucwa_nb.log.har import read_har
from ucwa_nb.protocol.representation import (
    Event,
    Events,
    Link,
    ParseError,
    Reason,
    Resource,
    Sender,
    build_input,
    parse,
    parse_input,
)

if TYPE_CHECKING:
    from ucwa_nb.sim import Scenario, ScenarioError, Simulator, SimulatorError

# The simulator brings starlette and uvicorn (~0.15 s of imports): loaded on first use, so
# that pointing the client at a real server never pays for it.
_SIMULATOR_NAMES = frozenset({"Scenario", "ScenarioError", "Simulator", "SimulatorError"})


def __getattr__(name: str) -> Any:
    if name in _SIMULATOR_NAMES:
        from ucwa_nb import sim

        return getattr(sim, name)
    raise AttributeError(f"module 'ucwa_nb' has no attribute {name!r}")

__all__ = [
    "CallEvent",
    "Challenge",
    "Conversation",
    "ConversationLog",
    "DiscoveryError",
    "Event",
    "EventChannel",
    "Events",
    "ExchangeLog",
    "InsecureTLSWarning",
    "Link",
    "ParseError",
    "Participant",
    "PhoneAudioCall",
    "Preflight",
    "PreparedCall",
    "Reason",
    "Resource",
    "Scenario",
    "ScenarioError",
    "Sender",
    "Session",
    "SignInError",
    "Simulator",
    "SimulatorError",
    "UcwaError",
    "UntrustedHostError",
    "ValidationError",
    "__version__",
    "build_input",
    "connect",
    "parse",
    "parse_challenge",
    "parse_input",
    "preflight",
    "read_har",
]
