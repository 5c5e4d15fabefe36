"""Wall time of the notebook suite under nbval, against as many trivial notebooks.

Run:  python tests/perf/bench_notebooks.py [--reps 2]

Both are run the same way, in a fresh subprocess, from the repository root and with its
pytest configuration (``-c pyproject.toml``), i.e. the way the default test run checks them:

  pytest --nbval-lax --nbval-current-env <dir> -p no:cacheprovider -o addopts= -q -rf

  suite      <dir> = notebooks/: every notebook top to bottom on a fresh kernel.
  baseline   <dir> = a temporary directory holding one trivial notebook (a single cell,
             ``1 + 1``) per notebook of the suite: the same pytest start-up and the same
             number of kernel start-ups and shut-downs, and nothing else.

So the ratio suite / baseline says how much the notebooks' own content costs on top of the
fixed price of running any notebook under nbval; the difference of the medians is that
content's time. The two alternate (``--reps`` times each), and the table shows medians.

Importing this module has no side effects; everything starts from ``main()`` or ``run()``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
TIMEOUT = 900.0  # seconds for one pytest run: a hung kernel must not hang the report

TRIVIAL: dict[str, object] = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "trivial0",
               "metadata": {}, "outputs": [], "source": ["1 + 1"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"},
                 "language_info": {"name": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@dataclass
class PytestRun:
    kind: str  # "suite" or "baseline"
    seconds: float
    returncode: int
    summary: str  # pytest's last line, e.g. "159 passed in 33.35s"
    failed: list[str] = field(default_factory=list)  # node ids of failed cells (-rf)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def command(path: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", "pytest", "--nbval-lax", "--nbval-current-env", str(path),
            "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rf",
            "-c", str(REPO / "pyproject.toml"), "--rootdir", str(path)]


def run_pytest(kind: str, path: Path, python: str = sys.executable) -> PytestRun:
    began = time.perf_counter()
    try:
        done = subprocess.run(command(path, python), cwd=REPO, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return PytestRun(kind, time.perf_counter() - began, -1, f"timed out after {TIMEOUT:g} s")
    elapsed = time.perf_counter() - began
    plain = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)  # nbval colours its messages
    lines = [line for line in plain.splitlines() if line.strip()]
    summary = re.sub(r"=+", "", lines[-1]).strip() if lines else done.stderr[-300:]
    failed = [line.removeprefix("FAILED ").split(" - ")[0] for line in lines
              if line.startswith("FAILED ")]
    return PytestRun(kind, elapsed, done.returncode, summary, failed)


def write_trivial(directory: Path, count: int) -> None:
    for i in range(count):
        (directory / f"trivial_{i:02d}.ipynb").write_text(json.dumps(TRIVIAL, indent=1))


def run(reps: int = 2, notebooks: Path = NOTEBOOKS,
        python: str = sys.executable) -> dict[str, list[PytestRun]]:
    """``reps`` runs of the suite and of the baseline, alternating which goes first."""
    count = len(sorted(notebooks.glob("*.ipynb")))
    if not count:
        raise RuntimeError(f"no notebook in {notebooks}")
    runs: dict[str, list[PytestRun]] = {"suite": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="ucwa-nb-trivial-") as tmp:
        trivial = Path(tmp)
        write_trivial(trivial, count)
        targets = {"suite": notebooks, "baseline": trivial}
        for rep in range(reps):
            order = ("baseline", "suite") if rep % 2 == 0 else ("suite", "baseline")
            for kind in order:
                runs[kind].append(run_pytest(kind, targets[kind], python))
    return runs


def summarize(runs: dict[str, list[PytestRun]]) -> dict[str, float]:
    """Median seconds of each, their ratio, and how many runs failed."""
    suite = statistics.median(r.seconds for r in runs["suite"])
    base = statistics.median(r.seconds for r in runs["baseline"])
    return {"suite": suite, "baseline": base, "ratio": suite / base,
            "failed_runs": float(sum(not r.ok for rs in runs.values() for r in rs))}


def report(runs: dict[str, list[PytestRun]], notebooks: Path = NOTEBOOKS) -> str:
    s = summarize(runs)
    count = len(sorted(notebooks.glob("*.ipynb")))
    lines = [
        f"notebook suite under nbval: {notebooks.name}/ ({count} notebooks) against {count} "
        f"trivial one-cell notebooks, {len(runs['suite'])} alternating runs each (medians)",
        "",
        f"{'':<10}{'median s':>9}  runs (s)        pytest said",
    ]
    for kind in ("baseline", "suite"):
        median = s[kind]
        each = " ".join(f"{r.seconds:.1f}" for r in runs[kind])
        lines.append(f"{kind:<10}{median:>9.1f}  {each:<15} {runs[kind][-1].summary}")
    lines += [
        "",
        f"suite / baseline: {s['ratio']:.2f}  (the notebooks' own content: "
        f"{s['suite'] - s['baseline']:.1f} s)",
    ]
    if s["failed_runs"]:
        lines.append(f"WARNING: {s['failed_runs']:.0f} pytest run(s) failed")
        for kind in ("baseline", "suite"):
            cells = dict.fromkeys(node for r in runs[kind] for node in r.failed)
            lines += [f"  {kind} failed: {node}" for node in cells]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=2, help="runs of each (2)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                        help="the directory of notebooks to time (notebooks/)")
    args = parser.parse_args(argv)
    runs = run(args.reps, args.notebooks)
    print(report(runs, args.notebooks))
    return 0 if all(r.ok for rs in runs.values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
