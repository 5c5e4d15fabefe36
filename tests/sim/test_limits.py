"""Issue 25: the limits that protect a class from one attendee do not stop the class itself.
A class signs in through one address (a hub's); one attendee's flood from that address is
still stopped, and cannot lock the others out. Bounded: about a hundred requests."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from support import Lab, client_from, fast_scenario_dict, password_form, wait_until

from ucwa_nb import Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.guard import ConnectionGuard
from ucwa_nb.sim.limits import SignInLimits
from ucwa_nb.sim.scenario import ServerSettings
from ucwa_nb.sim.scenario_loader import scenario_from_dict

HUB = "127.0.0.9"  # every attendee's address, as on a hub
CLASS = 60


def _class(server: dict[str, Any] | None = None) -> Simulator:
    data = fast_scenario_dict(server)
    data["classroom"] = {"attendees": CLASS, "password_seed": "a class secret, 16+ chars"}
    return Simulator(scenario_from_dict(data))


def test_a_class_behind_one_address_signs_in_and_one_attendees_flood_is_stopped(
        lab: Lab) -> None:
    sim = _class()
    lab.sims.append(sim)
    attendees = [u for u in sim.scenario.users if u.username.startswith("attendee")]
    assert len(attendees) == CLASS
    with client_from(HUB, sim.base_url) as hub:
        codes = [hub.post(paths.TOKEN, data=password_form(u.username, u.password)).status_code
                 for u in attendees]
        assert codes == [200] * CLASS, codes
        # One attendee signing in again and again: stopped at their account's burst ...
        flooder = attendees[0]
        burst = sim.scenario.server.signin_burst_per_account
        flood = [hub.post(paths.TOKEN, data=password_form(flooder.username, flooder.password)
                          ).status_code for _ in range(burst)]
        assert flood == [200] * (burst - 1) + [429], flood
        # ... spraying guesses over unknown accounts: stopped at the address's failures ...
        spray = [hub.post(paths.TOKEN, data=password_form(f"nobody{n}@contoso.com", "guess")
                          ).status_code for n in range(70)]
        assert spray == [400] * 60 + [429] * 10, spray
        # ... and the class, already signed in from there, still signs in.
        others = [hub.post(paths.TOKEN, data=password_form(u.username, u.password)).status_code
                  for u in attendees[1:11]]
        assert others == [200] * 10, others


def test_a_spraying_address_does_not_stop_another(lab: Lab) -> None:
    sim = _class({"signin_failures_per_address": 5})
    lab.sims.append(sim)
    newcomer = sim.scenario.users[-1]
    with client_from(HUB, sim.base_url) as hub:
        assert [hub.post(paths.TOKEN, data=password_form(f"x{n}@contoso.com", "guess")).status_code
                for n in range(6)] == [400] * 5 + [429]
        # From the spraying address an account that never signed in there waits too.
        assert hub.post(paths.TOKEN, data=password_form(newcomer.username, newcomer.password)
                        ).status_code == 429
    with client_from("127.0.0.10", sim.base_url) as elsewhere:
        assert elsewhere.post(paths.TOKEN, data=password_form(newcomer.username, newcomer.password)
                              ).status_code == 200


@pytest.mark.slow  # over 1.5 s: the full run has it, the inner loop does not
def test_the_connection_cap_grows_with_the_accounts_signed_in_through_an_address(
        lab: Lab) -> None:
    sim = _class({"max_connections_per_address": 4, "max_connections_per_account": 2})
    lab.sims.append(sim)

    def hold(count: int) -> list[socket.socket]:
        return [socket.create_connection(("127.0.0.1", sim.port), timeout=5,
                                         source_address=(HUB, 0)) for _ in range(count)]

    def refused(sock: socket.socket) -> bool:
        sock.settimeout(2.0)
        try:
            return sock.recv(64).startswith(b"HTTP/1.1 503")
        except TimeoutError:
            return False

    with client_from(HUB, sim.base_url) as hub:
        for user in sim.scenario.users[:3]:  # 3 accounts: a cap of 6
            assert hub.post(paths.TOKEN, data=password_form(user.username, user.password)
                            ).status_code == 200
    wait_until(lambda: sim.connection_stats()["by_address"].get(HUB, 0) == 0, 5.0,
               what="the sign-in connection to close")
    held = hold(6)
    try:
        wait_until(lambda: sim.connection_stats()["by_address"].get(HUB) == 6, 5.0,
                   what="six connections held")
        [extra] = hold(1)
        assert refused(extra)
        extra.close()
        assert not any(refused(sock) for sock in held[:1])
    finally:
        for sock in held:
            sock.close()


def test_the_cap_is_the_larger_of_the_address_cap_and_the_accounts_share() -> None:
    settings = ServerSettings(max_connections_per_address=256, max_connections_per_account=4)
    clock = [0.0]
    limits = SignInLimits(settings, now=lambda: clock[0])
    guard = ConnectionGuard(settings, accounts_at=limits.accounts_via)
    assert guard.cap("10.0.0.1") == 256
    for n in range(200):
        limits.succeeded(f"10.1.{n}.1", f"attendee{n}", peer="10.0.0.1")
    assert guard.cap("10.0.0.1") == 800
    assert guard.cap("10.0.0.2") == 256
    clock[0] = settings.token_lifetime + 1.0  # the sign-ins are old: the cap shrinks back
    limits.sweep()
    assert guard.cap("10.0.0.1") == 256
    assert ConnectionGuard(ServerSettings(max_connections_per_address=0)).cap("x") == 0
