"""The event channel over HTTP: ack/next, replays, resync, PGetReplaced, timeouts, expiry.

These tests poll by hand (no background collector) so that they control every P-GET.
"""

from __future__ import annotations

import time

import httpx
import pytest
from support import Lab, default_scenario_dict
from support.ucwa_http import (
    Background,
    Session,
    body_of,
    events_of,
    is_parked,
    reason_of,
    wait_parked,
    with_params,
)

from ucwa_nb import Simulator
from ucwa_nb.protocol import Events
from ucwa_nb.sim.scenario_loader import scenario_from_dict


def _poll(session: Session, href: str, timeout: float = 5.0, **params: object) -> httpx.Response:
    return session.get(with_params(href, timeout=timeout, **params))


def _park(sim: Simulator, session: Session, href: str, timeout: float = 5.0,
          **params: object) -> Background:
    """Start a poll in the background and wait until the server holds it."""
    pending = Background(lambda: _poll(session, href, timeout, **params))
    wait_parked(sim, session)
    return pending


def _event_summary(batch: Events) -> list[tuple[str, str, str]]:
    return [(sender.rel, event.type, event.link.rel) for sender, event in batch.all_events()]


def _add_call(session: Session, operation_id: str, to: str = "sip:john@contoso.com") -> str:
    response = session.add_phone_audio("Project sync", {"operationId": operation_id, "to": to})
    assert response.status_code == 201, response.text
    return response.headers["location"]


