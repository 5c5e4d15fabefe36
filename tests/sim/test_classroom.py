"""A shared classroom simulator that one attendee cannot break, spy on or take over (issue 13):
the trainer's page, classroom passwords, sign-in limits, expired tokens, connection limits and
per-user bounds. The attacker's traffic comes from 127.0.0.2 (loopback too) so that limits per
client address can tell it from everyone else's on 127.0.0.1."""

from __future__ import annotations

import html
import os
import socket
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import Lab, client_from, fast_scenario_dict, password_form
from support.ucwa_http import reason_of, request_token, with_params

from ucwa_nb import Scenario, Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.cli import write_passwords
from ucwa_nb.sim.rules.world import World
from ucwa_nb.sim.scenario_loader import scenario_from_dict

JOHN = "sip:john@contoso.com"
ATTACKER = "127.0.0.2"
TRAINER = {"username": "trainer", "password": "trainer-secret-42"}


def _scenario(server: dict[str, Any] | None = None, **extra: Any) -> Scenario:
    data = fast_scenario_dict(server)
    data.update(extra)
    return scenario_from_dict(data)


# ------------------------------------------------------------------ isolation


def test_activity_needs_the_trainers_credentials(lab: Lab) -> None:
    sim = lab.start(_scenario(trainer=TRAINER))
    alice = lab.sign_in(sim)
    assert alice.add_phone_audio("Project sync", {"operationId": "a", "to": JOHN}
                                 ).status_code == 201
    url = sim.base_url + paths.TEMPLATES["activity"]
    anonymous = httpx.get(url, timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")
    assert "sip:alice" not in anonymous.text
    # An attendee's own bearer token is no trainer's credential either.
    assert httpx.get(url, headers=alice.client.headers, timeout=5).status_code == 401
    assert httpx.get(url, auth=("trainer", "wrong"), timeout=5).status_code == 401
    answer = httpx.get(url, auth=(TRAINER["username"], TRAINER["password"]), timeout=5)
    assert answer.status_code == 200
    assert [row["operation_id"] for row in answer.json()] == ["a"]
    assert answer.json() == sim.activity()


def test_a_browser_gets_the_activity_as_a_table_no_attendee_can_write_into(lab: Lab) -> None:
    sim = lab.start(_scenario(trainer=TRAINER))
    alice = lab.sign_in(sim)
    mischief = '<script>alert("x")</script>'
    assert alice.add_phone_audio("Project sync", {"operationId": mischief, "to": JOHN}
                                 ).status_code == 201
    url = sim.base_url + paths.TEMPLATES["activity"]
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = httpx.get(url, headers=browser, auth=(TRAINER["username"], TRAINER["password"]),
                     timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["vary"] == "Accept"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<td>sip:alice@contoso.com</td>" in page.text
    assert "<script>" not in page.text
    assert html.escape(mischief) in page.text
    assert "<p>1 call;" in page.text
    # Scripts and curl (*/*) keep the JSON.
    curl = httpx.get(url, headers={"Accept": "*/*"},
                     auth=(TRAINER["username"], TRAINER["password"]), timeout=5)
    assert curl.headers["content-type"] == "application/json"
    assert [row["operation_id"] for row in curl.json()] == [mischief]


def _unframeable(answer: httpx.Response) -> bool:
    policy = answer.headers.get("content-security-policy", "")
    return "frame-ancestors 'none'" in policy and answer.headers.get("x-frame-options") == "DENY"


def test_no_other_site_can_frame_the_trainers_page(lab: Lab) -> None:
    # Attack 2.5 of issue 25: a page that frames the activity could overlay it (clickjacking).
    sim = lab.start(_scenario(trainer=TRAINER))
    url = sim.base_url + paths.TEMPLATES["activity"]
    trainer = (TRAINER["username"], TRAINER["password"])
    page = httpx.get(url, headers={"Accept": "text/html"}, auth=trainer, timeout=5)
    assert page.status_code == 200
    assert _unframeable(page)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    as_json = httpx.get(url, auth=trainer, timeout=5)
    assert as_json.status_code == 200
    assert _unframeable(as_json)
    refused = httpx.get(url, headers={"Accept": "text/html"}, timeout=5)
    assert refused.status_code == 401
    assert _unframeable(refused)


def test_activity_is_closed_without_a_trainer_account(sim: Simulator) -> None:
    url = sim.base_url + paths.TEMPLATES["activity"]
    assert httpx.get(url, auth=("trainer", "anything-at-all"), timeout=5).status_code == 401
    assert sim.activity() == []  # Python keeps its view


def test_guessing_the_trainers_password_is_throttled(lab: Lab) -> None:
    sim = lab.start(_scenario({"signin_failures_per_account": 3}, trainer=TRAINER))
    url = paths.TEMPLATES["activity"]
    with client_from(ATTACKER, sim.base_url) as attacker:
        answers = [attacker.get(url, auth=("trainer", f"guess-{n}")) for n in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        # Even the right password waits now, from that address ...
        assert attacker.get(url, auth=(TRAINER["username"], TRAINER["password"])
                            ).status_code == 429
    # ... but the trainer at their own address is let in.
    assert httpx.get(sim.base_url + url, auth=(TRAINER["username"], TRAINER["password"]),
                     timeout=5).status_code == 200


def test_classroom_passwords_are_random_and_reproducible_only_from_a_seed() -> None:
    def passwords(classroom: dict[str, Any]) -> list[str]:
        scenario = scenario_from_dict({"users": [], "classroom": classroom})
        return [user.password for user in scenario.users]

    first, second = passwords({"attendees": 12}), passwords({"attendees": 12})
    assert len(set(first)) == 12
    assert set(first).isdisjoint(second)
    assert all(len(p) == 16 and "01" not in p[-2:] for p in first)
    seeded = {"attendees": 12, "password_seed": "trainer-keeps-this-secret"}
    assert passwords(seeded) == passwords(seeded)
    assert len(set(passwords(seeded))) == 12
    with pytest.raises(ValueError, match="password_seed"):
        passwords({"attendees": 2, "password_seed": "short"})
    with pytest.raises(ValueError, match="password_prefix"):
        passwords({"attendees": 2, "password_prefix": "class-"})


def test_the_passwords_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    scenario = scenario_from_dict({"users": [], "classroom": {"attendees": 3}})
    path = tmp_path / "passwords.tsv"
    path.write_text("stale, world-readable\n")
    os.chmod(path, 0o644)
    write_passwords(scenario, str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines == [f"{u.username}\t{u.password}" for u in scenario.users]


def test_another_attendees_password_cannot_be_guessed_and_they_still_sign_in(
        lab: Lab) -> None:
    sim = lab.start(_scenario(classroom={"attendees": 2}))
    victim = sim.scenario.user("attendee02@contoso.com")
    assert victim is not None
    token_url = paths.TOKEN
    with client_from(ATTACKER, sim.base_url) as attacker:
        answers = [attacker.post(token_url, data=password_form(victim.username, f"class-{n:02d}"))
                   for n in range(15)]
    codes = [a.status_code for a in answers]
    assert codes[:10] == [400] * 10, codes
    assert codes[10:] == [429] * 5, codes
    refused = answers[-1]
    assert refused.json() == {"error": "invalid_grant"}
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["cache-control"] == "no-store"
    # The attendee, from their own address, is not locked out of their own account.
    assert request_token(sim, victim.username, victim.password).startswith("cwt=")


def test_a_sign_in_flood_is_throttled_per_account(lab: Lab) -> None:
    sim = lab.start(_scenario({"signin_burst_per_account": 20, "signin_rate_per_account": 1.0}))
    with client_from(ATTACKER, sim.base_url) as attacker:
        codes = [attacker.post(paths.TOKEN, data=password_form("alice@contoso.com", "ucwa-demo")
                               ).status_code for _ in range(30)]
        assert codes.count(200) == 20, codes
        assert codes[20:] == [429] * 10, codes
        # Another account from the same address (a class behind one hub address) is not.
        assert attacker.post(paths.TOKEN, data=password_form("bob@contoso.com", "ucwa-demo-bob")
                             ).status_code == 200
    assert request_token(sim, "bob@contoso.com", "ucwa-demo-bob").startswith("cwt=")


def test_large_token_bodies_are_refused_before_they_are_parsed(sim: Simulator) -> None:
    body = "grant_type=password&username=alice&password=" + "x" * (1024 * 1024 - 100)
    started = time.perf_counter()
    answer = httpx.post(sim.base_url + paths.TOKEN, content=body, timeout=10, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert time.perf_counter() - started < 0.2


def test_expired_tokens_are_purged_and_each_user_holds_a_bounded_number() -> None:
    clock = [0.0]
    scenario = _scenario({"token_lifetime": 100, "max_tokens_per_user": 5})
    world = World(scenario, now=lambda: clock[0])
    tokens = [world.issue_token("alice@contoso.com", "ucwa-demo") for _ in range(8)]
    assert all(t is not None for t in tokens)
    assert len(world.tokens) == 5  # the three oldest sign-ins were signed out
    assert world.authenticate(f"Bearer {tokens[0].value}") is None  # type: ignore[union-attr]
    clock[0] = 50.0
    world.issue_token("bob@contoso.com", "ucwa-demo-bob")
    clock[0] = 101.0
    assert world.purge_expired_tokens() == 5
    assert len(world.tokens) == 1
    assert world.users["alice@contoso.com"].tokens == []


# ------------------------------------------------------------------ connections


def _connect(sim: Simulator, address: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", sim.port), timeout=5,
                                    source_address=(address, 0))
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sent before closing the connection, which it must do in time."""
    sock.settimeout(seconds)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_idle_half_header_and_trickled_bodies_are_closed(lab: Lab) -> None:
    sim = lab.start(header_timeout=0.5, request_timeout=1.0)
    idle = _connect(sim)
    half = _connect(sim)
    half.sendall(b"GET /autodiscover/autodiscoverservice.svc/root HTTP/1.1\r\nHo")
    trickle = _connect(sim)
    trickle.sendall(b"POST " + paths.TOKEN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n"
                    b"Content-Length: 100\r\n\r\ngrant_type=")
    started = time.monotonic()
    for _ in range(3):
        trickle.sendall(b"p")
        time.sleep(0.3)
    assert _closed_within(idle, 2.0).startswith(b"HTTP/1.1 408")
    assert _closed_within(half, 2.0).startswith(b"HTTP/1.1 408")
    assert _closed_within(trickle, 2.0).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 3.0
    stats = sim.connection_stats()
    assert stats["idle"] >= 1, stats
    assert stats["slow"] == 2, stats
    for sock in (idle, half, trickle):
        sock.close()
    # A well-behaved client is served as before.
    assert httpx.get(sim.url, timeout=5).status_code == 200


def test_connections_are_capped_per_address_and_others_are_still_served(lab: Lab) -> None:
    sim = lab.start(max_connections_per_address=20)
    held = [_connect(sim, ATTACKER) for _ in range(20)]
    try:
        time.sleep(0.2)
        extra = _connect(sim, ATTACKER)
        assert _closed_within(extra, 2.0).startswith(b"HTTP/1.1 503")
        extra.close()
        assert httpx.get(sim.url, timeout=5).status_code == 200
        stats = sim.connection_stats()
        assert stats["by_address"][ATTACKER] == 20, stats
        assert stats["refused"] == 1, stats
    finally:
        for sock in held:
            sock.close()


# ------------------------------------------------------------------ one user's state


def test_too_many_applications_retires_the_least_recently_used_with_410(lab: Lab) -> None:
    sim = lab.start(max_applications_per_user=3)
    first = lab.sign_in(sim, collect=False)
    others = [lab.sign_in(sim, collect=False) for _ in range(3)]
    gone = first.get(first.app_href)
    assert gone.status_code == 410
    reason = reason_of(gone)
    assert (reason.code, reason.subcode) == ("Gone", "TooManyApplications")
    assert all(o.get(o.app_href).status_code == 200 for o in others)
    # Bob's applications are his own: alice's churn retires none of them.
    bob = lab.sign_in(sim, "bob@contoso.com", collect=False)
    for _ in range(5):
        lab.sign_in(sim, collect=False)
    assert bob.get(bob.app_href).status_code == 200


def test_an_application_nobody_polls_stops_taking_events_and_expires(lab: Lab) -> None:
    sim = lab.start(max_pending_events=5)
    idle = lab.sign_in(sim, collect=False)
    other = lab.sign_in(sim)  # the same user on another device, which polls
    # One short poll, then none: the call below is accepted (a poll was released just
    # now), and its events (more than 5 of them) pile up with nobody to take them.
    assert idle.get(with_params(idle.events_href, timeout=0.2)).status_code == 200
    assert idle.add_phone_audio("Project sync", {"operationId": "c0", "to": JOHN}
                                ).status_code == 201
    idle_id = idle.app_href.rstrip("/").rsplit("/", 1)[1]

    def stopped_taking_events() -> bool:
        app = sim.world.apps.get(idle_id)
        return app is None or app.overflowed

    deadline = time.monotonic() + 10
    while not sim.call(stopped_taking_events):
        assert time.monotonic() < deadline, "the idle application kept taking events"
        time.sleep(0.05)
    pending = sim.call(lambda: [len(a.channel.pending) for a in sim.world.apps.values()])
    assert max(pending, default=0) <= 5, pending
    answer = idle.get(idle.app_href)
    assert answer.status_code == 410
    assert reason_of(answer).subcode == "InactiveApplicationExpired"
    assert other.get(other.app_href).status_code == 200


def test_calls_in_progress_and_the_call_history_are_bounded_per_user(lab: Lab) -> None:
    data = fast_scenario_dict({"max_calls_in_progress_per_user": 2,
                               "max_call_history_per_user": 3})
    data["contacts"].append({"uri": "sip:slow@contoso.com", "name": "Slow",
                             "behaviour": "never_answers"})
    data["server"]["ring_timeout"] = 1.0
    sim = lab.start(scenario_from_dict(data))
    alice = lab.sign_in(sim)
    start = alice.href(alice.communication(), "startPhoneAudio")
    assert alice.post(start, {"operationId": "s1", "to": "sip:slow@contoso.com"}
                      ).status_code == 201
    assert alice.post(start, {"operationId": "s2", "to": "sip:slow@contoso.com"}
                      ).status_code == 201
    refused = alice.post(start, {"operationId": "s3", "to": "sip:slow@contoso.com"})
    assert refused.status_code == 409
    assert reason_of(refused).subcode == "TooManyConversations"
    bob = lab.sign_in(sim, "bob@contoso.com")
    bob_start = bob.href(bob.communication(), "startPhoneAudio")
    assert bob.post(bob_start, {"operationId": "b1", "to": JOHN}).status_code == 201
    assert alice.collector is not None
    alice.collector.wait_completed("s1")
    alice.collector.wait_completed("s2")
    for n in range(4, 8):
        assert alice.post(start, {"operationId": f"s{n}", "to": JOHN}).status_code == 201
        alice.collector.wait_completed(f"s{n}")
    kept = [row["operation_id"] for row in sim.activity() if "alice" in row["user"]]
    # Counted when a call is placed: the three finished before s7, and s7.
    assert kept == ["s4", "s5", "s6", "s7"], kept
    assert sum(len(app.conversations) for app in sim.call(
        lambda: sim.world.users["alice@contoso.com"].apps.values())) < 10
