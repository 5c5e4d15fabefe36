"""Import time of ``ucwa_nb`` against importing its three heavy dependencies.

Run:  python tests/perf/bench_import.py [--reps 7]

Each measurement is the wall time of a fresh interpreter, ``python -c <statement>``, so no
module is ever cached in the measuring process:

  python -c pass                                   the interpreter's own start-up
  python -c "import pandas, httpx, ipywidgets"     the baseline: what any notebook on this
                                                   stack pays anyway
  python -c "import ucwa_nb"                       the package (it imports the three above,
                                                   plus the simulator's starlette/uvicorn)

The three are interleaved, their order rotated each repetition, after one untimed warm-up
round (which fills the OS page cache). The ratios compare medians, both as measured (start-up
included) and net of the bare start-up. ``-X importtime`` is not used for the figures: it
slows every import by its own bookkeeping; ``--importtime`` prints its top entries for
``ucwa_nb`` once, for who wants to see where the time goes.

Importing this module has no side effects; everything starts from ``main()`` or ``run()``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATEMENTS = {
    "start-up": "pass",
    "deps": "import pandas, httpx, ipywidgets",
    "ucwa_nb": "import ucwa_nb",
}
LABELS = {
    "start-up": "python -c pass",
    "deps": "import pandas, httpx, ipywidgets",
    "ucwa_nb": "import ucwa_nb",
}


def _env() -> dict[str, str]:
    # Run from the repository root: ``-c`` puts the current directory first on sys.path, so
    # the package is this checkout's whether or not the venv installed it (editable).
    return {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}


def time_statement(statement: str, python: str = sys.executable) -> float:
    """Wall seconds of ``python -c statement`` in a fresh process (fails loudly)."""
    began = time.perf_counter()
    done = subprocess.run([python, "-c", statement], cwd=REPO, env=_env(),
                          capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"python -c {statement!r} failed: "
                           f"{done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def run(reps: int = 7, python: str = sys.executable) -> dict[str, list[float]]:
    """Seconds per kind (keys of STATEMENTS), one value per repetition, interleaved."""
    kinds = list(STATEMENTS)
    for kind in kinds:  # warm-up: page cache, .pyc files
        time_statement(STATEMENTS[kind], python)
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    for rep in range(reps):
        for k in range(len(kinds)):
            kind = kinds[(rep + k) % len(kinds)]
            samples[kind].append(time_statement(STATEMENTS[kind], python))
    return samples


def summarize(samples: dict[str, list[float]]) -> dict[str, float]:
    """Medians in seconds, plus the ratios ``ratio`` (as measured) and ``net_ratio``."""
    med = {kind: statistics.median(values) for kind, values in samples.items()}
    start = med["start-up"]
    net_deps = med["deps"] - start
    return med | {
        "ratio": med["ucwa_nb"] / med["deps"],
        "net_ratio": (med["ucwa_nb"] - start) / net_deps if net_deps > 0 else float("nan"),
    }


def report(samples: dict[str, list[float]]) -> str:
    s = summarize(samples)
    reps = len(samples["ucwa_nb"])
    lines = [
        f"import time, fresh interpreter each time, {reps} interleaved repetitions (medians)",
        "",
        f"{'python -c ...':<40}{'median ms':>10}{'min ms':>9}{'max ms':>9}",
    ]
    for kind in STATEMENTS:
        values = samples[kind]
        lines.append(f"{LABELS[kind]:<40}{s[kind] * 1e3:>10.0f}{min(values) * 1e3:>9.0f}"
                     f"{max(values) * 1e3:>9.0f}")
    lines += [
        "",
        f"import ucwa_nb / import pandas, httpx, ipywidgets:  {s['ratio']:.2f}  (start-up "
        "included)",
        f"the same, net of the interpreter's start-up:        {s['net_ratio']:.2f}",
    ]
    return "\n".join(lines)


def importtime_top(n: int = 15, python: str = sys.executable) -> str:
    """The ``n`` biggest cumulative entries of ``python -X importtime -c 'import ucwa_nb'``."""
    done = subprocess.run([python, "-X", "importtime", "-c", "import ucwa_nb"], cwd=REPO,
                          env=_env(), capture_output=True, text=True, check=True)
    entries: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            entries.append((int(parts[1]), parts[2].rstrip()))
    entries.sort(reverse=True)
    return "\n".join(f"{us / 1000:8.1f} ms {name}" for us, name in entries[:n])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=7, help="repetitions of each (7)")
    parser.add_argument("--importtime", action="store_true",
                        help="also print the top of -X importtime for import ucwa_nb")
    args = parser.parse_args(argv)
    print(report(run(args.reps)))
    if args.importtime:
        print("\n-X importtime, cumulative (one run; the tool's own overhead included):")
        print(importtime_top())
    return 0


if __name__ == "__main__":
    sys.exit(main())
