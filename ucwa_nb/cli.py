"""The ``ucwa-nb`` command: ``serve`` (the simulator, ``ucwa_nb/sim/cli.py``) and ``explain``
(the doctor, ``ucwa_nb/doctor/cli.py``).

Here, above both layers, because the simulator may not import the log that the doctor's HAR
reading needs; ``ucwa-nb serve`` is handed to the simulator's own ``main`` unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ucwa_nb.doctor import cli as doctor_cli
from ucwa_nb.sim import cli as sim_cli

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ucwa-nb`` with ``argv`` (default: the command line); the exit status."""
    args = sim_cli.parser(doctor_cli.add_parser).parse_args(argv)
    if args.command == "explain":
        return doctor_cli.run(args.har, args.json)
    return sim_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
