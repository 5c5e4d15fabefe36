"""``ucwa-nb serve``'s banner: the addresses it prints are ones others can connect to."""

from __future__ import annotations

from ucwa_nb.sim import cli, scenarios
from ucwa_nb.sim.server import Simulator


def test_a_named_host_is_printed_as_it_is() -> None:
    assert cli.reachable_hosts("127.0.0.1") == ["127.0.0.1"]
    assert cli.reachable_hosts("class.example") == ["class.example"]


def test_a_wildcard_address_is_never_printed() -> None:
    hosts = cli.reachable_hosts("0.0.0.0")
    assert hosts
    assert not {"0.0.0.0", "::", ""} & set(hosts)
    assert not any(host.startswith(("localhost", "127.")) for host in hosts[1:])


def test_the_banner_for_a_class_names_this_machine_not_0_0_0_0() -> None:
    sim = Simulator(scenarios.default(), host="0.0.0.0", port=0, start=False)
    banner = cli._describe(sim, show_passwords=False, passwords_file=None)
    assert "//0.0.0.0" not in banner
    first = cli.reachable_hosts("0.0.0.0")[0]
    assert f"autodiscover root: http://{first}:" in banner
    assert "every address of this machine (0.0.0.0)" in banner
