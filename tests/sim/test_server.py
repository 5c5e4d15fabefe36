"""Running the simulator: start/stop hygiene in one process, ports, and ``ucwa-nb serve``."""

from __future__ import annotations

import gc
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from support import drain_stopping, fast_scenario
from support.ucwa_http import new_client, sign_in

from ucwa_nb import Scenario, Simulator
from ucwa_nb.sim import SimulatorError

JOHN = "sip:john@contoso.com"


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _settle(expected_threads: int, expected_fds: int, timeout: float = 5.0) -> tuple[int, int]:
    """Thread and fd counts once they reach the expected values (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        gc.collect()
        threads, fds = threading.active_count(), _fds()
        if (threads <= expected_threads and fds <= expected_fds) or \
                time.monotonic() > deadline:
            return threads, fds
        time.sleep(0.05)


def _cycle(scenario: Scenario) -> None:
    """Start, sign in with a parked event poll, stop: the poll must get 503."""
    sim = Simulator(scenario)
    try:
        session = sign_in(sim)
        collector = session.collect(sim)
    finally:
        sim.stop()
    collector.join(5)
    assert collector.ended_with is not None
    assert collector.ended_with.startswith("503 ServiceUnavailable")
    session.close()
    assert not sim.running


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_twenty_start_stop_cycles_leak_no_thread_and_no_fd() -> None:
    drain_stopping()  # simulators of earlier tests still stopping in the background
    scenario = fast_scenario()
    _cycle(scenario)  # warm up: lazy imports, the selector, caches
    threads_before, fds_before = _settle(threading.active_count(), _fds())
    for _ in range(20):
        _cycle(scenario)
    threads_after, fds_after = _settle(threads_before, fds_before)
    assert threads_after == threads_before, [t.name for t in threading.enumerate()]
    assert fds_after == fds_before, sorted(os.listdir("/proc/self/fd"))


def test_stop_is_idempotent_and_the_context_manager_stops() -> None:
    with Simulator(fast_scenario()) as sim:
        assert sim.running
        assert sim.url == sim.base_url + "/autodiscover/autodiscoverservice.svc/root"
        assert sim.url.startswith("http://127.0.0.1:")
        assert sim.call(lambda: len(sim.world.users)) == 3
        assert "running" in repr(sim)
        with httpx.Client(timeout=5, trust_env=False) as client:
            assert client.get(sim.url).status_code == 200
    assert not sim.running
    assert "stopped" in repr(sim)
    sim.stop()  # a second stop is harmless
    with pytest.raises(SimulatorError):
        sim.call(lambda: None)
    with pytest.raises(SimulatorError):
        sim.inject_fault("addPhoneAudio", "Conflict")
    with httpx.Client(timeout=2, trust_env=False) as client, pytest.raises(httpx.ConnectError):
        client.get(sim.url)


def test_a_simulator_can_start_later_and_on_a_chosen_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sim = Simulator(fast_scenario(), port=port, start=False)
    try:
        assert not sim.running
        sim.start()
        assert sim.running
        assert sim.port == port
        assert f":{port}/" in sim.url
        with httpx.Client(timeout=5, trust_env=False) as client:
            assert client.get(sim.url).status_code == 200
    finally:
        sim.stop()


def test_a_port_in_use_raises_simulator_error() -> None:
    with Simulator(fast_scenario()) as first:
        with pytest.raises(SimulatorError, match=str(first.port)):
            Simulator(fast_scenario(), port=first.port)
        # The failed attempt did not disturb the first one.
        with httpx.Client(timeout=5, trust_env=False) as client:
            assert client.get(first.url).status_code == 200


def test_keep_alive_requests_are_answered_without_a_nagle_delay(shared_sim: Simulator) -> None:
    """Regression: the listening socket lacked IPPROTO_TCP, so asyncio never set TCP_NODELAY
    and every request after the first on a connection waited ~40 ms for a delayed ACK."""
    with new_client(shared_sim.base_url) as client:
        client.get(shared_sim.url)
        timings = []
        for _ in range(15):
            start = time.perf_counter()
            assert client.get(shared_sim.url).status_code == 200
            timings.append(time.perf_counter() - start)
    # With the bug every request took >= 40 ms; a loaded machine may slow a few down.
    assert sorted(timings)[3] < 0.025, timings


# ------------------------------------------------------------------------- ucwa-nb serve


def _command() -> list[str]:
    script = Path(sys.executable).with_name("ucwa-nb")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ucwa_nb.sim.cli"]


class _Output:
    """Reads a process's stdout in a thread so that waiting for a line can be bounded."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                match = re.search(pattern, line)
                if match:
                    return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r} in {self.lines}")
            try:
                received = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if received is None:
                raise AssertionError(f"the process ended without {pattern!r}: {self.lines}")
            self.lines.append(received)

    def rest(self, timeout: float = 5.0) -> str:
        self._thread.join(timeout)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_serve_prints_the_url_and_accounts_answers_and_stops_on_sigint() -> None:
    process = subprocess.Popen([*_command(), "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        output = _Output(process.stdout)
        url = output.wait_for(r"autodiscover root:\s+(http://127\.0\.0\.1:\d+/\S+)").group(1)
        # The banner may be on a projected screen: accounts, but no passwords by default.
        assert "ucwa-demo" not in output.wait_for(r"alice@contoso\.com.*").group(0)
        output.wait_for(r"--show-passwords")
        output.wait_for(r"Ctrl-C")
        port = int(url.split(":")[2].split("/")[0])
        assert port > 0
        server = SimpleNamespace(url=url, base_url=url.split("/autodiscover")[0])
        session = sign_in(server)
        collector = session.collect(poll_timeout=180.0)  # the default scenario's minimum
        # The channel is live once the first poll has arrived; a call proves it end to end.
        deadline = time.monotonic() + 10
        while True:
            response = session.add_phone_audio("Project sync", {"operationId": "cli",
                                                                 "to": JOHN})
            if response.status_code == 201 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert response.status_code == 201, response.text
        # The default scenario's ring delays: well under the wait.
        assert collector.wait_completed("cli", timeout=10).status == "Success"
        time.sleep(0.3)  # the collector's next poll is parked by now

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        collector.join(5)
        assert collector.ended_with is not None
        assert collector.ended_with.startswith("503")
        session.close()
        assert "Simulator stopped." in output.rest()
        assert process.stderr is not None
        stderr = process.stderr.read()
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_reports_a_bad_scenario_and_a_busy_port_without_a_traceback(
        tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[users]]\nuri = "sip:a@contoso.com"\npassword = "x"\n'
                    '[[contacts]]\nuri = "sip:b@contoso.com"\nbehaviour = "sings"\n', "utf-8")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # Both at once: each pays the interpreter's start-up time.
        runs = {
            "scenario": subprocess.Popen(
                [*_command(), "serve", "--port", "0", "--scenario", str(path)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            "port": subprocess.Popen([*_command(), "serve", "--port", str(port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        }
        results = {}
        try:
            for name, process in runs.items():
                _, stderr = process.communicate(timeout=60)
                results[name] = (process.returncode, stderr)
        finally:
            for process in runs.values():
                if process.poll() is None:
                    process.kill()
                    process.communicate(timeout=5)
    for code, stderr in results.values():
        assert code == 2
        assert "Traceback" not in stderr
    assert "contacts[0].behaviour" in results["scenario"][1]
    assert "cannot listen" in results["port"][1]
