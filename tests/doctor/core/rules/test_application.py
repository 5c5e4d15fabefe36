"""Application rules on the simulator: expiry (gap compared with the expiry), the per-user
limit, reuse through endpointId."""

from __future__ import annotations

from support import MakeSession, MakeSim
from support.doctor import fired

from ucwa_nb import Session


def test_expired_application_compares_the_gap(make_sim: MakeSim,
                                              make_session: MakeSession) -> None:
    sim = make_sim(application_expiry=0.5)
    session = make_session(sim, poll_timeout=1.0)  # stop() below waits for one poll at most
    channel = session.event_channel
    assert channel is not None
    channel.stop()
    sim.call(lambda: sim.world.clock.advance(1.2))  # the application expires on the server
    session.http_client.get(session.application_url or "")
    [finding] = fired(session, "application.expired")
    assert "InactiveApplicationExpired" in finding.evidence
    assert "15 minutes" in finding.cause
    assert "sooner" in finding.cause


def test_too_many_applications(make_sim: MakeSim, make_session: MakeSession) -> None:
    sim = make_sim(max_applications_per_user=1)
    first = make_session(sim, poll_timeout=1.0)  # stop() below waits for one poll at most
    # Stopped first: its event channel would re-create the application it is about to lose
    # (and the GET below would then find the new one).
    assert first.event_channel is not None
    first.event_channel.stop()
    make_session(sim)
    first.http_client.get(first.application_url or "")
    [finding] = fired(first, "application.too-many")
    assert "TooManyApplications" in finding.evidence


def test_reused_application(session: Session) -> None:
    body = {"userAgent": "doctor-test", "endpointId": "same-endpoint", "culture": "en-US"}
    url = session.applications_url or ""
    assert session.http_client.post(url, json=body).status_code == 201
    assert session.http_client.post(url, json=body).status_code == 200
    [finding] = fired(session, "application.reused")
    assert "same-endpoint" in finding.evidence
    assert finding.severity == "warning"
