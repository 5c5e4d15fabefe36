"""Smoke test of the benchmark report's machinery (``tests/perf/report.py``), not a timed test.

The expensive benchmarks (simulator, import, notebooks, and the call benchmark's child
process) are replaced by canned results made of their own result types, so that their
``summarize()`` and the report's row building and table run for real; the log benchmark runs
for real at a tiny size, and the call benchmark once against an in-process simulator. The
assertions are about the table's shape and arithmetic, never about a figure of this machine.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import bench_call
import bench_class_burst
import bench_import
import bench_notebooks
import bench_simulator
import pytest
import report

COLUMNS = ["what", "measured", "baseline", "ratio", "aim", "mark"]
# Rows per section, in the order of report.SECTIONS.
ROWS = {"simulator": 5, "call": 6, "log": 3, "import": 2, "notebooks": 1, "burst": 3}
MARKS = {"pass", "MISS", report.DASH, "error"}


def _round(kind: bench_simulator.ServerKind, calls: int, latency_ms: float
           ) -> bench_simulator.RoundResult:
    result = bench_simulator.RoundResult(kind, seconds=2.0, calls=calls, requests=5 * calls,
                                         server_cpu=calls * 0.002, client_cpu=calls * 0.004)
    result.latencies = [latency_ms / 1000 * (1 + i / calls) for i in range(calls)]
    return result


def fake_simulator(*args: Any, **kwargs: Any) -> list[bench_simulator.RoundResult]:
    # The simulator does half the bare server's calls/s at twice its latency.
    return [_round("baseline", 200, 5.0), _round("simulator", 100, 10.0)]


def fake_call(*args: Any, **kwargs: Any) -> dict[str, list[float]]:
    medians = {"raw POST": 2.0, "raw GET + POST": 4.0, "add_phone_audio": 4.2,
               "PreparedCall.send()": 2.4}
    return {kind: [m * 0.9, m, m * 1.1] for kind, m in medians.items()}


def fake_import(*args: Any, **kwargs: Any) -> dict[str, list[float]]:
    return {"start-up": [0.02, 0.02], "deps": [0.52, 0.52], "ucwa_nb": [0.62, 0.62]}


def fake_notebooks(*args: Any, **kwargs: Any) -> dict[str, list[bench_notebooks.PytestRun]]:
    return {"suite": [bench_notebooks.PytestRun("suite", 30.0, 0, "9 passed in 25s")],
            "baseline": [bench_notebooks.PytestRun("baseline", 10.0, 0, "2 passed in 5s")]}


def _burst(n: int, arrangement: bench_class_burst.Arrangement, seconds: float,
           failed: int = 0) -> bench_class_burst.BurstResult:
    attendees = [bench_class_burst.Attendee(i, seconds * (1 + i / n)) for i in range(n)]
    for attendee in attendees[:failed]:
        attendee.done, attendee.failure = None, "sign-in: ConnectError"
    return bench_class_burst.BurstResult(n, arrangement, attendees, n * 0.01, 100 * 2**20,
                                         seconds * 2, n * 0.03)


def fake_burst(sizes: Any, *args: Any, **kwargs: Any) -> list[bench_class_burst.BurstResult]:
    # One address takes 1.5 times as long as distinct addresses, and one attendee fails.
    return [result for n in sizes for result in (
        _burst(n, "distinct", 2.0), _burst(n, "one", 3.0, failed=1))]


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> report.Sizes:
    for name in ("a.ipynb", "b.ipynb"):  # the notebook count is read from the directory
        (tmp_path / name).write_text("{}")
    monkeypatch.setattr(bench_simulator, "run", fake_simulator)
    monkeypatch.setattr(bench_call, "run", fake_call)
    monkeypatch.setattr(bench_import, "run", fake_import)
    monkeypatch.setattr(bench_notebooks, "run", fake_notebooks)
    monkeypatch.setattr(bench_class_burst, "run", fake_burst)
    return replace(report.QUICK, name="tiny", log_rows=400, log_reps=1, notebooks=tmp_path)


def table_of(text: str) -> list[list[str]]:
    """The one markdown table of the report, as rows of stripped cells."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines)
              if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))]
    assert len(starts) == 1, "exactly one table"
    block = []
    for line in lines[starts[0]:]:
        if not line.startswith("|"):
            break
        block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return block


