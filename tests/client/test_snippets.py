"""The curl and Python snippets of a PreparedCall (what the forms show) work when run.

Each snippet runs as a user would run it: curl in bash, the Python one in a subprocess, with
the token in ``UCWA_TOKEN``, against the simulator, in JSON and in XML; the answer is 201 with
a Location the session can read. curl is the system's (``apt-get install curl``): without it
the curl tests skip with a reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest
from support import JOHN, bearer_token, wait_for_parked_poll

from ucwa_nb import Conversation, Session, Simulator
from ucwa_nb.client.operations import PreparedCall
from ucwa_nb.protocol.representation import Format

SNIPPET_TIMEOUT = 30.0  # s; a snippet's POST takes milliseconds, the Python start-up ~1 s
# The body's quotes, a dollar and backquotes must reach the server as typed, not the shell.
AWKWARD_SUBJECT = "It's \"me\": $HOME `id` \\ done"


def _curl() -> str:
    found = shutil.which("curl")
    if found is None:
        reason = "curl is not installed (apt-get install -y curl)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the curl snippet cannot be run: {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def _environment(session: Session) -> dict[str, str]:
    # No proxy for 127.0.0.1, whatever the machine's settings say.
    env = {key: value for key, value in os.environ.items()
           if not key.lower().endswith("_proxy")}
    env["UCWA_TOKEN"] = bearer_token(session)
    return env


def _run(command: list[str], session: Session) -> str:
    result = subprocess.run(command, env=_environment(session), capture_output=True, text=True,
                            timeout=SNIPPET_TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _created(session: Session, status: int, location: str | None,
             prepared: PreparedCall) -> None:
    assert status == 201
    assert location is not None
    assert re.search(r"/phoneAudioInvitations/\d+$", location), location
    invitation = session.http_client.get(httpx.URL(prepared.url).join(location))
    assert invitation.status_code == 200
    assert prepared.operation_id in invitation.text


def _prepare(sim: Simulator, session: Session, conversations: list[Conversation], kind: str,
             fmt: Format) -> PreparedCall:
    wait_for_parked_poll(sim)  # else 500 CallbackChannelError, rightly
    if kind == "addPhoneAudio":  # what the addPhoneAudio form shows
        return session.prepare_add_phone_audio(conversations[0], to=JOHN, format=fmt)
    return session.prepare_start_phone_audio(JOHN, subject=AWKWARD_SUBJECT, format=fmt)


@pytest.mark.parametrize("kind", ["addPhoneAudio", "startPhoneAudio"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_curl_snippet_creates_the_call(sim: Simulator, session: Session,
                                           conversations: list[Conversation],
                                           fmt: Format, kind: str) -> None:
    curl = _curl()
    prepared = _prepare(sim, session, conversations, kind, fmt)
    assert prepared.problems == {}
    snippet = prepared.curl()
    assert '-H "Authorization: Bearer $UCWA_TOKEN"' in snippet
    output = _run(["bash", "-c", snippet.replace("curl ", f"{curl} -sS ", 1)], session)
    status = re.search(r"^HTTP/[\d.]+ (\d{3})", output, re.M)
    location = re.search(r"^location: (\S+)", output, re.M | re.I)
    assert status is not None, output
    _created(session, int(status.group(1)), location.group(1) if location else None, prepared)


@pytest.mark.parametrize("kind", ["addPhoneAudio", "startPhoneAudio"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_python_snippet_creates_the_call(sim: Simulator, session: Session,
                                             conversations: list[Conversation],
                                             fmt: Format, kind: str) -> None:
    prepared = _prepare(sim, session, conversations, kind, fmt)
    output = _run([sys.executable, "-c", prepared.python()], session)
    status, location = output.split()
    _created(session, int(status), location, prepared)


def test_the_subject_arrives_as_typed(sim: Simulator, session: Session,
                                      conversations: list[Conversation]) -> None:
    curl = _curl()
    prepared = _prepare(sim, session, conversations, "startPhoneAudio", "json")
    _run(["bash", "-c", prepared.curl().replace("curl ", f"{curl} -sS ", 1)], session)
    subjects = [c.subject for c in session.conversations()]
    assert AWKWARD_SUBJECT in subjects, subjects


def test_export_token_is_what_the_snippets_need(sim: Simulator, session: Session,
                                                conversations: list[Conversation],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ucwa_nb.client import export_token

    monkeypatch.delenv("UCWA_TOKEN", raising=False)
    said = export_token(session)
    token = bearer_token(session)
    assert token not in said  # where it went, never the token
    assert os.environ["UCWA_TOKEN"] == token
    prepared = _prepare(sim, session, conversations, "addPhoneAudio", "json")
    assert "export_token(session)" in prepared.curl().splitlines()[0]
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    result = subprocess.run([sys.executable, "-c", prepared.python()], env=env,
                            capture_output=True, text=True, timeout=SNIPPET_TIMEOUT, check=True)
    status, location = result.stdout.split()
    _created(session, int(status), location, prepared)


def test_the_python_snippet_without_a_token_says_how_to_get_one(
        session: Session, conversations: list[Conversation]) -> None:
    prepared = session.prepare_add_phone_audio(conversations[0], to=JOHN)
    env = {key: value for key, value in os.environ.items() if key != "UCWA_TOKEN"}
    result = subprocess.run([sys.executable, "-c", prepared.python()], env=env,
                            capture_output=True, text=True, timeout=SNIPPET_TIMEOUT, check=False)
    assert result.returncode == 1
    assert "KeyError" not in result.stderr
    assert "UCWA_TOKEN is not set: run ucwa_nb.client.export_token(session)" in result.stderr
