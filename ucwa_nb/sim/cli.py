"""``ucwa-nb serve``: the simulator in the foreground (the other commands of ``ucwa-nb`` are
added by the dispatcher, ``ucwa_nb/cli.py``)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ucwa_nb.sim import paths, scenarios
from ucwa_nb.sim.cross_domain import normal_origin
from ucwa_nb.sim.scenario import Scenario, ScenarioError
from ucwa_nb.sim.scenario_loader import scenario_from_toml
from ucwa_nb.sim.server import Simulator, SimulatorError
from ucwa_nb.sim.trainer import TrainerGate

__all__ = ["main", "parser", "with_allowed_origins"]

AddCommands = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


# What --help says above the commands: plain text (the module's docstring is reST for
# developers, and argparse prints it as it is).
DESCRIPTION = ("Explore UCWA phone-audio calls: run the simulator, explain a HAR file's "
               "failures, look at a real server, turn a recording into a scenario.")


def parser(add_commands: AddCommands | None = None) -> argparse.ArgumentParser:
    """The ``ucwa-nb`` parser with ``serve``; ``add_commands`` adds the commands of other
    layers (``ucwa_nb/cli.py`` adds ``explain``), which the simulator does not import."""
    parser = argparse.ArgumentParser(prog="ucwa-nb", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    if add_commands is not None:
        add_commands(commands)
    serve = commands.add_parser(
        "serve", help="run the UCWA simulator in the foreground (Ctrl-C stops it)",
        description="Run the UCWA simulator for curl, Postman, notebooks or a whole class.")
    serve.add_argument("--host", default=None,
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for a class; "
                            "with --jupyterhub, the service URL's host unless given, e.g. "
                            "0.0.0.0 in a pod of its own)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = free)")
    serve.add_argument("--scenario", metavar="FILE",
                       help="a scenario TOML file (default: the built-in demo scenario)")
    serve.add_argument("--passwords-file", metavar="FILE",
                       help="write every account and its password to FILE (readable by you "
                            "only), for the trainer to hand out")
    serve.add_argument("--prefix", metavar="PATH",
                       help="serve under this path prefix, as behind a reverse proxy that "
                            "forwards it (e.g. /services/ucwa-nb/); default: the scenario's "
                            "[server] root_path")
    serve.add_argument("--jupyterhub", action="store_true",
                       help="run as a JupyterHub service: address and prefix from "
                            "JUPYTERHUB_SERVICE_URL and JUPYTERHUB_SERVICE_PREFIX, the "
                            "trainer's view behind the hub's login (docs/classroom.md)")
    serve.add_argument("--trainer-group", default=None, metavar="GROUP",
                       help="with --jupyterhub: the hub group that sees the trainer's view "
                            "(default ucwa-nb-trainers)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="let web pages of ORIGIN (scheme://host[:port]) use the "
                            "cross-domain frame: the web application allow list, added to "
                            "the scenario's [server] allowed_origins (repeatable)")
    serve.add_argument("--forwarded-allow-ips", default=None, metavar="ADDRESSES",
                       help="the proxies (IP addresses or networks, comma-separated) whose "
                            "X-Forwarded-For names the client that the sign-in limits and "
                            "connection caps count; default none: every client is the "
                            "address it connects from (docs/classroom.md)")
    serve.add_argument("--show-passwords", action="store_true",
                       help="print the passwords in the banner (not on a projected screen)")
    return parser


# The name tests/sim/test_prefix.py knows the parser by.
_parser = parser


_WILDCARDS = {"", "0.0.0.0", "::"}


def reachable_hosts(host: str) -> list[str]:
    """The names others reach a server listening on ``host`` by: ``host`` itself, except
    for a wildcard address (0.0.0.0, ::), which nobody can connect to: then this machine's
    name and its outward address (the one a route to the outside would leave from; a UDP
    socket's connect sends nothing)."""
    if host not in _WILDCARDS:
        return [host]
    found: list[str] = []
    for name in (socket.getfqdn(), socket.gethostname()):
        if name and not name.startswith("localhost") and name not in found:
            found.append(name)
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routed like the outside, never reached
        address = probe.getsockname()[0]
        if not address.startswith("127."):
            found.append(address)
    return found or [socket.gethostname()]


def _urls(sim: Simulator, path: str) -> str:
    """``path`` on the simulator, by every name others can reach it by."""
    hosts = reachable_hosts(sim.host)
    urls = [f"http://{f'[{h}]' if ':' in h else h}:{sim.port}{sim.root_path}{path}"
            for h in hosts]
    if len(urls) == 1:
        return urls[0]
    return f"{urls[0]}\n{'':21}(or {', '.join(urls[1:])})"


def _describe(sim: Simulator, show_passwords: bool, passwords_file: str | None) -> str:
    allowed = ", ".join(sim.scenario.server.allowed_origins) or "none"
    lines = [f"UCWA simulator ({sim.scenario.name} scenario)",
             f"  autodiscover root: {_urls(sim, paths.ROOT)}",
             f"  token endpoint:    {_urls(sim, paths.TOKEN)}",
             f"  xframe:            {_urls(sim, paths.XFRAME)} "
             f"(pages of other origins allowed: {allowed})"]
    if sim.host in _WILDCARDS:
        lines.append(f"  listening on:      every address of this machine ({sim.host or '*'}),"
                     " port " + str(sim.port))
    if sim.scenario.trainer is not None:
        lines.append(f"  trainer's view:    {_urls(sim, paths.TEMPLATES['activity'])} "
                     f"(as {sim.scenario.trainer.username})")
    if sim.trusted_proxies:
        lines.append(f"  X-Forwarded-For believed from: {sim.trusted_proxies}")
    if sim.scenario.hub_users is not None:
        lines.append(f"  hub users:         <hub name>@{sim.scenario.hub_users.domain}, with the "
                     "password the hub hands to their server")
    lines.append("  accounts:")
    users = sim.scenario.users
    for user in users[:20]:
        phone = f"  {user.phone}" if user.phone else ""
        password = f"password {user.password:<18}" if show_passwords else ""
        lines.append(f"    {user.username:<28} {password}{phone}")
    if len(users) > 20:
        lines.append(f"    ... and {len(users) - 20} more")
    if passwords_file:
        lines.append(f"  passwords written to {passwords_file}")
    elif not show_passwords:
        lines.append("  passwords: --passwords-file FILE or --show-passwords")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def write_passwords(scenario: Scenario, path: str) -> None:
    """Every account and its password, one per line, in a file only its owner can read."""
    text = "".join(f"{user.username}\t{user.password}\n" for user in scenario.users)
    target = Path(path)
    target.unlink(missing_ok=True)  # a file someone else could already read is not reused
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def hub_service(environ: Mapping[str, str], group: str | None) -> dict[str, Any]:
    """Simulator settings for a JupyterHub service, from what the hub puts in its
    environment: where to listen, the prefix the proxy forwards, the hub's OAuth gate."""
    from ucwa_nb.sim.hub import TRAINER_GROUP, HubTrainerGate, hub_oauth

    url = urlsplit(environ.get("JUPYTERHUB_SERVICE_URL", ""))
    if not url.hostname or not url.port:
        raise SimulatorError("--jupyterhub: JUPYTERHUB_SERVICE_URL (host and port) is not "
                             "set; give the service a url in jupyterhub_config.py")
    return {"host": url.hostname, "port": url.port,
            "prefix": environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
            "trainer_gate": HubTrainerGate(hub_oauth(), group or TRAINER_GROUP),
            "hub_domain": environ.get("UCWA_NB_DOMAIN") or "contoso.com"}


def serve(host: str, port: int, scenario_file: str | None, *,
          passwords_file: str | None = None, show_passwords: bool = False,
          prefix: str | None = None, trainer_gate: TrainerGate | None = None,
          hub_domain: str | None = None, allow_origins: Sequence[str] = (),
          forwarded_allow_ips: str | None = None) -> int:
    """Run the simulator until Ctrl-C; ``hub_domain``: run as a JupyterHub service whose
    users sign in to that domain (the default scenario unless ``scenario_file``);
    ``allow_origins``: web page origins added to the allow list; ``forwarded_allow_ips``:
    the proxies whose X-Forwarded-For is believed."""
    try:
        scenario = with_allowed_origins(scenario_to_serve(scenario_file, hub_domain),
                                        allow_origins)
        if passwords_file:
            write_passwords(scenario, passwords_file)
        sim = Simulator(scenario, host=host, port=port, start=False, root_path=prefix,
                        trainer_gate=trainer_gate, forwarded_allow_ips=forwarded_allow_ips)
        sim.serve_forever(on_ready=lambda: print(
            _describe(sim, show_passwords, passwords_file), flush=True))
    except (ScenarioError, SimulatorError, OSError, ValueError) as exc:
        print(f"ucwa-nb serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    print("Simulator stopped.", flush=True)
    return 0


def with_allowed_origins(scenario: Scenario, origins: Sequence[str]) -> Scenario:
    """``scenario`` with ``origins`` (``--allow-origin``) added to its web application allow
    list; a value that is no origin is a ``ScenarioError`` naming it."""
    added = []
    for value in origins:
        origin = normal_origin(value)
        if origin is None:
            raise ScenarioError(f"--allow-origin {value!r}: not an http(s) origin "
                                "(scheme://host[:port], no path)")
        added.append(origin)
    if not added:
        return scenario
    allowed = tuple(dict.fromkeys([*scenario.server.allowed_origins, *added]))
    return dataclasses.replace(scenario, server=dataclasses.replace(
        scenario.server, allowed_origins=allowed))


def scenario_to_serve(scenario_file: str | None, hub_domain: str | None) -> Scenario:
    """The scenario file's, else the default; on a hub (``hub_domain``), one that lets the
    hub's users in."""
    if hub_domain is None:
        return scenario_from_toml(scenario_file) if scenario_file else scenarios.default()
    if not scenario_file:
        return scenarios.for_jupyterhub(hub_domain)
    scenario = scenario_from_toml(scenario_file)
    # The hub hands every user's server a password derived from the seed
    # (docs/jupyterhub_config.py): without hub_users nobody could sign in with it.
    if scenario.hub_users is None:
        raise ScenarioError(f"{scenario_file}: --jupyterhub needs [classroom] hub_users = true "
                            "and password_seed_env (docs/classroom.md)")
    return scenario


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        where: dict[str, Any] = {"host": args.host or "127.0.0.1", "port": args.port,
                                 "prefix": args.prefix}
        if args.jupyterhub:
            try:
                where = hub_service(os.environ, args.trainer_group)
                if args.host:  # a shard in a pod of its own listens on every interface
                    where["host"] = args.host
            except (SimulatorError, ImportError) as exc:
                print(f"ucwa-nb serve: {exc}", file=sys.stderr)
                return 2
        return serve(where["host"], where["port"], args.scenario,
                     passwords_file=args.passwords_file, show_passwords=args.show_passwords,
                     prefix=where["prefix"], trainer_gate=where.get("trainer_gate"),
                     hub_domain=where.get("hub_domain"), allow_origins=args.allow_origin,
                     forwarded_allow_ips=args.forwarded_allow_ips)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
