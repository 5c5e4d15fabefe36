"""Every link the simulator shows leads somewhere (Hypermedia.md: clients follow hrefs).

A crawler signs in, then follows every link of every resource it can reach: links of
resources fetched by GET, of their ``_embedded`` resources, of event-channel batches (sender,
event ``link`` and ``in``, embedded copies) and ``Location`` headers of operations. Resources
are fetched with GET; operation links (the rels in ``OPERATIONS``, from the reference pages)
are POSTed with a minimal valid body, once per rel, in an order that keeps the crawl going
(destructive operations such as stopPhoneAudio and cancel last). After the operations the
crawl starts over, so the links their effects reveal (resumePhoneAudio after a hold, the
conversation a startPhoneAudio creates) are followed too, until nothing new appears.

The rels checked are the ones the server renders: a new link that leads nowhere fails here
without anyone adding it to a list. A rel missing from ``OPERATIONS`` is fetched with GET, so
a new operation link fails with 405 until it is added there with its body.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support import Lab, fast_scenario
from support.ucwa_http import Format, Session, body_of, with_params

from ucwa_nb import Scenario, Simulator
from ucwa_nb.protocol import Events, Link, Resource
from ucwa_nb.protocol.representation import format_of
from ucwa_nb.sim import render

# The rels answered by POST (the reference page of each documents POST only), with a minimal
# valid body, in the order they are tried within a round. Rels in FINAL end something, so
# they are POSTed one per round, once nothing else is left to do.
Body = Callable[[], dict[str, Any] | None]
OPERATIONS: dict[str, Body] = {
    "applications": lambda: {"userAgent": "ucwa-nb-crawler/1.0",
                             "endpointId": f"crawler-{uuid.uuid4().hex}", "culture": "en-US"},
    "makeMeAvailable": lambda: {"signInAs": "Online",
                                "supportedModalities": ["Messaging", "PhoneAudio"]},
    "markAsRead": lambda: None,
    "holdPhoneAudio": lambda: None,
    "resumePhoneAudio": lambda: None,
    "addPhoneAudio": lambda: {"operationId": uuid.uuid4().hex, "to": "sip:john@contoso.com"},
    "continuePhoneAudio": lambda: {"operationId": uuid.uuid4().hex},
    # Nora never answers (and rings long in this scenario): the invitation stays in progress,
    # so its cancel link is seen and cancelled for real.
    "startPhoneAudio": lambda: {"operationId": uuid.uuid4().hex, "to": "sip:nora@contoso.com",
                                "subject": "Crawled call"},
    "cancel": lambda: None,
    "stopPhoneAudio": lambda: None,
}
FINAL = frozenset({"cancel", "stopPhoneAudio"})
# The event channel's links are followed by the crawler's own poll loop, as a client does.
EVENT_CHANNEL = frozenset({"events", "next", "resync", "resume"})
DEAD = frozenset({404, 405, 501})
POLL_TIMEOUT = 0.2  # the fast scenario's min_poll_timeout
MAX_ROUNDS = 8


@dataclass
class Visit:
    method: str
    rel: str
    href: str
    status: int
    found_in: str


@dataclass
class Crawler:
    session: Session
    visits: list[Visit] = field(default_factory=list)
    got: set[str] = field(default_factory=set)
    posted: set[str] = field(default_factory=set)
    operations: dict[str, tuple[str, str]] = field(default_factory=dict)  # href: rel, where
    frontier: list[tuple[str, str, str]] = field(default_factory=list)  # rel, href, where
    next_events: str | None = None
    # Conversations the event channel reported deleted (the call that made them ended, or the
    # user left): links to them, or under them, seen in earlier events rightly lead nowhere.
    gone: set[str] = field(default_factory=set)
    # href asked for -> the self href of what it answered (derivedConversation answers the
    # derived conversation), so that links to a gone resource through another path are known.
    answered_as: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ discovery

    def see(self, rel: str, href: str, where: str) -> None:
        if href.startswith("data:"):
            return  # inline content (customContent), not a link to follow
        if rel in OPERATIONS:
            self.operations.pop(href, None)  # keep the order in which hrefs were last seen
            self.operations[href] = (rel, where)
        elif rel in EVENT_CHANNEL:
            if self.next_events is None and rel == "events":
                self.next_events = href
        elif href not in self.got:
            self.frontier.append((rel, href, where))

    def see_resource(self, resource: Resource, where: str) -> None:
        here = f"{where} > {resource.rel}"
        if resource.href is not None:
            self.see(resource.rel or "self", resource.href, where)
        for rel, links in resource.links.items():
            for link in links:
                if rel != "self":
                    self.see(rel, link.href, here)
        for embedded in resource.embedded.values():
            for child in embedded:
                self.see_resource(child, here)

    def see_events(self, batch: Events) -> None:
        for rel, links in batch.links.items():
            for link in links:
                if rel == "self":
                    self.see("eventsSelf", link.href, "events")
        for sender in batch.senders:
            self.see(sender.rel, sender.href, "events sender")
            for event in sender.events:
                where = f"events {sender.rel} {event.type} {event.link.rel}"
                if event.type == "deleted":  # a deleted resource may rightly be gone
                    self.gone.add(event.link.href)
                else:
                    self.see(event.link.rel, event.link.href, where)
                if event.in_ is not None:
                    self.see(event.in_.rel, event.in_.href, where)
                for embedded in event.embedded.values():
                    for resource in embedded:
                        self.see_resource(resource, where)

    # ------------------------------------------------------------------ following

    def record(self, method: str, rel: str, href: str, response: httpx.Response,
               where: str) -> None:
        self.visits.append(Visit(method, rel, href, response.status_code, where))

    def poll(self) -> bool:
        """One event poll from the last next link; True if the batch held events."""
        assert self.next_events is not None, "the application shows no events link"
        href = self.next_events
        response = self.session.get(with_params(href, timeout=POLL_TIMEOUT))
        self.record("GET", "next", href, response, "event channel")
        if response.status_code != 200:
            return False
        batch = body_of(response)
        assert isinstance(batch, Events)
        self.see_events(batch)
        self.next_events = batch.href("next") or batch.href("resync") or batch.href("resume")
        return bool(batch.senders)

    def drain(self) -> None:
        """Poll until the channel is quiet (calls of this fast scenario settle meanwhile)."""
        for _ in range(50):
            if not self.poll():
                return
        raise AssertionError("the event channel never went quiet")

    def is_gone(self, href: str) -> bool:
        target = self.answered_as.get(href, href)
        return any(target == gone or target.startswith(gone + "/") for gone in self.gone)

    def get_all(self) -> None:
        while self.frontier:
            rel, href, where = self.frontier.pop(0)
            if href in self.got or self.is_gone(href):
                continue
            self.got.add(href)
            response = self.session.get(href)
            self.record("GET", rel, href, response, where)
            if response.status_code == 200 and \
                    format_of(response.headers.get("content-type")) is not None:
                parsed = body_of(response)
                if isinstance(parsed, Resource):
                    if parsed.href is not None and parsed.href != href.split("?")[0]:
                        self.answered_as[href] = parsed.href
                    self.see_resource(parsed, f"GET {rel}")

    def post_round(self) -> bool:
        """POST each operation rel not posted yet, once, at the href seen last (the newest
        resource: the invitation still ringing, the conversation just made); False when none
        was left. Side effects rule out posting every href of a rel."""
        pending: dict[str, tuple[str, str]] = {}
        for href, (rel, where) in self.operations.items():
            if rel not in self.posted:
                pending[rel] = (href, where)
        ordered = [rel for rel in OPERATIONS if rel in pending]
        now = [rel for rel in ordered if rel not in FINAL] or ordered[:1]
        for rel in now:
            href, where = pending[rel]
            self.posted.add(rel)
            response = self.session.post(href, OPERATIONS[rel]())
            self.record("POST", rel, href, response, where)
            location = response.headers.get("location")
            if location is not None:
                self.see("Location", location, f"POST {rel}")
        return bool(now)

    def crawl(self) -> None:
        for _ in range(MAX_ROUNDS):
            self.get_all()
            if not self.post_round():
                return
            self.drain()
            # Capability links change with state: look at everything again.
            self.got.clear()
            self.see_resource(self.session.application, "application")
            for visit in self.visits:
                if visit.method == "GET" and visit.rel not in ("next", "eventsSelf"):
                    self.see(visit.rel, visit.href, visit.found_in)
        raise AssertionError(f"the crawl did not settle in {MAX_ROUNDS} rounds")


def crawler_scenario() -> Scenario:
    # Nora's phone rings for 30 s: the invitation startPhoneAudio makes stays cancellable.
    return fast_scenario({"ring_timeout": 30.0})


def crawl(lab: Lab, sim: Simulator, fmt: Format) -> Crawler:
    session = lab.sign_in(sim, fmt=fmt, collect=False)
    crawler = Crawler(session)
    crawler.see_resource(session.application, "application")
    crawler.see("root", sim.url, "autodiscover")
    assert session.user.href is not None
    crawler.see("user", session.user.href, "user")
    crawler.drain()  # a live event channel before any operation
    # A call that reaches Connected first, so the links of a connected call are seen.
    response = session.add_phone_audio("Project sync", {
        "operationId": uuid.uuid4().hex, "to": "sip:john@contoso.com"})
    assert response.status_code == 201, response.text
    for _ in range(50):
        crawler.poll()
        if session.phone_audio("Project sync").get("state") == "Connected":
            break
    else:
        raise AssertionError("the call on Project sync never connected")
    crawler.drain()
    # And one to nobody the world knows (DestinationNotFound): its links must work too.
    response = session.add_phone_audio("Budget review", {
        "operationId": uuid.uuid4().hex, "to": "sip:nobody@contoso.com"})
    assert response.status_code == 201, response.text
    crawler.crawl()
    return crawler


def dead_links(crawler: Crawler) -> list[Visit]:
    return [v for v in crawler.visits if v.status in DEAD or v.status >= 500]


def describe(visits: list[Visit]) -> str:
    by_rel: dict[tuple[str, str], Visit] = {}
    for visit in visits:
        by_rel.setdefault((visit.method, visit.rel), visit)
    return "\n".join(f"  {v.method} {v.rel} -> {v.status}  {v.href}  (from {v.found_in})"
                     for v in by_rel.values())


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_link_leads_somewhere(lab: Lab, fmt: Format) -> None:
    sim = lab.start(crawler_scenario())
    crawler = crawl(lab, sim, fmt)
    dead = dead_links(crawler)
    assert not dead, f"links that lead nowhere ({fmt}):\n{describe(dead)}"
    checked = {(v.method, v.rel) for v in crawler.visits}
    # The crawl did reach the phone-audio slice, including a connected call's capabilities.
    for expected in [("POST", "addPhoneAudio"), ("POST", "continuePhoneAudio"),
                     ("POST", "startPhoneAudio"), ("POST", "stopPhoneAudio"),
                     ("POST", "holdPhoneAudio"), ("POST", "resumePhoneAudio"),
                     ("POST", "cancel"), ("POST", "makeMeAvailable"),
                     ("GET", "localParticipant"), ("GET", "from"), ("GET", "participant"),
                     ("GET", "phoneAudioInvitation"), ("GET", "derivedConversation"),
                     ("GET", "derivedPhoneAudio")]:
        assert expected in checked, f"the crawl never reached {expected}"
    # GET links answer 200 (a resource or the xframe page); operations succeed or refuse
    # with a documented client error, never a server error.
    for visit in crawler.visits:
        if visit.method == "GET":
            assert visit.status == 200, visit
        else:
            assert visit.status in (200, 201, 204, 409), visit


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_the_crawler_finds_a_dead_link(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link nobody serves, added to a resource, is reported without being listed here."""
    real_me = render.me

    def me_with_a_dead_link(app: Any) -> Resource:
        resource = real_me(app)
        assert resource.href is not None
        resource.links["note"] = [Link("note", resource.href + "/note")]
        return resource

    monkeypatch.setattr(render, "me", me_with_a_dead_link)
    sim = lab.start(crawler_scenario())
    dead = dead_links(crawl(lab, sim, "json"))
    assert {(v.method, v.rel, v.status) for v in dead} == {("GET", "note", 404)}
