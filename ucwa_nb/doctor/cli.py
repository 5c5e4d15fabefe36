"""``ucwa-nb explain FILE.har``: the doctor on the command line.

Prints the findings as text (or JSON with ``--json``); exit status 0 when there is nothing
to explain, 1 when there are findings, 2 when the file cannot be read (the message says why,
never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``explain`` subcommand to ``ucwa-nb``'s parser."""
    explain = commands.add_parser(
        "explain", help="explain the failures in a HAR file (ucwa-nb's, a browser's, "
                        "Fiddler's)",
        description="Read a HAR file and say why calls failed, in UCWA's terms: each finding "
                    "with the rows, the cause, what to do and the reference page.")
    explain.add_argument("har", metavar="FILE.har", help="the HAR file to read")
    explain.add_argument("--json", action="store_true", help="print the findings as JSON")


def run(path: str, as_json: bool = False) -> int:
    """Explain one HAR file on stdout; the exit status (0 clean, 1 findings, 2 unreadable)."""
    # Imported here: `ucwa-nb serve` must not pay for pandas and the log.
    from ucwa_nb.doctor.explain import explain
    from ucwa_nb.doctor.sources import ExplainError

    try:
        diagnosis = explain(path)
    except ExplainError as exc:
        print(f"ucwa-nb explain: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps({"summary": diagnosis.summary(),
                          "findings": [f.as_dict() for f in diagnosis]}, indent=1))
    else:
        print(diagnosis)
    return 1 if diagnosis else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ucwa_nb.doctor.cli FILE.har``, the same as ``ucwa-nb explain``."""
    parser = argparse.ArgumentParser(prog="ucwa-nb explain")
    parser.add_argument("har", metavar="FILE.har")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return run(args.har, args.json)


if __name__ == "__main__":
    sys.exit(main())
