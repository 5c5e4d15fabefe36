"""``scenario_from_har``: a recording turned into a scenario the simulator serves.

Not stubs: the recording's users, conversations, logs and callees become the scenario's
world, each callee's events its behaviour, the server's observed settings the scenario's
``[server]``; the simulator's own rules then mint ids, acks, resyncs and expiries, so a
client that asks in another order than the recording still works (stub replay, WireMock,
VCR.py or mitmproxy's server replay, cannot follow server-minted links on a long-poll event
channel). ``strict=True`` also keeps what the model does not cover (``strict.py``).

Secrets never enter the scenario: the recording is read through the log, which redacts them
on the way in, and the user's password is the ``password`` given (no recording holds it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

from ucwa_nb.record.calls import calls_of
from ucwa_nb.record.ids import IdMap
from ucwa_nb.record.recording import Recording, Source
from ucwa_nb.record.settings import observed_settings
from ucwa_nb.record.strict import strict_of
from ucwa_nb.record.toml import dumps
from ucwa_nb.record.world import world_of

__all__ = ["REPLAY_PASSWORD", "scenario_dict", "scenario_from_har", "write_scenario"]

# The replayed user's password: a recording never holds the real one (it is redacted).
REPLAY_PASSWORD = "ucwa-replay"
_NOTES = "_notes"  # not a scenario key: what the conversion noticed, written as comments


def scenario_from_har(source: Source, *, strict: bool = False, name: str | None = None,
                      password: str = REPLAY_PASSWORD) -> dict[str, Any]:
    """The scenario (the dict ``scenario_from_dict`` reads) that ``source`` shows: a HAR
    path, an ``ExchangeLog`` or its DataFrame. Raises ``RecordingError`` naming what is
    missing when ``source`` is not a session on one UCWA server.

    The dict's ``"_notes"`` lists what could not be carried (``write_scenario`` writes them
    as comments and leaves the key out); drop it before ``scenario_from_dict``, or use
    ``scenario_dict``.
    """
    recording = Recording(source)
    ids = IdMap(recording)
    calls = calls_of(recording)
    world = world_of(recording, ids, calls, password)
    data: dict[str, Any] = {
        "name": name or f"recorded from {recording.server}",
        "server": observed_settings(recording, world.ring_timeout),
        "users": [world.user],
        "contacts": world.contacts,
    }
    if world.phones:
        data["phones"] = world.phones
    if strict:
        data["strict"] = strict_of(recording, ids)
    data[_NOTES] = world.notes
    return data


def scenario_dict(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the conversion's notes: what ``scenario_from_dict`` takes."""
    return {key: value for key, value in data.items() if key != _NOTES}


def write_scenario(data: dict[str, Any], path: str | PathLike[str]) -> Path:
    """Write a ``scenario_from_har`` result as a TOML scenario file; returns its path."""
    notes = [str(note) for note in data.get(_NOTES, [])]
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    header = "\n".join([
        f"Written by ucwa-nb scenario-from-har on {stamp}: the world, behaviours and",
        "settings a recording showed. Serve it with: ucwa-nb serve --scenario THIS_FILE",
        *(["", "Not carried over:"] + [f"- {note}" for note in notes] if notes else []),
    ])
    target = Path(path)
    target.write_text(dumps(scenario_dict(data), header), encoding="utf-8")
    return target
