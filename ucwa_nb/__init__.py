"""ucwa-nb: explore UCWA's phone-audio calls (addPhoneAudio, continuePhoneAudio,
startPhoneAudio) from Jupyter, against the embedded simulator or a real server.

What a notebook needs, in the order a notebook meets it::

    session = ucwa_nb.connect()                       # sign in (the embedded simulator)
    ucwa_nb.preflight("contoso.com")                  # or first look at a real server
    ucwa_nb.AddPhoneAudioForm(session)                # a form that builds and sends the call
    call = session.add_phone_audio(conversation, "sip:john@contoso.com")
    call.wait(); session.log.df                       # the outcome; every exchange as a row
    ucwa_nb.explain(session)                          # why a call failed, if one did

The names live in small private-by-convention modules and are re-exported here (the httpx
convention). The forms, the simulator, ``explain`` and ``compare`` are loaded on first use: a
client pointed at a real server never imports ipywidgets' front-end machinery, Starlette or
uvicorn, nor the doctor's rules unless it asks. Everything else
stays in its layer (``ucwa_nb.client``, ``ucwa_nb.protocol``, ``ucwa_nb.log``,
``ucwa_nb.sim``); ARCHITECTURE.md maps them. Names that used to be here and moved still
resolve, with a DeprecationWarning that says where they live now.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from ucwa_nb._version import __version__
from ucwa_nb.client.call import PhoneAudioCall
from ucwa_nb.client.discovery import parse_challenge
from ucwa_nb.client.errors import (
    DiscoveryError,
    SignInError,
    UcwaError,
    UntrustedHostError,
    ValidationError,
)
from ucwa_nb.client.preflight import preflight
from ucwa_nb.client.session import Session, connect
from ucwa_nb.client.views import Conversation, ConversationLog
from ucwa_nb.log.exchange_log import ExchangeLog, read_har
from ucwa_nb.protocol.representation import parse, parse_input

if TYPE_CHECKING:
    from ucwa_nb.doctor.explain import explain
    from ucwa_nb.fidelity import compare
    from ucwa_nb.sim import Scenario, Simulator, scenarios
    from ucwa_nb.widgets import (
        AddPhoneAudioForm,
        ContinuePhoneAudioForm,
        LogView,
        StartPhoneAudioForm,
    )

# Loaded on first use, by the module that holds them: the forms bring ipywidgets' widget
# machinery, the simulator Starlette and uvicorn (~0.15 s of imports), the doctor and the
# comparison their rules (~45 ms).
_LAZY = {
    "explain": "ucwa_nb.doctor.explain",
    "compare": "ucwa_nb.fidelity",
    "AddPhoneAudioForm": "ucwa_nb.widgets",
    "ContinuePhoneAudioForm": "ucwa_nb.widgets",
    "StartPhoneAudioForm": "ucwa_nb.widgets",
    "LogView": "ucwa_nb.widgets",
    "Scenario": "ucwa_nb.sim",
    "Simulator": "ucwa_nb.sim",
}

# Names that were public here before 0.3, and where they live now.
_MOVED = {
    "CallEvent": "ucwa_nb.client",
    "PreparedCall": "ucwa_nb.client",
    "Participant": "ucwa_nb.client",
    "EventChannel": "ucwa_nb.client",
    "Challenge": "ucwa_nb.client",
    "InsecureTLSWarning": "ucwa_nb.client",
    "Event": "ucwa_nb.protocol",
    "Events": "ucwa_nb.protocol",
    "Link": "ucwa_nb.protocol",
    "ParseError": "ucwa_nb.protocol",
    "Reason": "ucwa_nb.protocol",
    "Resource": "ucwa_nb.protocol",
    "Sender": "ucwa_nb.protocol",
    "build_input": "ucwa_nb.protocol",
    "ScenarioError": "ucwa_nb.sim",
    "SimulatorError": "ucwa_nb.sim",
}


def __getattr__(name: str) -> Any:
    if name == "scenarios":
        return importlib.import_module("ucwa_nb.sim.scenarios")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _MOVED:
        home = _MOVED[name]
        warnings.warn(f"ucwa_nb.{name} is now {home}.{name}", DeprecationWarning,
                      stacklevel=2)
        return getattr(importlib.import_module(home), name)
    raise AttributeError(f"module 'ucwa_nb' has no attribute {name!r}")


# In the order a notebook meets them, not alphabetical: help(ucwa_nb) reads as a tour.
__all__ = [  # noqa: RUF022
    # sign in, find where to call, call
    "connect",
    "preflight",
    "Session",
    "Conversation",
    "ConversationLog",
    "PhoneAudioCall",
    # the forms and the log view (ipywidgets)
    "AddPhoneAudioForm",
    "ContinuePhoneAudioForm",
    "StartPhoneAudioForm",
    "LogView",
    # the record
    "ExchangeLog",
    "read_har",
    # what can go wrong
    "UcwaError",
    "SignInError",
    "DiscoveryError",
    "UntrustedHostError",
    "ValidationError",
    "explain",
    # the simulator against your own server
    "compare",
    # the simulator
    "Simulator",
    "Scenario",
    "scenarios",
    # reading UCWA by hand
    "parse",
    "parse_input",
    "parse_challenge",
    "__version__",
]
