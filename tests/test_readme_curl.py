"""The README's "UCWA with curl" walk-through works as written.

Its bash block runs against ``ucwa-nb serve`` (on a free loopback port instead of 8080), in
bash with the system's curl and jq: a token, an application, the event poll in the
background, addPhoneAudio answered 201 with a Location, the call's events to completed
Success, the hang-up and the application deleted; then the same script again, in the same
directory against the same simulator, with the same result (it used to fail silently the
second time). A step whose link is missing stops the script with a message that says so.
Run without step 3 (the background poll), the POST gets the 500 CallbackChannelError the
walk-through warns about, and the script stops there. Without bash, curl or jq the tests
skip with a reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
README = REPOSITORY / "README.md"
START_TIMEOUT = 30.0  # s until `ucwa-nb serve` prints its address (about 1 s idle)
SCRIPT_TIMEOUT = 60.0  # s for the whole walk-through (about 2 s, 1 of them sleeping)
README_ADDRESS = "UCWA=http://127.0.0.1:8080"


def _tools() -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        reason = f"the README's curl walk-through needs {', '.join(missing)} (apt-get install)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


def walk_through() -> str:
    """The bash block of the README's "UCWA with curl" section."""
    text = README.read_text("utf-8")
    section = text.split("\n## UCWA with curl\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match is not None, "no bash block in the README's UCWA with curl section"
    return match.group(1)


@pytest.fixture
def simulator_url() -> Iterator[str]:
    """``ucwa-nb serve --port 0`` (a free port on 127.0.0.1), stopped with Ctrl-C (SIGINT)."""
    _tools()
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ucwa_nb.sim.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        stdin=subprocess.DEVNULL)
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:  # the pipe is read to its end, so the server never blocks on it
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"autodiscover root: (http://127\.0\.0\.1:\d+)/", line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(START_TIMEOUT)
        assert found, f"ucwa-nb serve printed no address within {START_TIMEOUT:.0f} s"
        yield found[0]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=10)


def _run(script: str, base: str, cwd: Path) -> str:
    """Run ``script`` with the simulator at ``base``; its output (stdout and stderr).

    In a process group of its own, into a file rather than a pipe: ``kill %1`` stops the poll
    loop but not the long poll it has in flight, which would hold a pipe open for minutes.
    What is left of the group is killed at the end.
    """
    assert README_ADDRESS in script
    script = script.replace(README_ADDRESS, f"UCWA={base}", 1)
    env = {key: value for key, value in os.environ.items()
           if not key.lower().endswith("_proxy")}  # loopback: no proxy, whatever is set
    log = cwd / "output.txt"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            process.wait(timeout=SCRIPT_TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return log.read_text("utf-8", errors="replace")


EVENTS = ['["started",null,"Connecting"]', '["updated",null,"Connecting"]',
          '["updated",null,"Alerting"]', '["completed","Success","Connected"]']


def _made_a_call(output: str) -> None:
    assert "HTTP/1.1 201 Created" in output, output
    assert re.search(r"^location: /\S+/phoneAudioInvitations/\d+\r?$", output, re.M | re.I)
    assert re.findall(r'^\["\w+",.*\]$', output, re.M) == EVENTS, output
    assert output.rstrip().endswith("hung up; application deleted"), output


@pytest.mark.slow  # over 1.5 s: in the full run, not the fast inner loop
def test_the_walk_through_makes_a_call_twice_in_a_row(simulator_url: str,
                                                       tmp_path: Path) -> None:
    script = walk_through()
    first = _run(script, simulator_url, tmp_path)
    _made_a_call(first)
    second = _run(script, simulator_url, tmp_path)  # same directory: events.json is there
    _made_a_call(second)


def test_a_missing_link_stops_the_walk_through_and_says_which(
        simulator_url: str, tmp_path: Path) -> None:
    # As when a call is still connected: phoneAudio offers no addPhoneAudio link. Before,
    # curl posted to "$UCWA"null and -s hid it.
    script = walk_through().replace("._links.addPhoneAudio.href", "._links.notOffered.href")
    output = _run(script, simulator_url, tmp_path)
    assert "no ._links.notOffered.href here: phone audio is not Disconnected" in output, output
    assert "HTTP/1.1" not in output
    assert "hung up" not in output


def test_without_the_background_poll_the_post_gets_callback_channel_error(
        simulator_url: str, tmp_path: Path) -> None:
    script = walk_through()
    step3, step4 = script.index("\n# 3. "), script.index("\n# 4. ")
    output = _run(script[:step3] + script[step4:], simulator_url, tmp_path)
    assert "HTTP/1.1 500 Internal Server Error" in output, output
    assert "CallbackChannelError" in output
    assert "hung up" not in output  # the script stopped at the failed POST
