"""The recorded session of the record and fidelity tests (tests/record, tests/fidelity), the
``recorded`` fixture that makes it once per test run and format, and the hand edits made to it.

One session: Alice reads her conversations and logs, calls John (answers), Maria (busy) and
Nora (never answers) in her three conversations, continues her three conversation logs
(John answers, Pierre declines, Maria is busy), and hangs up John's call. On a simulator it
stands in for a recording of a real server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ucwa_nb
from ucwa_nb import ExchangeLog, Scenario, Simulator
from ucwa_nb.protocol.representation import Format
from ucwa_nb.sim import scenarios

POLL_TIMEOUT = 5.0


def record(scenario: Scenario, password: str, fmt: Format = "json",
           poll_timeout: float = POLL_TIMEOUT) -> ExchangeLog:
    """Run the session on a simulator of ``scenario``; its log."""
    sim = Simulator(scenario)
    try:
        session = ucwa_nb.connect(sim.url, username="alice@contoso.com", password=password,
                                  operation_ids="sequential", format=fmt,
                                  poll_timeout=poll_timeout)
        try:
            conversations = session.conversations()
            logs = session.conversation_logs()
            calls = [session.add_phone_audio(conversations[0], to="sip:john@contoso.com"),
                     session.add_phone_audio(conversations[1], to="sip:maria@contoso.com"),
                     session.add_phone_audio(conversations[2], to="sip:nora@contoso.com")]
            calls += [session.continue_phone_audio(log) for log in logs]
            for call in calls:
                call.wait(timeout=10)
            if calls[0].status == "Success":
                # Hang up, and wait for the channel to tell of it before closing: otherwise
                # whether the last events make it into the log is a race with the close.
                told = _phone_audio_events(session.log)
                calls[0].stop()
                deadline = time.monotonic() + 10
                while _phone_audio_events(session.log) == told and time.monotonic() < deadline:
                    time.sleep(0.02)
        finally:
            session.close()
    finally:
        sim.stop()
    return session.log


def _phone_audio_events(log: ExchangeLog) -> int:
    df = log.df
    return int(((df.kind == "event") & (df.rel == "phoneAudio")).sum())


def save(har: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(har), "utf-8")
    return path


def edit_nora_declines(har: dict[str, Any]) -> None:
    """Nora's call ends Declined instead of Timeout (RemoteFailure/Declined)."""
    for event in har["log"]["_ucwaEvents"]:
        if event["type"] == "completed" and event["code"] == "Timeout":
            event["code"], event["subcode"] = "RemoteFailure", "Declined"
            body = json.loads(event["body"])
            edited = body["sender"][0]["events"][0]
            edited["reason"] = {"code": "RemoteFailure", "subcode": "Declined",
                                "message": "sip:nora@contoso.com declined the call."}
            edited["_embedded"]["phoneAudioInvitation"]["state"] = "Declined"
            event["body"] = json.dumps(body)


def edit_extra_link(har: dict[str, Any], rel: str = "photo") -> None:
    """The application's me shows a link the simulator never writes."""
    for entry in har["log"]["entries"]:
        if entry["request"]["method"] == "POST" and \
                entry["request"]["url"].endswith("/applications"):
            body = json.loads(entry["response"]["content"]["text"])
            me = body["_embedded"]["me"]
            me["_links"][rel] = {"href": me["_links"]["self"]["href"] + "/" + rel}
            entry["response"]["content"]["text"] = json.dumps(body)


def edit_poll_timeout(har: dict[str, Any], seconds: int) -> None:
    """Every event poll asked for (and was granted) ``seconds``."""
    for entry in har["log"]["entries"]:
        url = entry["request"]["url"]
        if "/events?" in url:
            entry["request"]["url"] = url.replace(f"timeout={int(POLL_TIMEOUT)}",
                                                  f"timeout={seconds}")
    for event in har["log"]["_ucwaEvents"]:
        event["url"] = event["url"].replace(f"timeout={int(POLL_TIMEOUT)}", f"timeout={seconds}")


Recorded = Callable[[Format], Path]


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """``recorded(fmt)``: the HAR of the session on the fast default world."""
    made: dict[str, Path] = {}

    def get(fmt: Format) -> Path:
        if fmt not in made:
            path = tmp_path_factory.mktemp("recorded") / f"simulator-{fmt}.har"
            record(scenarios.fast(), "ucwa-demo", fmt).to_har(path)
            made[fmt] = path
        return made[fmt]

    return get
