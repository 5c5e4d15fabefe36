"""Bring a real server home: a recording (a HAR, an ExchangeLog or its DataFrame) read as a
UCWA session, and turned into a scenario the simulator serves.

``scenario_from_har`` (``convert.py``) is the entry point; ``recording.py`` reads and checks
the input, ``ids.py`` finds the ids the server minted, ``world.py`` the users, contacts,
conversations, logs and behaviours, ``settings.py`` the server's observed settings,
``strict.py`` what the model does not cover, ``toml.py`` writes the scenario file and
``cli.py`` is ``ucwa-nb scenario-from-har``. Above ``log`` (it reads rows by column name)
and beside the client, which it never imports; it never imports the simulator either: it
writes the scenario's TOML shape, which the simulator's own loader reads.
"""

from __future__ import annotations

from ucwa_nb.record.convert import scenario_dict, scenario_from_har, write_scenario
from ucwa_nb.record.recording import Recording, RecordingError

__all__ = ["Recording", "RecordingError", "scenario_dict", "scenario_from_har", "write_scenario"]
