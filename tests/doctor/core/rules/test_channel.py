"""Event-channel rules on the simulator: a second poll, a hand-built ack and its resync, no
poll parked, a completed event that never came."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import pytest
from support import NORA, MakeSession, wait_until
from support.doctor import fired

from ucwa_nb import Session, Simulator, UcwaError


def _last_poll_url(session: Session) -> str:
    return next(r.url for r in reversed(session.log.rows)
                if r.kind == "http" and r.url and "/events" in r.url)


def _parked_poll_url(session: Session) -> str:
    """The href the channel polls now: the next link of the latest answered poll."""
    wait_until(lambda: any(r.url and "/events" in r.url and r.status == 200
                           for r in session.log.rows), what="a first answered poll")
    last = next(r for r in reversed(session.log.rows)
                if r.url and "/events" in r.url and r.status == 200)
    href = str(json.loads(last.response_body or "{}")["_links"]["next"]["href"])
    return urljoin(last.url or "", href)


def test_two_polls_at_once(make_session: MakeSession) -> None:
    session = make_session(poll_timeout=1.0)
    session.http_client.get(_parked_poll_url(session), timeout=5)
    wait_until(lambda: any(r.subcode == "PGetReplaced" for r in session.log.rows),
               what="a poll to be replaced")
    found = fired(session, "channel.pget-replaced")
    assert found
    assert all("PGetReplaced" in finding.evidence for finding in found)


@pytest.mark.slow  # over 1.5 s: the full run has it, the inner loop does not
def test_hand_built_ack_and_ignored_resync(make_session: MakeSession) -> None:
    session = make_session(poll_timeout=1.0)  # polls answered within a second
    wait_until(lambda: any(r.url and "/events" in r.url and r.status == 200
                           for r in session.log.rows), what="a first answered poll")
    channel = session.event_channel
    assert channel is not None
    channel.stop()  # from here on, the only polls are the hand-built ones below
    base = _last_poll_url(session).split("?", 1)[0]
    answer = session.http_client.get(base + "?ack=99", timeout=3)
    assert "resync" in answer.text
    [built] = fired(session, "channel.hand-built-ack")
    assert "ack=99" in built.evidence
    assert fired(session, "channel.resync-ignored") == []  # not yet: no later poll
    session.http_client.get(base + "?ack=98", timeout=3)
    [ignored] = fired(session, "channel.resync-ignored")
    assert "ack=98" in ignored.evidence


def test_no_poll_parked(session: Session, sim: Simulator) -> None:
    sim.inject_fault("addPhoneAudio", "CallbackChannelError")
    with pytest.raises(UcwaError):
        session.add_phone_audio(session.conversations()[0], to="sip:john@contoso.com")
    [finding] = fired(session, "channel.no-poll")
    assert "injected" in finding.evidence


def test_completed_never_arrived(make_session: MakeSession) -> None:
    session = make_session(poll_timeout=1.0)  # stop() below waits for one poll at most
    channel = session.event_channel
    assert channel is not None
    channel.stop()  # the server still counts the channel live (callback_grace): 201
    call = session.add_phone_audio(session.conversations()[2], to=NORA)
    session.conversations()  # the session goes on without its channel
    [finding] = fired(session, "channel.completed-missing")
    assert finding.operation_id == call.operation_id
    assert "No event poll followed the POST" in finding.cause
