"""``ucwa-nb scenario-from-har RECORDING.har -o SCENARIO.toml``: a recording as a scenario.

Registered in the ``ucwa-nb`` dispatcher (``ucwa_nb/sim/cli.py``), which hands it the
arguments after the command's name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ucwa_nb.record.convert import REPLAY_PASSWORD, scenario_from_har, write_scenario
from ucwa_nb.record.recording import RecordingError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ucwa-nb scenario-from-har",
        description="Turn a HAR recording of a UCWA session (ucwa-nb's export, a browser's "
                    "or Fiddler's) into a scenario the simulator serves.")
    parser.add_argument("har", help="the recording (HAR 1.2)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the scenario TOML file to write")
    parser.add_argument("--strict", action="store_true",
                        help="also serve, verbatim, the resources and links the model does "
                             "not cover")
    parser.add_argument("--name", help="the scenario's name (default: from the server)")
    parser.add_argument("--password", default=REPLAY_PASSWORD,
                        help=f"the replayed user's password (default {REPLAY_PASSWORD}; a "
                             "recording never holds the real one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; 0 when the scenario was written, 2 on bad input (the message says
    what is missing)."""
    args = _parser().parse_args(argv)
    try:
        data = scenario_from_har(args.har, strict=args.strict, name=args.name,
                                 password=args.password)
        path = write_scenario(data, args.output)
    except (RecordingError, OSError) as exc:
        print(f"ucwa-nb scenario-from-har: {exc}", file=sys.stderr)
        return 2
    user = data["users"][0]
    print(f"wrote {path}: {user['uri']} with {len(user['conversations'])} conversations, "
          f"{len(user['conversation_logs'])} conversation logs, {len(data['contacts'])} "
          f"contacts; server settings: {', '.join(sorted(data['server'])) or 'none seen'}"
          + (f"; strict: {len(data['strict']['resources'])} resources, "
             f"{len(data['strict']['links'])} links" if "strict" in data else ""))
    for note in data.get("_notes", []):
        print(f"  note: {note}")
    print(f"serve it: ucwa-nb serve --scenario {path}  (sign in as {user['uri']} with "
          f"password {args.password!r})")
    return 0
