"""Issue 25, attack 1: a client cannot choose the address the limits see. X-Forwarded-For
is believed only from the proxies the operator names (sim/forwarded.py)."""

from __future__ import annotations

import pytest
from support import Lab, client_from, fast_scenario, password_form

from ucwa_nb import Simulator
from ucwa_nb.sim import paths
from ucwa_nb.sim.cli import main, parser
from ucwa_nb.sim.forwarded import TrustedProxies

BOB = ("bob@contoso.com", "ucwa-demo-bob")


def test_rotating_forwarded_addresses_do_not_escape_the_limits(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn would read this variable (its default trusts 127.0.0.1 anyway): not ours.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    sim = lab.start()
    with client_from("127.0.0.1", sim.base_url) as http:
        codes = [http.post(paths.TOKEN, data=password_form(BOB[0], f"guess-{n}"),
                           headers={"X-Forwarded-For": f"10.9.{n}.1"}).status_code
                 for n in range(15)]
    assert codes == [400] * 10 + [429] * 5, codes


def test_forged_failures_lock_out_only_the_forger(lab: Lab) -> None:
    sim = lab.start()
    with client_from("127.0.0.1", sim.base_url) as forger:
        for n in range(12):
            forger.post(paths.TOKEN, data=password_form(BOB[0], f"guess-{n}"),
                        headers={"X-Forwarded-For": "10.1.1.1"})
        assert forger.post(paths.TOKEN, data=password_form(*BOB)).status_code == 429
    with client_from("127.0.0.5", sim.base_url) as bob:  # bob elsewhere, claiming nothing
        assert bob.post(paths.TOKEN, data=password_form(*BOB),
                        headers={"X-Forwarded-For": "10.1.1.1"}).status_code == 200


def test_a_named_proxys_forwarded_address_is_believed_and_no_one_elses(lab: Lab) -> None:
    sim = Simulator(fast_scenario(), forwarded_allow_ips="127.0.0.7")
    lab.sims.append(sim)
    with client_from("127.0.0.7", sim.base_url) as proxy:
        for n in range(12):  # an attacker behind the proxy, at 10.1.1.1
            proxy.post(paths.TOKEN, data=password_form(BOB[0], f"guess-{n}"),
                       headers={"X-Forwarded-For": "10.1.1.1"})
        assert proxy.post(paths.TOKEN, data=password_form(*BOB), headers={
            "X-Forwarded-For": "10.1.1.1"}).status_code == 429
        # bob behind the same proxy, at another address; a client's own entry on the left
        # is ignored: the proxy appends the address it saw.
        assert proxy.post(paths.TOKEN, data=password_form(*BOB), headers={
            "X-Forwarded-For": "10.1.1.1, 10.2.2.2"}).status_code == 200
    # Not the proxy: its header is not believed.
    with client_from("127.0.0.8", sim.base_url) as stranger:
        for n in range(10):
            stranger.post(paths.TOKEN, data=password_form(BOB[0], f"guess-{n}"),
                          headers={"X-Forwarded-For": f"10.3.{n}.1"})
        assert stranger.post(paths.TOKEN, data=password_form(*BOB)).status_code == 429


def test_trusted_proxies_are_addresses_or_networks() -> None:
    trusted = TrustedProxies("10.0.0.0/8, 127.0.0.1")
    assert ["10.4.5.6" in trusted, "127.0.0.1" in trusted] == [True, True]
    assert ["127.0.0.2" in trusted, "not an address" in trusted] == [False, False]
    assert [bool(TrustedProxies()), bool(TrustedProxies(""))] == [False, False]
    # The right-most entry that is not a trusted proxy is the client.
    assert trusted.client("127.0.0.1", "1.1.1.1, 2.2.2.2, 10.0.0.3") == "2.2.2.2"
    assert trusted.client("127.0.0.1", "[2001:db8::1]:443") == "2001:db8::1"
    assert trusted.client("127.0.0.1", "garbage") == "127.0.0.1"
    assert trusted.client("192.0.2.1", "1.1.1.1") == "192.0.2.1"  # an untrusted peer
    with pytest.raises(ValueError, match="forwarded_allow_ips"):
        TrustedProxies("proxy.example.org")


def test_serve_takes_the_proxies_and_refuses_a_host_name(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    args = parser().parse_args(["serve", "--forwarded-allow-ips", "10.0.0.0/8,127.0.0.1"])
    assert args.forwarded_allow_ips == "10.0.0.0/8,127.0.0.1"
    assert main(["serve", "--port", "0", "--forwarded-allow-ips", "proxy.example.org"]) == 2
    assert "is not an IP address or network" in capsys.readouterr().err