def test_timeout_answers_an_empty_batch_with_only_next(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    start = time.monotonic()
    # The lowest timeout these scenarios allow (0.2 s; real servers: 180 s).
    response = _poll(session, session.events_href, timeout=0.2)
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    assert 0.15 <= elapsed < 3
    assert response.headers["content-type"].startswith("application/json")
    raw = response.json()
    assert set(raw) == {"_links"}  # no sender member at all
    assert set(raw["_links"]) == {"self", "next"}
    batch = events_of(response)
    assert batch.senders == []
    assert batch.href("self") == session.events_href
    assert batch.href("resync") is None
    next_href = batch.href("next")
    assert next_href is not None
    assert next_href != session.events_href
    # The next empty batch follows on from it.
    again = events_of(_poll(session, next_href, timeout=0.2))
    assert again.href("self") == next_href
    assert again.href("next") not in (None, next_href, session.events_href)


def test_ack_next_replay_and_resync(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    first = _park(sim, session, session.events_href)
    location = _add_call(session, "op-ack")
    response = first.result()
    # A high-priority event (the invitation's started) releases the parked poll at once,
    # even though the poll asked to be held for 5 s.
    assert first.elapsed < 2
    batch1 = events_of(response)
    assert ("communication", "started", "phoneAudioInvitation") in _event_summary(batch1)
    started = next(e for _, e in batch1.all_events() if e.type == "started")
    assert started.link.href == location
    next_href = batch1.href("next")
    assert next_href is not None

    # Asking again with the same ack (a lost response) returns exactly the same batch.
    replay = _poll(session, session.events_href)
    assert replay.status_code == 200
    assert replay.content == response.content

    # Follow next until the call has completed; every batch comes at once since the call's
    # events are high priority.
    href = next_href
    last = href
    seen = _event_summary(batch1)
    deadline = time.monotonic() + 10
    while ("communication", "completed", "phoneAudioInvitation") not in seen:
        assert time.monotonic() < deadline, seen
        batch = events_of(_poll(session, href))
        assert batch.href("self") == href
        seen += _event_summary(batch)
        next_link = batch.href("next")
        assert next_link is not None
        last, href = href, next_link

    # The first batch was acknowledged by asking for the next one: its ack is now too old.
    # The last batch received is not acknowledged yet (nobody asked for its next).
    stale = _poll(session, session.events_href)
    assert stale.status_code == 200
    stale_batch = events_of(stale)
    assert stale_batch.senders == []
    assert stale_batch.href("next") is None
    assert stale_batch.href("resync") == last  # the first unacknowledged batch
    # EventsInUCWA: "the event response will contain nothing but a \"resync\" link"
    assert set(stale.json()) == {"_links"}
    assert set(stale.json()["_links"]) == {"resync"}

    # An ack beyond the next batch to form is out of range too.
    future_ack = with_params(href.split("?")[0], ack=10_000)
    too_new = events_of(_poll(session, future_ack))
    assert too_new.href("resync") == last
    assert too_new.href("next") is None

    # Following the resync link replays that batch, then the channel carries on.
    resumed = events_of(_poll(session, last))
    assert ("communication", "completed", "phoneAudioInvitation") in _event_summary(resumed)
    assert resumed.href("next") == href
    quiet = events_of(_poll(session, href, timeout=0.2))
    assert quiet.senders == []
    assert quiet.href("self") == href


def test_second_poll_releases_the_first_with_409_pget_replaced(lab: Lab,
                                                               sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    first = _park(sim, session, session.events_href)
    second = Background(lambda: _poll(session, session.events_href, timeout=0.2))
    replaced = first.result()
    assert replaced.status_code == 409
    reason = reason_of(replaced)
    assert (reason.code, reason.subcode) == ("Conflict", "PGetReplaced")
    assert first.elapsed < 2
    # The newcomer holds the channel and is answered normally.
    answer = second.result()
    assert answer.status_code == 200
    assert events_of(answer).href("next") is not None


def test_pget_replaced_in_xml(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, fmt="xml", collect=False)
    first = _park(sim, session, session.events_href)
    second = Background(lambda: _poll(session, session.events_href, timeout=0.2))
    replaced = first.result()
    assert replaced.status_code == 409
    assert replaced.headers["content-type"].startswith("application/vnd.microsoft.com.ucwa+xml")
    assert b"<reason" in replaced.content
    assert b"<subcode>PGetReplaced</subcode>" in replaced.content
    assert reason_of(replaced).subcode == "PGetReplaced"
    assert second.result().status_code == 200


def test_lower_priority_poll_does_not_replace_a_higher_one(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    high = _park(sim, session, session.events_href, priority=5)
    low = _poll(session, session.events_href, timeout=0.2, priority=1)
    assert low.status_code == 409
    assert reason_of(low).subcode == "PGetReplaced"
    assert not high.done
    assert is_parked(sim, session)
    # An equal priority replaces it (arrival order).
    equal = Background(lambda: _poll(session, session.events_href, timeout=0.2, priority=5))
    assert high.result().status_code == 409
    assert equal.result().status_code == 200


def test_events_reach_a_poll_made_after_they_happened(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    # One poll makes the channel live; then a call happens while nobody is polling.
    empty = events_of(_poll(session, session.events_href, timeout=0.2))
    href = empty.href("next")
    assert href is not None
    _add_call(session, "op-late")

    def call_over() -> bool:
        return all(not inv.in_progress for app in sim.world.apps.values()
                   for inv in app.invitations.values())

    deadline = time.monotonic() + 5
    while not sim.call(call_over):  # ring delays of a few tens of ms
        assert time.monotonic() < deadline
        time.sleep(0.02)
    batch = events_of(_poll(session, href, timeout=5))
    types = [e.type for _, e in batch.all_events() if e.link.rel == "phoneAudioInvitation"]
    # Everything that happened meanwhile comes in one batch, in order.
    assert types[0] == "started"
    assert types[-1] == "completed"


def _advance(sim: Simulator, seconds: float) -> None:
    """Move the world's clock on (expiries are measured on it): no sleep on the wall clock."""
    sim.call(lambda: sim.world.clock.advance(seconds))


def test_unpolled_application_expires_and_then_answers_410(lab: Lab) -> None:
    sim = lab.start(application_expiry=1.0, callback_grace=0.3)
    session = lab.sign_in(sim, collect=False)
    conversation = session.conversation("Project sync")
    add_href = session.href(session.follow(conversation, "phoneAudio"), "addPhoneAudio")
    # The last poll: from its answer on, nobody polls.
    batch = events_of(_poll(session, session.events_href, timeout=0.2))
    next_href = batch.href("next")
    assert next_href is not None
    # No request at all meanwhile: any request would keep it alive (application_ref).
    _advance(sim, 1.0 + 0.6)
    for response in (
        session.get(session.app_href),
        _poll(session, next_href, timeout=0.2),
        session.get(session.href(session.application, "events")),
        session.get(conversation.href or ""),
        session.post(add_href, {"to": "sip:john@contoso.com"}),
    ):
        # GenericSynchronousErrors: "InactiveApplicationExpired | An inactive application
        # expired.", answered 410 Gone (ApplicationDashboard's table).
        assert response.status_code == 410, response.text
        reason = reason_of(response)
        assert (reason.code, reason.subcode) == ("Gone", "InactiveApplicationExpired")


def test_any_request_keeps_the_application_alive(lab: Lab) -> None:
    # application_ref: "The application resource will expire if the application remains idle
    # (i.e. no HTTP requests are received for a period of time from the application)".
    sim = lab.start(application_expiry=0.6, callback_grace=0.2)
    session = lab.sign_in(sim, collect=False)
    events_of(_poll(session, session.events_href, timeout=0.2))  # polled once, then never
    for _ in range(6):  # 1.2 s: twice the expiry, with a GET every 0.2 s
        _advance(sim, 0.2)
        assert session.get(session.app_href).status_code == 200
    _advance(sim, 0.6 + 0.5)
    assert session.get(session.app_href).status_code == 410


def test_a_parked_poll_keeps_the_application_alive(lab: Lab) -> None:
    sim = lab.start(application_expiry=0.4, callback_grace=0.2)
    session = lab.sign_in(sim, collect=False)
    pending = _park(sim, session, session.events_href, timeout=1.2)
    _advance(sim, 0.9)  # more than twice the expiry, with the poll parked all along
    assert session.get(session.app_href).status_code == 200
    assert pending.result().status_code == 200


def test_deleting_the_application_answers_its_parked_poll_with_404(lab: Lab,
                                                                   sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    pending = _park(sim, session, session.events_href)
    assert session.client.delete(session.app_href).status_code == 204
    gone = pending.result()
    assert pending.elapsed < 2
    assert gone.status_code == 404
    reason = reason_of(gone)
    assert (reason.code, reason.subcode) == ("NotFound", "ApplicationNotFound")


def test_stopping_the_simulator_answers_parked_polls_with_503(lab: Lab,
                                                              sim: Simulator) -> None:
    session = lab.sign_in(sim, collect=False)
    pending = _park(sim, session, session.events_href, timeout=30)
    start = time.monotonic()
    sim.stop()
    assert time.monotonic() - start < 5
    answer = pending.result()
    assert answer.status_code == 503
    assert reason_of(answer).code == "ServiceUnavailable"


@pytest.mark.parametrize(("params", "bad"), [
    ({"ack": "one"}, "ack"),
    ({"ack": "1.5"}, "ack"),
    ({"timeout": "soon"}, "ack"),
    ({"timeout": "nan"}, "timeout"),
    ({"timeout": "inf"}, "timeout"),
    ({"low": "nan"}, "low"),
    ({"medium": "-inf"}, "medium"),
])
def test_bad_event_query_parameters_get_400(lab: Lab, shared_sim: Simulator,
                                            params: dict[str, str], bad: str) -> None:
    session = lab.sign_in(shared_sim, collect=False)
    href = session.events_href.split("?")[0]
    response = session.get(with_params(href, **params), timeout=3)
    assert response.status_code == 400
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == ("BadRequest", "ParameterValidationFailure")
    assert bad in reason.parameters


def test_xml_events_need_the_ucwa_xml_accept(lab: Lab, sim: Simulator) -> None:
    session = lab.sign_in(sim, fmt="xml", collect=False)
    first = _park(sim, session, session.events_href)
    _add_call(session, "op-xml")
    response = first.result()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.microsoft.com.ucwa+xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b"<events " in response.content
    assert b'<started rel="phoneAudioInvitation"' in response.content
    batch = body_of(response)
    assert isinstance(batch, Events)
    started = next(e for _, e in batch.all_events() if e.type == "started")
    assert started.resource is not None
    assert started.resource.get("operationId") == "op-xml"
    assert started.resource.get("state") == "Connecting"


def _faithful(lab: Lab) -> Simulator:
    """The default scenario's server settings: the event channel bounds of real servers."""
    return lab.start(scenario_from_dict(default_scenario_dict(), name="faithful"))


@pytest.mark.parametrize(("params", "bad"), [
    # events_ref, timeout: "The minimum possible value is 180 seconds and the maximum
    # possible value is 1800 seconds."
    ({"timeout": "179"}, "timeout"),
    ({"timeout": "1"}, "timeout"),
    ({"timeout": "1801"}, "timeout"),
    # medium: "The minimum possible value is 5 seconds and the maximum possible value is
    # 1800 seconds." low: the same.
    ({"medium": "4"}, "medium"),
    ({"low": "1"}, "low"),
    ({"low": "1801"}, "low"),
])
def test_event_channel_bounds_are_the_pages_by_default(lab: Lab, params: dict[str, str],
                                                        bad: str) -> None:
    session = lab.sign_in(_faithful(lab), collect=False)
    response = session.get(with_params(session.events_href, **params), timeout=3)
    assert response.status_code == 400
    reason = reason_of(response)
    assert (reason.code, reason.subcode) == ("BadRequest", "ParameterValidationFailure")
    assert bad in reason.parameters
    assert "180" in reason.parameters[bad] or "5" in reason.parameters[bad]


def test_the_lowest_documented_values_are_accepted(lab: Lab) -> None:
    # timeout "The default value is 180 seconds"; 180 and medium=low=5 park the poll.
    sim = _faithful(lab)
    session = lab.sign_in(sim, collect=False)
    pending = _park(sim, session, session.events_href, timeout=180, medium=5, low=5)
    assert sim.scenario.server.min_poll_timeout == 180
    assert sim.scenario.server.min_poll_aggregation == 5
    # Deleting the application releases the parked poll at once.
    assert session.client.delete(session.app_href).status_code == 204
    assert pending.result().status_code == 404


def test_event_parameters_are_remembered_until_changed(lab: Lab, sim: Simulator) -> None:
    # EventChannelDetails: "they are remembered by the server and will take effect for the
    # next P-GET until the client changes them again."
    session = lab.sign_in(sim, collect=False)
    first = events_of(_poll(session, session.events_href, timeout=0.3))
    next_href = first.href("next")
    assert next_href is not None
    start = time.monotonic()
    response = session.get(next_href, timeout=10)  # no timeout parameter: 0.3 s, not 180
    assert response.status_code == 200
    assert time.monotonic() - start < 5
