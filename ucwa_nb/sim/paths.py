"""Every URL path the simulator serves, by route name: the one table that the routes are built
from (``routes/``) and that every href is written from (``render.py``, ``http.challenge``,
the server's URLs, the poll faults' match of an event poll).

Route names are the rels of the resources and operations they serve, so a link's rel names
the route its href leads to. Paths follow the real traces in the docs
(``/ucwa/oauth/v1/applications/<id>/...``, phoneAudio under its conversation); see
ucwa-protocol.md sections 1 and 8. Path parameters are written in Starlette's ``{name}``
syntax and are plain strings (no convertors), so ``path`` fills them in as they are.
"""

from __future__ import annotations

__all__ = ["APPLICATIONS", "ROOT", "TEMPLATES", "TOKEN", "USER", "XFRAME", "path"]

ROOT = "/autodiscover/autodiscoverservice.svc/root"
USER = ROOT + "/oauth/user"
XFRAME = "/autodiscover/xframe/xframe.html"
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
    "token": TOKEN,
    # the simulator's own, for trainers: not UCWA
    "activity": "/_simulator/activity",
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
    "startPhoneAudio": _COMM + "/startPhoneAudio",
    # conversations
    "conversations": _COMM + "/conversations",
    "conversation": _CONV,
    "participants": _CONV + "/participants",
    "participant": _CONV + "/participants/{participant}",
    "messaging": _CONV + "/messaging",
    "phoneAudio": _PHONE_AUDIO,
    "addPhoneAudio": _PHONE_AUDIO + "/addPhoneAudio",
    "stopPhoneAudio": _PHONE_AUDIO + "/stopPhoneAudio",
    "holdPhoneAudio": _PHONE_AUDIO + "/holdPhoneAudio",
    "resumePhoneAudio": _PHONE_AUDIO + "/resumePhoneAudio",
    # conversation logs
    "conversationLogs": _COMM + "/conversationLogs",
    "conversationLog": _LOG,
    "continuePhoneAudio": _LOG + "/continuePhoneAudio",
    "markAsRead": _LOG + "/markAsRead",
    "conversationLogRecipient": _LOG + "/recipients/{recipient}",
    # phone-audio invitations
    "phoneAudioInvitation": _INVITATION,
    "cancel": _INVITATION + "/cancel",
    # derivedConversation_ref / derivedPhoneAudio_ref samples:
    # ".../invitations/665/derivedConversation", ".../invitations/665/derivedPhoneAudio"
    "derivedConversation": _INVITATION + "/derivedConversation",
    "derivedPhoneAudio": _INVITATION + "/derivedPhoneAudio",
}


def path(name: str, **params: str) -> str:
    """The path of route ``name`` with its parameters filled in, e.g.
    ``path("conversation", app="101", conv="1")``."""
    return TEMPLATES[name].format(**params)