def test_the_report_is_one_table_with_a_row_per_figure(tiny: report.Sizes) -> None:
    quiet: list[str] = []
    result = report.collect(tiny, progress=quiet.append)
    text = report.render(result)

    assert re.match(r"## Benchmark report, \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$",
                    text.splitlines()[0])
    machine = next(line for line in text.splitlines() if line.startswith("Machine: "))
    assert "CPUs" in machine
    assert "Python" in machine
    table = table_of(text)
    assert table[0] == COLUMNS
    assert all(set(cell) <= set("-:") for cell in table[1])
    body = table[2:]
    assert len(body) == sum(ROWS.values())
    assert all(len(row) == len(COLUMNS) for row in body)
    assert all(re.fullmatch(r"\*\*\d[\d.e+-]*\*\*", row[3]) for row in body), body
    assert {row[5] for row in body} <= MARKS
    assert result.ok
    # Sections in order, each with its note; the aims stated by issues are on their rows.
    assert [row.section for row in result.rows] == [
        name for name in report.SECTIONS for _ in range(ROWS[name])]
    assert len(result.notes) == len(report.SECTIONS)
    aims = {row.what: row.aim for row in result.rows if row.aim != report.DASH}
    assert sorted(aims.values()) == sorted(
        ["≥ 0.50", "≥ 0.50", "< 50 ms (absolute)", "≤ 1.10", "≤ 1.10", "≤ 1.10", "≤ 1.10",
         "≤ 2.00",
         "not a rebuild (< 0.10)", "all finish, no failure", "< 400 MB (absolute)"])
    assert all(row.passed is not None for row in result.rows if row.aim != report.DASH)
    # Ratios are measured / baseline, from the canned medians.
    by_what = {row.what: row for row in result.rows}
    throughput = next(r for w, r in by_what.items() if w.startswith("simulator throughput"))
    assert throughput.ratio == pytest.approx(0.5)
    assert throughput.mark == "pass"
    p50 = next(r for w, r in by_what.items() if w.startswith("simulator latency p50"))
    assert p50.ratio == pytest.approx(2.0, rel=0.05)
    send = next(r for w, r in by_what.items() if "PreparedCall.send()" in w)
    assert send.ratio == pytest.approx(1.2)
    assert send.mark == "MISS"
    imports = [r for r in result.rows if r.section == "import"]
    assert imports[0].ratio == pytest.approx(0.62 / 0.52)
    assert imports[1].ratio == pytest.approx(0.60 / 0.50)
    assert by_what[next(w for w in by_what if w.startswith("notebook suite"))].ratio == 3.0
    bursts = [r for r in result.rows if r.section == "burst"]
    assert bursts[0].ratio == pytest.approx(1.5, rel=0.05)
    assert bursts[0].mark == "MISS"  # one attendee failed
    assert "(49/50, 1 failed)" in bursts[0].measured
    assert bursts[1].ratio == pytest.approx(1.0)  # CPU per attendee
    assert bursts[2].mark == "pass"  # 100 MB
    # Every section reported its progress and its own detailed report.
    assert set(result.details) == set(report.SECTIONS)
    assert len([m for m in quiet if m.endswith("...")]) == len(report.SECTIONS)


def test_a_failing_benchmark_gives_an_error_row_and_the_others_still_run(
        tiny: report.Sizes, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the simulator process did not start")

    monkeypatch.setattr(bench_simulator, "run", broken)
    result = report.collect(tiny, ["simulator", "import"], progress=lambda _: None)
    assert not result.ok
    assert result.rows[0].mark == "error"
    assert [row.section for row in result.rows] == ["simulator", "import", "import"]
    text = report.render(result)
    assert len(table_of(text)) == 2 + 3
    assert "RuntimeError: the simulator process did not start" in text


def test_a_failed_notebook_run_is_an_error(tiny: report.Sizes,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any, **kwargs: Any) -> dict[str, list[bench_notebooks.PytestRun]]:
        runs = fake_notebooks()
        for _ in range(2):
            runs["suite"].append(bench_notebooks.PytestRun(
                "suite", 31.0, 1, "1 failed, 8 passed in 30s", ["nb.ipynb::Cell 3"]))
        return runs

    monkeypatch.setattr(bench_notebooks, "run", failing)
    result = report.collect(tiny, ["notebooks"], progress=lambda _: None)
    assert [row.mark for row in result.rows] == ["error"]
    assert result.rows[0].error == ("suite: 2 of 3 runs failed (last: 1 failed, 8 passed in "
                                    "30s); failing cells: nb.ipynb::Cell 3")
    assert result.rows[0].ratio == pytest.approx(31.0 / 10.0)  # still measured


def test_main_prints_the_table_on_stdout_and_progress_on_stderr(
        tiny: report.Sizes, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(report, "QUICK", tiny)
    assert report.main(["--quick", "--only", "import,notebooks", "--notebooks",
                        str(tiny.notebooks)]) == 0
    out, err = capsys.readouterr()
    assert len(table_of(out)) == 2 + ROWS["import"] + ROWS["notebooks"]
    assert "[1/2] import" in err
    assert "[1/2]" not in out
    with pytest.raises(SystemExit):
        report.main(["--only", "nonsense"])


def test_the_call_benchmark_runs_and_summarizes() -> None:
    """The one real benchmark run here: a few calls against an in-process simulator, so that
    a change of the client's API breaks this test rather than the next report."""
    samples = bench_call.run(2, 1, in_thread=True)
    assert {kind: len(values) for kind, values in samples.items()} == {
        kind: 2 for kind in bench_call.KINDS}
    rows = report.call_rows(bench_call.summarize(samples), "in-process")
    assert len(rows) == ROWS["call"] // 2  # one arrangement
    assert all(row.ratio > 0 for row in rows)


def test_a_ratio_that_rounds_to_its_aim_shows_one_more_digit() -> None:
    def cell(ratio: float, aim: str = "≤ 1.10") -> str:
        row = report.Row("call", "x", "1 ms", "1 ms", ratio, aim, ratio <= 1.10)
        return report.table([row])[2].split("|")[4].strip()

    assert cell(1.104) == "**1.104**"
    assert cell(1.096) == "**1.096**"
    assert cell(1.2) == "**1.20**"
    assert cell(0.0042, "not a rebuild (< 0.10)") == "**0.004**"


def test_the_largest_class_has_the_absolute_aim() -> None:
    results = fake_burst([50, 200])
    rows = report.burst_rows(results)
    assert [r.aim for r in rows[:2]] == ["all finish, no failure",
                                         "all finish, no failure, p95 < 10 s (absolute)"]
    assert "200 from one address" in rows[2].what
    fine = [bench_class_burst.BurstResult(200, kind, [
        bench_class_burst.Attendee(i, 3.0) for i in range(200)], 2.0, 2**27, 5.0)
        for kind in ("distinct", "one")]
    assert report.burst_rows(fine)[0].mark == "pass"
