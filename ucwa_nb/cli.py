"""The ``ucwa-nb`` command: ``serve`` (the simulator, ``ucwa_nb/sim/cli.py``), ``explain``
(the doctor, ``ucwa_nb/doctor/cli.py``), ``scenario-from-har`` (a recording made a
scenario, ``ucwa_nb/record/cli.py``) and ``preflight`` (a read-only look at a real server,
``ucwa_nb/client/preflight_cli.py``).

Here, above every layer, because the simulator may not import the log that reading a HAR
needs; ``ucwa-nb serve`` is handed to the simulator's own ``main`` unchanged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ucwa_nb._version import __version__
from ucwa_nb.client import preflight_cli
from ucwa_nb.doctor import cli as doctor_cli
from ucwa_nb.record import cli as record_cli
from ucwa_nb.sim import cli as sim_cli

__all__ = ["main"]

# Commands with a parser of their own: everything after the name is theirs (name: run, help).
_OWN_PARSERS = {
    "preflight": (preflight_cli.main, "a read-only look at a real UCWA server "
                                      "(ucwa-nb preflight -h)"),
    "scenario-from-har": (record_cli.main, "turn a HAR recording of a real server into a "
                                           "scenario (ucwa-nb scenario-from-har --help)"),
}


def _add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor_cli.add_parser(commands)
    for name, (_, help_text) in _OWN_PARSERS.items():
        # Listed for --help only: main() hands the arguments to the command's own parser.
        commands.add_parser(name, add_help=False, help=help_text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ucwa-nb`` with ``argv`` (default: the command line); the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in _OWN_PARSERS:
        run, _ = _OWN_PARSERS[argv[0]]
        return run(argv[1:])
    parser = sim_cli.parser(_add_commands)
    parser.add_argument("--version", action="version", version=f"ucwa-nb {__version__}")
    args = parser.parse_args(argv)
    if args.command == "explain":
        return doctor_cli.run(args.har, args.json)
    return sim_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
