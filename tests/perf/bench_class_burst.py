"""Benchmark: a whole class presses Run All at once (issue 25).

N attendees, each with an account of their own as the hub derives it (``[classroom]
hub_users``, the password an HMAC of the account under the class's seed), run the quick
start's flow at the same moment against one simulator in a child process: sign in, create
the application, open the event channel, one addPhoneAudio to John followed to its
completed event. Twice for each N, each time against a fresh simulator:

* **distinct addresses** (the baseline): attendee i connects from 127.1.x.y (Linux routes
  all of 127/8 to loopback), as on Kubernetes where each user's pod has an address of its
  own and the proxy forwards it;
* **one address**, as on a hub where every user's server reaches the simulator from one
  place (the hub host, or an untrusted proxy): all from 127.0.0.1.

Reported for each: all finished or not, failures by kind (the step and the error a learner
would see), the 429s waited out by the client (``session.pacing``), p50/p95 of the time from
the common start to the first completed call, the simulator's CPU per attendee (from
/proc), its peak memory (VmHWM). The load generator runs the attendees as threads of this
process, each with its own ``httpx.Client`` (and its own event channel thread), sharing one
SSL context (each would otherwise cost ~0.2 s of CPU, and the simulator speaks plain HTTP).

Run alone: ``python tests/perf/bench_class_burst.py [--sizes 50,100,200]``; the report
(``report.py``) runs it as its ``burst`` section.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import queue
import ssl
import statistics
import sys
import threading
import time
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import bench_simulator
import httpx

import ucwa_nb
from ucwa_nb import Session
from ucwa_nb.client import PacingWarning, UcwaError
from ucwa_nb.sim.classroom import attendee_password

SEED = "bench-class-burst-seed-0123456789"
DOMAIN = "contoso.com"
CALLEE = "sip:john@contoso.com"
ONE_ADDRESS = "127.0.0.1"
CALL_WAIT = 60.0  # a call's completed event later than this is a failure
BURST_LIMIT = 180.0  # one burst's deadline: the benchmark ends even if attendees hang
SIZES = (50, 100, 200)
AIM_SECONDS = 10.0  # issue 25: 200 attendees from one address, p95 under 10 s

Arrangement = Literal["distinct", "one"]
SSL_CONTEXT = ssl.create_default_context()


def scenario_data() -> dict[str, Any]:
    """The default scenario (the quick start's) with hub users, as ``ucwa-nb serve
    --jupyterhub`` runs it, and the class's seed."""
    text = resources.files("ucwa_nb.sim").joinpath("default.toml").read_text("utf-8")
    data = tomllib.loads(text)
    data["classroom"] = {"domain": DOMAIN, "hub_users": True, "password_seed": SEED}
    return data


def start_simulator() -> bench_simulator.ServerProcess:
    """The class's simulator, in a child process of its own."""
    return bench_simulator.start_child("simulator", bench_simulator.simulator_child,
                                       scenario_data(), None)


def peak_memory(server: bench_simulator.ServerProcess) -> int | None:
    """The server process's peak resident memory in bytes (VmHWM, Linux only)."""
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# --------------------------------------------------------------------------- attendees


def address(i: int, arrangement: Arrangement) -> str:
    return ONE_ADDRESS if arrangement == "one" else f"127.1.{i // 250}.{i % 250 + 1}"


@dataclass
class Attendee:
    """One attendee's run: when their call completed (seconds after the start), or the
    failure a learner would see (``step: error``)."""

    index: int
    done: float | None = None
    failure: str | None = None
    waits: int = 0
    session: Session | None = None
    client: httpx.Client | None = None


def _kind(exc: BaseException) -> str:
    if isinstance(exc, UcwaError):
        return f"{type(exc).__name__} {exc.status} {exc.code}"
    return type(exc).__name__


def _run_attendee(attendee: Attendee, url: str, arrangement: Arrangement,
                  go: threading.Event, started: list[float], poll_timeout: float) -> None:
    name = f"student{attendee.index:03d}"
    username = f"{name}@{DOMAIN}"
    password = attendee_password(SEED, f"sip:{username}")
    attendee.client = httpx.Client(
        transport=httpx.HTTPTransport(verify=SSL_CONTEXT,
                                      local_address=address(attendee.index, arrangement)),
        timeout=30.0, trust_env=False)
    go.wait()
    step = "sign-in"
    try:
        session = attendee.session = ucwa_nb.connect(
            url, username=username, password=password, http_client=attendee.client,
            poll_timeout=poll_timeout, timeout=60.0)
        attendee.waits = len(session.pacing.waits)
        step = "addPhoneAudio"
        call = session.add_phone_audio(session.conversations()[0], to=CALLEE)
        step = "call"
        call.wait(CALL_WAIT)
        if call.status != "Success":
            reason = call.reason.code if call.reason is not None else ""
            attendee.failure = f"call: {call.status or call.state} {reason}".strip()
            return
        attendee.done = time.monotonic() - started[0]
    except Exception as exc:  # every failure is a figure of the benchmark
        attendee.failure = f"{step}: {_kind(exc)}"


@dataclass
class BurstResult:
    """One burst: N attendees at once in one arrangement."""

    n: int
    arrangement: Arrangement
    attendees: list[Attendee]
    server_cpu: float | None
    peak_rss: int | None
    wall: float
    client_cpu: float = 0.0  # the load generator's, all its processes
    failures: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.failures = Counter(a.failure for a in self.attendees if a.failure)

    @property
    def finished(self) -> int:
        return sum(a.done is not None for a in self.attendees)

    @property
    def all_finished(self) -> bool:
        return self.finished == self.n and not self.failures

    @property
    def waited(self) -> int:
        return sum(a.waits for a in self.attendees)

    def percentile(self, q: int) -> float:
        times = sorted(a.done for a in self.attendees if a.done is not None)
        if not times:
            return float("nan")
        if len(times) == 1:
            return times[0]
        return statistics.quantiles(times, n=100, method="inclusive")[q - 1]

    @property
    def cpu_per_attendee(self) -> float | None:
        return self.server_cpu / self.n if self.server_cpu is not None else None


def _worker(indices: list[int], url: str, arrangement: Arrangement, poll_timeout: float,
            ready: Any, go: Any, release: Any, results: Any) -> None:
    """A process of the load generator: its attendees as threads, released by ``go``; their
    outcomes reported once all are done; their sessions closed on ``release``."""
    warnings.filterwarnings("ignore", category=PacingWarning)  # counted, not printed
    attendees = [Attendee(i) for i in indices]
    local_go = threading.Event()
    started = [0.0]
    with ThreadPoolExecutor(len(attendees), thread_name_prefix="attendee") as pool:
        futures = [pool.submit(_run_attendee, a, url, arrangement, local_go, started,
                               poll_timeout) for a in attendees]
        ready.release()
        go.wait()
        started[0] = go_time(go)
        cpu = time.process_time()
        local_go.set()
        deadline = started[0] + BURST_LIMIT
        for future in futures:
            with contextlib.suppress(TimeoutError):
                future.result(timeout=max(0.0, deadline - time.monotonic()))
        cpu = time.process_time() - cpu
        results.put((cpu, [(a.index, a.done, a.failure or (
            None if f.done() else "still running at the deadline"), a.waits)
            for a, f in zip(attendees, futures, strict=True)]))
        release.wait(BURST_LIMIT)
        _close_all(attendees)


def go_time(go: Any) -> float:
    """The common start (time.monotonic() is the same clock in every process on Linux)."""
    return float(go.at.value)


class _Go:
    """A start line for several processes: an event and the moment it was set."""

    def __init__(self, ctx: Any) -> None:
        self.event = ctx.Event()
        self.at = ctx.Value("d", 0.0)

    def wait(self, timeout: float | None = None) -> bool:
        return bool(self.event.wait(timeout))

    def set(self) -> None:
        self.at.value = time.monotonic()
        self.event.set()


def burst(n: int, arrangement: Arrangement, poll_timeout: float = 180.0,
          workers: int = 4) -> BurstResult:
    """N attendees at once against a fresh simulator in a child process, the attendees in
    ``workers`` processes of threads (one process of 200 threads measured its own GIL)."""
    server = start_simulator()
    ctx = multiprocessing.get_context("spawn")
    ready, go, release, results = ctx.Semaphore(0), _Go(ctx), ctx.Event(), ctx.Queue()
    workers = max(1, min(workers, n))
    processes = [ctx.Process(target=_worker, name=f"burst-load-{w}", daemon=True, args=(
        list(range(w, n, workers)), server.url, arrangement, poll_timeout, ready, go,
        release, results)) for w in range(workers)]
    attendees = [Attendee(i) for i in range(n)]
    try:
        for process in processes:
            process.start()
        for _ in processes:
            if not ready.acquire(timeout=bench_simulator.SERVER_START_TIMEOUT * 3):
                raise bench_simulator.BenchError("a load process did not start")
        time.sleep(0.5)  # every thread made its client and waits at the line
        cpu_before = server.cpu_seconds()
        go.set()
        reported = 0
        client_cpu = 0.0
        deadline = time.monotonic() + BURST_LIMIT + 30.0
        while reported < len(processes) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                cpu_used, outcomes = results.get(timeout=1.0)
                client_cpu += cpu_used
                for index, done, failure, waits in outcomes:
                    attendees[index] = Attendee(index, done, failure, waits)
                reported += 1
        wall = time.monotonic() - go_time(go)
        cpu_after = server.cpu_seconds()
        for attendee in attendees:
            if attendee.done is None and attendee.failure is None:
                attendee.failure = "no report from its load process"
        cpu = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None \
            else None
        result = BurstResult(n, arrangement, attendees, cpu, peak_memory(server), wall,
                             client_cpu)
    finally:
        release.set()
        for process in processes:
            process.join(30.0)
            if process.is_alive():
                process.kill()
                process.join(2.0)
        server.stop()
    return result


def _close_all(attendees: Sequence[Attendee]) -> None:
    def close(attendee: Attendee) -> None:
        if attendee.session is not None:
            attendee.session.close()
        if attendee.client is not None:
            attendee.client.close()

    with ThreadPoolExecutor(32, thread_name_prefix="closer") as pool:
        list(pool.map(close, attendees))


def run(sizes: Sequence[int] = SIZES, progress: Callable[[str], None] | None = None
        ) -> list[BurstResult]:
    """For each N, the baseline (distinct addresses) then one address."""
    results = []
    for n in sizes:
        for arrangement in ("distinct", "one"):
            result = burst(n, arrangement)
            results.append(result)
            if progress is not None:
                progress(describe(result))
    return results


# --------------------------------------------------------------------------- the report


def describe(result: BurstResult) -> str:
    where = "one address" if result.arrangement == "one" else f"{result.n} addresses"
    failures = ", ".join(f"{count} {kind}" for kind, count in result.failures.most_common())
    cpu = result.cpu_per_attendee
    rss = result.peak_rss
    return (f"{result.n} attendees from {where}: {result.finished}/{result.n} finished "
            f"in {result.wall:.1f} s; p50 {result.percentile(50):.2f} s, p95 "
            f"{result.percentile(95):.2f} s to the first completed call; failures: "
            f"{failures or 'none'}; 429s waited out: {result.waited}; simulator CPU "
            + (f"{cpu * 1000:.0f} ms" if cpu is not None else "n/a") + " per attendee, peak "
            + (f"{rss / 2**20:.0f} MB" if rss is not None else "n/a")
            + f"; load generator CPU {result.client_cpu / result.n * 1000:.0f} ms per attendee")


def report(results: Sequence[BurstResult]) -> str:
    return "\n".join(describe(r) for r in results)


def pairs(results: Sequence[BurstResult]) -> list[tuple[BurstResult, BurstResult]]:
    """(one address, distinct addresses) for each N, in order."""
    by = {(r.n, r.arrangement): r for r in results}
    return [(by[n, "one"], by[n, "distinct"]) for n in dict.fromkeys(r.n for r in results)
            if (n, "one") in by and (n, "distinct") in by]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="comma-separated class sizes (default 50,100,200)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with bench_simulator._sigterm_as_interrupt():
        results = run(sizes, progress=lambda line: print(line, flush=True))
    ok = all(r.all_finished for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
