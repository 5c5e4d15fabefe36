"""The ``ucwa-nb`` command: ``ucwa-nb serve`` runs the simulator in the foreground."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ucwa_nb.sim import paths
from ucwa_nb.sim.scenario import Scenario, ScenarioError
from ucwa_nb.sim.server import Simulator, SimulatorError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ucwa-nb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the UCWA simulator in the foreground (Ctrl-C stops it)",
        description="Run the UCWA simulator for curl, Postman, notebooks or a whole class.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for a class)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = free)")
    serve.add_argument("--scenario", metavar="FILE",
                       help="a scenario TOML file (default: the built-in demo scenario)")
    return parser


def _describe(sim: Simulator) -> str:
    lines = [f"UCWA simulator ({sim.scenario.name} scenario)",
             f"  autodiscover root: {sim.url}",
             f"  token endpoint:    {sim.base_url}{paths.TOKEN}",
             "  accounts:"]
    users = sim.scenario.users
    for user in users[:20]:
        phone = f"  {user.phone}" if user.phone else ""
        lines.append(f"    {user.username:<28} password {user.password:<18}{phone}")
    if len(users) > 20:
        lines.append(f"    ... and {len(users) - 20} more (see the scenario file)")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def serve(host: str, port: int, scenario_file: str | None) -> int:
    try:
        scenario = Scenario.from_toml(scenario_file) if scenario_file else Scenario.default()
        sim = Simulator(scenario, host=host, port=port, start=False)
        sim.serve_forever(on_ready=lambda: print(_describe(sim), flush=True))
    except (ScenarioError, SimulatorError, OSError) as exc:
        print(f"ucwa-nb serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    print("Simulator stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port, args.scenario)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
