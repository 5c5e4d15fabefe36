"""The ids a recorded server minted, found from its ``Location`` headers and links, and
rewritten to the ones the simulator mints for the same things.

UCWA paths carry server-minted segments: the application's id after ``applications/``, a
conversation's after ``conversations/``, a conversation log's after ``conversationLogs/``,
an invitation's after ``phoneAudioInvitations/`` (ucwa-protocol.md sections 1 and 8), and the
event channel's ``ack`` in the events link. The client's operationIds are the client's and
are never touched. The simulator numbers a user's conversations and logs from 1 in the
scenario's order, later conversations after them in the order they are made, and
invitations from 1 in the order they are placed (``sim/rules/world.py``); the recording's
are mapped in the same orders, and its application path becomes ``APP_MARK`` (the serving
application's, in strict replay). Like MockServer's ``/orders/{id}`` normalisation, but
keyed to what each id names instead of a pattern.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ucwa_nb.protocol.representation import Resource
from ucwa_nb.record.recording import Recording

__all__ = ["APP_MARK", "MINTED", "IdMap", "path_template"]

# The scenario format's placeholder for the serving application (``[strict]`` paths and
# bodies): the simulator's own application path with ``{app}`` for its id.
APP_MARK = "/ucwa/oauth/v1/applications/{app}"

# Collections whose members the server names with ids of its own.
MINTED = {"conversations": "conv", "conversationLogs": "log", "phoneAudioInvitations": "inv"}
# Collections whose members are named by who they are (a SIP address, "work"): kept.
_KEYED = {"participants", "people", "recipients", "phones"}
_APPLICATION = re.compile(r"^(?P<root>.*/applications)/(?P<id>[^/?#]+)")
_MINTED_SEGMENT = re.compile(
    r"/(?P<kind>conversations|conversationLogs|phoneAudioInvitations)/(?P<id>[^/?#\"'<\s&]+)")


def path_template(url: str) -> str:
    """A URL's path with every id replaced by what it names: ``{app}``, ``{conv}``,
    ``{log}``, ``{inv}``, ``{person}``; and no query, so ``ack`` numbers disappear. Two
    recordings' requests for the same kind of resource have the same template."""
    parts = urlsplit(url).path.split("/")
    out: list[str] = []
    previous = ""
    for part in parts:
        if previous == "applications":
            out.append("{app}")
        elif previous in MINTED:
            out.append("{" + MINTED[previous] + "}")
        elif previous in _KEYED:
            out.append("{person}")
        else:
            out.append(part)
        previous = part
    template = "/".join(out)
    start = template.find("/applications/{app}")
    return template[start:] if start >= 0 else template


class IdMap:
    """The recording's minted ids and the simulator's for the same things."""

    def __init__(self, recording: Recording) -> None:
        self.applications: dict[str, str] = {}   # recorded application path -> APP_MARK
        self.ids: dict[str, dict[str, str]] = {kind: {} for kind in MINTED.values()}
        for exchange in recording.exchanges:
            for url in (exchange.url, exchange.location or ""):
                match = _APPLICATION.match(urlsplit(url).path)
                if match and match["id"]:
                    self.applications.setdefault(match.group(0), APP_MARK)
        # Scenario conversations and logs first, in the order their listings show them.
        for rel, kind, item in (("conversations", "conv", "conversation"),
                                ("conversationLogs", "log", "conversationLog")):
            listing = recording.first(rel)
            if listing is not None:
                for link in listing.links.get(item, []):
                    self._mint(kind, link.href)
        # Then everything else, in the order it appears: invitations from the 201s'
        # Locations, later conversations from the hrefs that name them.
        for exchange in recording.exchanges:
            for url in (exchange.url, exchange.location or ""):
                self._mint_all(url)
            if isinstance(exchange.body, Resource):
                self._mint_all(exchange.response_body or "")
        for href in recording.events.location.dropna():
            self._mint_all(str(href))

    def _mint(self, kind: str, href: str) -> None:
        match = _MINTED_SEGMENT.search(urlsplit(href).path)
        if match:
            known = self.ids[MINTED[match["kind"]]]
            known.setdefault(match["id"], str(len(known) + 1))

    def _mint_all(self, text: str) -> None:
        for match in _MINTED_SEGMENT.finditer(text):
            known = self.ids[MINTED[match["kind"]]]
            known.setdefault(match["id"], str(len(known) + 1))

    def conversation(self, href: str) -> str | None:
        """The simulator's id of the conversation ``href`` names (None if it names none)."""
        match = _MINTED_SEGMENT.search(urlsplit(href).path)
        if match is None or match["kind"] != "conversations":
            return None
        return self.ids["conv"].get(match["id"])

    def rewrite(self, text: str, server: str) -> str:
        """``text`` (a path, an href, a body) with the recorded server's origin dropped, its
        application paths made ``APP_MARK`` and its other minted ids the simulator's."""
        for scheme in ("https://", "http://"):
            text = text.replace(scheme + server, "")
        for recorded in sorted(self.applications, key=len, reverse=True):
            text = text.replace(recorded, APP_MARK)

        def mapped(match: re.Match[str]) -> str:
            kind = MINTED[match["kind"]]
            return f"/{match['kind']}/{self.ids[kind].get(match['id'], match['id'])}"

        return _MINTED_SEGMENT.sub(mapped, text)
