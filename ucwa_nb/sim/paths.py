"""Every URL path the simulator serves, by route name: the one table that the routes are built
from (``routes/``) and that every href is written from (``render.py``, ``http.challenge``,
the server's URLs, the poll faults' match of an event poll).

Route names are the rels of the resources and operations they serve, so a link's rel names
the route its href leads to. Paths follow the real traces in the docs
(``/ucwa/oauth/v1/applications/<id>/...``, phoneAudio under its conversation); see
ucwa-protocol.md sections 1 and 8. Path parameters are written in Starlette's ``{name}``
syntax and are plain strings (no convertors), so ``path`` fills them in as they are.

Behind a reverse proxy that forwards a prefix unchanged (JupyterHub's proxy serves a service
at ``/services/<name>/``), every path is under that prefix: the ``root_path`` setting
(``[server] root_path``, ``ucwa-nb serve --prefix``). The routes stay the templates below
(the app sets ASGI's ``root_path`` and Starlette matches what follows it); ``path`` writes
every href with the prefix of the server at hand, held in a context variable that the app
sets for each request and the server for its event loop. One process can run simulators
with different prefixes side by side (tests do), so the prefix is never a module global.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

from ucwa_nb.protocol.exercises import PROGRESS_PATH
from ucwa_nb.protocol.operations import OPERATIONS

__all__ = ["APPLICATIONS", "DISCOVERY", "DISCOVERY_XFRAME", "ROOT", "TEMPLATES", "TOKEN",
           "USER", "XFRAME", "normal_prefix", "path", "prefix", "prefixed", "set_prefix"]

ROOT = "/autodiscover/autodiscoverservice.svc/root"
USER = ROOT + "/oauth/user"
XFRAME = "/autodiscover/xframe/xframe.html"
# The discovery host (lyncdiscover.<domain>): CreateAnApplication.md step 1 GETs its "/",
# which answers the root; the first request of a browser application there carries
# "Referer: https://lyncdiscover.contoso.com/xframe", the frame it was sent from.
DISCOVERY = "/"
DISCOVERY_XFRAME = "/xframe"
TOKEN = "/WebTicket/oauthtoken"
APPLICATIONS = "/ucwa/oauth/v1/applications"

_APP = APPLICATIONS + "/{app}"
_COMM = _APP + "/communication"
_CONV = _COMM + "/conversations/{conv}"
_PHONE_AUDIO = _CONV + "/phoneAudio"
_LOG = _COMM + "/conversationLogs/{log}"
_INVITATION = _COMM + "/phoneAudioInvitations/{inv}"

TEMPLATES: dict[str, str] = {
    # discovery and sign-in
    "root": ROOT,
    "user": USER,
    "xframe": XFRAME,
    "discovery": DISCOVERY,
    "discoveryXframe": DISCOVERY_XFRAME,
    "token": TOKEN,
    # the simulator's own, for trainers: not UCWA
    "activity": "/_simulator/activity",
    "grid": "/_simulator/grid",
    "gridCsv": "/_simulator/grid.csv",
    # ... and for each attendee, behind their own token (protocol/exercises.py)
    "progress": PROGRESS_PATH,
    "progressCheck": PROGRESS_PATH + "/{exercise}",
    # where JupyterHub's OAuth login comes back (the hub's default for a service)
    "oauth_callback": "/oauth_callback",
    # the application and what hangs off it
    "applications": APPLICATIONS,
    "application": _APP,
    "events": _APP + "/events",
    "me": _APP + "/me",
    "makeMeAvailable": _APP + "/me/makeMeAvailable",
    "phones": _APP + "/me/phones",
    "phone": _APP + "/me/phones/{phone}",
    "policies": _APP + "/policies",
    "people": _APP + "/people",
    "contact": _APP + "/people/{person}",
    "onlineMeetings": _APP + "/onlineMeetings",
    "communication": _COMM,
    # conversations
    "conversations": _COMM + "/conversations",
    "conversation": _CONV,
    "participants": _CONV + "/participants",
    "participant": _CONV + "/participants/{participant}",
    "messaging": _CONV + "/messaging",
    "phoneAudio": _PHONE_AUDIO,
    # conversation logs
    "conversationLogs": _COMM + "/conversationLogs",
    "conversationLog": _LOG,
    "markAsRead": _LOG + "/markAsRead",
    "conversationLogRecipient": _LOG + "/recipients/{recipient}",
    # phone-audio invitations
    "phoneAudioInvitation": _INVITATION,
    # derivedConversation_ref / derivedPhoneAudio_ref samples:
    # ".../invitations/665/derivedConversation", ".../invitations/665/derivedPhoneAudio"
    "derivedConversation": _INVITATION + "/derivedConversation",
    "derivedPhoneAudio": _INVITATION + "/derivedPhoneAudio",
}


# An operation is a POST on the resource that offers its link, named by its rel (the docs'
# traces: ".../phoneAudio/addPhoneAudio", ".../conversationLogs/<id>/continuePhoneAudio",
# ".../phoneAudioInvitations/<id>/cancel"): a new operation in the protocol's table gets
# its path here without an edit.
TEMPLATES.update({op.rel: TEMPLATES[op.acts_on] + "/" + op.rel for op in OPERATIONS.values()})


_PREFIX: ContextVar[str] = ContextVar("ucwa_nb_sim_prefix", default="")
# Segments of URL-safe characters: a prefix is written into every href and header as it is.
_PREFIX_SHAPE = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*")


def normal_prefix(value: str) -> str:
    """``/services/ucwa-nb/`` -> ``/services/ucwa-nb``; ``""`` or ``/`` -> ``""`` (none)."""
    text = value.strip()
    text = "/" + text.strip("/") if text.strip("/") else ""
    if not _PREFIX_SHAPE.fullmatch(text):
        raise ValueError(f"not a URL path prefix: {value!r}")
    return text


def prefix() -> str:
    """The prefix of the server serving the current request or event loop ("" if none)."""
    return _PREFIX.get()


def set_prefix(value: str) -> None:
    """Set the prefix for this context (a server's event loop thread, before it starts)."""
    _PREFIX.set(value)


@contextlib.contextmanager
def prefixed(value: str) -> Iterator[None]:
    token = _PREFIX.set(value)
    try:
        yield
    finally:
        _PREFIX.reset(token)


def path(name: str, **params: str) -> str:
    """The path of route ``name`` with its parameters filled in, under the current prefix,
    e.g. ``path("conversation", app="101", conv="1")``."""
    return _PREFIX.get() + TEMPLATES[name].format(**params)
